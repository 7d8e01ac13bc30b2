"""What to observe of the app beyond SMS: its mail, logs, databases and process.

`ObserveConfig` is filled from a config file's `observe:` section and from the command
line's `--smtp`, `--observe-log`, `--observe-db`, `--observe-pid`, `--observe-port` and
`--app-cmd`; the value rules below are the one place both check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SMTP_HOST = "127.0.0.1"
DEFAULT_INTERVAL_S = 0.25


@dataclass(slots=True)
class ObserveConfig:
    smtp: tuple[str, int] | None = None
    logs: list[str] = field(default_factory=list)
    log_level_regex: str | None = None
    databases: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    app_cmd: str | None = None
    interval_s: float = DEFAULT_INTERVAL_S

    @property
    def active(self) -> bool:
        """Whether anything is to be observed at all."""
        return bool(
            self.smtp or self.logs or self.databases or self.pids or self.ports or self.app_cmd
        )


def smtp_address(text: str | int) -> tuple[str, int]:
    """`[HOST:]PORT` as (host, port); the host defaults to loopback, port 0 picks a free one."""
    host, _, port_text = str(text).strip().rpartition(":")
    host = host.strip("[]") or DEFAULT_SMTP_HOST
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"expected [HOST:]PORT, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be 0-65535, got {port}")
    return host, port


def database_url(text: str) -> str:
    """A database to watch: `sqlite:///path` or `postgresql://...` (read-only access)."""
    scheme = text.partition("://")[0].lower()
    if scheme == "sqlite":
        if not text.lower().startswith("sqlite:///") or len(text) <= len("sqlite:///"):
            raise ValueError(f"expected sqlite:///path (or sqlite:////absolute/path), got {text!r}")
        return text
    if scheme in ("postgresql", "postgres"):
        return text
    raise ValueError(f"expected a sqlite:/// or postgresql:// URL, got {text!r}")


def level_regex(text: str) -> str:
    """A regular expression that marks log lines as errors; it must compile."""
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc}): {text!r}") from None
    return text


def port_number(value: str | int) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a port number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be 1-65535, got {port}")
    return port


def shown_url(url: str) -> str:
    """A database URL as it may be printed and recorded: its password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))
