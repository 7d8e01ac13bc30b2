"""Twilio's webhook connection settings and the URL-fragment overrides that change them.

A webhook URL may end in a fragment such as ``#ct=2000&rt=5000&tt=8000&rc=3&rp=all``:
connect timeout, read timeout and total time in milliseconds, retry count, and which
failures are retried. The fragment is never sent to the app and never signed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from twsim.core.errors import WebhookError

# Failure kinds a retry policy can name.
CONNECT = "ct"
READ = "rt"
CLIENT_ERROR = "4xx"
SERVER_ERROR = "5xx"
_POLICY_WORDS = frozenset({CONNECT, READ, CLIENT_ERROR, SERVER_ERROR, "all"})
_ALL = frozenset({CONNECT, READ, CLIENT_ERROR, SERVER_ERROR})


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Timeouts in seconds, the retry count, and the failure kinds that are retried."""

    connect_s: float = 5.0
    read_s: float = 15.0
    total_s: float = 15.0
    retries: int = 1
    retry_on: frozenset[str] = frozenset({CONNECT})

    def retries_failure(self, kind: str) -> bool:
        return kind in self.retry_on


def default_settings(
    connect_timeout_s: float, total_timeout_s: float, retries: int
) -> ConnectionSettings:
    """Twilio's defaults: the connect budget is split over the attempts (two 5 s tries = 10 s)."""
    return ConnectionSettings(
        connect_s=connect_timeout_s / (retries + 1),
        read_s=total_timeout_s,
        total_s=total_timeout_s,
        retries=retries,
    )


_LIMITS = {"ct": (100, 10_000), "rt": (100, 15_000), "tt": (100, 15_000), "rc": (0, 5)}


def split_fragment(url: str) -> tuple[str, str]:
    """The URL without its fragment, and the fragment (without '#')."""
    base, _, fragment = url.partition("#")
    return base, fragment


def apply_overrides(url: str, settings: ConnectionSettings) -> tuple[str, ConnectionSettings]:
    """The URL to request and the settings after the URL's fragment overrides.

    Unknown keys (such as the edge `e` or `sni`) are ignored; a bad value is error 11243.
    """
    base, fragment = split_fragment(url)
    if not fragment:
        return base, settings
    changes: dict[str, object] = {}
    for pair in fragment.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if key == "rp":
            words = {w.strip().lower() for w in value.split(",") if w.strip()}
            if not words or not words <= _POLICY_WORDS:
                raise WebhookError(11243, f"HTTP retry policy is invalid: rp={value}")
            changes["retry_on"] = _ALL if "all" in words else frozenset(words)
            continue
        if key not in _LIMITS:
            continue
        low, high = _LIMITS[key]
        if not value.isdigit() or not low <= int(value) <= high:
            raise WebhookError(
                11243, f"Connection override {key}={value} is out of range {low}-{high}"
            )
        number = int(value)
        if key == "rc":
            changes["retries"] = number
        else:
            field = {"ct": "connect_s", "rt": "read_s", "tt": "total_s"}[key]
            changes[field] = number / 1000
    return base, replace(settings, **changes)  # type: ignore[arg-type]
