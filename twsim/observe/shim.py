"""The environment that sends an unmodified app's Twilio SDK traffic to a gateway.

Neither twilio-python nor twilio-node reads a base URL from the environment, so twsim
ships shims (`twsim/data/shims/`) that the app's interpreter loads at startup: a
`sitecustomize` found through PYTHONPATH and a preload named in NODE_OPTIONS. Both read
TWSIM_GATEWAY_URL. The variables here are what `twsim exec`, `twsim env` and the pytest
plugin give an app; each says how it combines with a value the app already has.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from twsim.config.models import AccountConfig
from twsim.config.shipped import shim_path

GATEWAY_VARIABLE = "TWSIM_GATEWAY_URL"
# Reached directly, never through a proxy: the gateway on loopback, and Twilio's own
# domains, so that a proxy-aware library meets the shim's refusal instead of a tunnel.
DIRECT_HOSTS = ("127.0.0.1", "localhost", "::1", ".twilio.com", ".twil.io")


class Combine(StrEnum):
    """How a variable's value joins the one already set."""

    REPLACE = "replace"
    PATH_FIRST = "path-first"  # a search path: ours first (os.pathsep)
    OPTION = "option"  # appended to space-separated options (NODE_OPTIONS)
    LIST = "list"  # appended to a comma-separated list (NO_PROXY)
    DEFAULT = "default"  # only when unset or empty


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    value: str
    combine: Combine

    def applied(self, current: str | None) -> str:
        """The value once combined with `current` (the app's own, or None)."""
        if not current:
            return self.value
        if self.combine is Combine.PATH_FIRST:
            return self.value + os.pathsep + current
        if self.combine is Combine.OPTION:
            return current + " " + self.value
        if self.combine is Combine.LIST:
            return current + "," + self.value
        if self.combine is Combine.DEFAULT:
            return current
        return self.value


def node_require(path: str) -> str:
    """`--require "PATH"` as NODE_OPTIONS reads it (double quotes, backslash escapes)."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{escaped}"'


def shim_variables(gateway_url: str, account: AccountConfig) -> list[Variable]:
    """What an app needs to reach the gateway at `gateway_url` through the shims."""
    return [
        Variable(GATEWAY_VARIABLE, gateway_url.rstrip("/"), Combine.REPLACE),
        Variable("PYTHONPATH", str(shim_path("python")), Combine.PATH_FIRST),
        Variable("NODE_OPTIONS", node_require(str(shim_path("node"))), Combine.OPTION),
        Variable("TWILIO_ACCOUNT_SID", account.sid, Combine.DEFAULT),
        Variable("TWILIO_AUTH_TOKEN", account.auth_token, Combine.DEFAULT),
        Variable("NO_PROXY", ",".join(DIRECT_HOSTS), Combine.LIST),
        Variable("no_proxy", ",".join(DIRECT_HOSTS), Combine.LIST),
    ]


def shim_environment(
    gateway_url: str, account: AccountConfig, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (default: this process's environment) with the shim variables applied."""
    env = dict(os.environ if base is None else base)
    for variable in shim_variables(gateway_url, account):
        env[variable.name] = variable.applied(env.get(variable.name))
    return env
