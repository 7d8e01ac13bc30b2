"""Host names and addresses: which are loopback, and the host patterns a config allows.

A pattern is one of:

- a host name, matched exactly and case-insensitively (`app.example.com`);
- `*.` and a domain, for any name under it, not the domain itself (`*.ngrok-free.app`);
- `*`, for every host;
- an IP address (`192.168.1.20`, `::1` or `[::1]`) or network (`10.0.0.0/8`, `fd00::/8`).

Names and addresses are compared after lowering case, dropping a trailing dot and the
brackets around an IPv6 literal. An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is
read as the IPv4 address it carries.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def normalize(host: str) -> str:
    """A host as patterns compare it: lower case, no trailing dot, no IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".")


@functools.lru_cache(maxsize=1024)  # asked for each webhook's host: the same few, again and again
def address(host: str) -> Address | None:
    """The IP address `host` is written as, or None for a name."""
    try:
        parsed = ipaddress.ip_address(normalize(host).partition("%")[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def is_loopback(host: str | Address) -> bool:
    """True for a loopback address (127.0.0.0/8, ::1) or a literal loopback name."""
    if isinstance(host, str):
        parsed = address(host)
        if parsed is None:
            return normalize(host) in LOOPBACK_NAMES
        host = parsed
    return host.is_loopback


def host_of(authority_or_url: str) -> str | None:
    """The host of a URL or of a `Host` header value (`name:port`, `[::1]:8910`), normalized.

    None when there is no readable host in it.
    """
    text = authority_or_url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return normalize(host) if host else None


@dataclass(frozen=True, slots=True)
class HostPatterns:
    """A list of host patterns, ready to match names and addresses."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # ".example.com" for "*.example.com"
    networks: tuple[Network, ...] = ()
    everything: bool = False

    @classmethod
    def parse(cls, patterns: Iterable[str]) -> HostPatterns:
        """The patterns in `patterns`; a ValueError names the first one that is not a pattern."""
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        everything = False
        for raw in patterns:
            pattern = normalize(str(raw))
            if pattern == "*" and str(raw).strip() != "*":
                raise ValueError(f"{raw!r} is not a host pattern")
            if pattern == "*":
                everything = True
            elif pattern.startswith("*."):
                domain = pattern[1:]
                if not _is_name(domain[1:]):
                    raise ValueError(f"{raw!r} is not a host pattern")
                suffixes.append(domain)
            elif (literal := address(pattern)) is not None:
                networks.append(ipaddress.ip_network(literal))
            elif "/" in pattern:
                try:
                    networks.append(ipaddress.ip_network(pattern, strict=False))
                except ValueError:
                    raise ValueError(f"{raw!r} is not an IP network") from None
            elif _is_name(pattern):
                names.add(pattern)
            else:
                raise ValueError(
                    f"{raw!r} is not a host pattern (a name, *.domain, *, an address or a network)"
                )
        return cls(frozenset(names), tuple(suffixes), tuple(networks), everything)

    def __bool__(self) -> bool:
        return bool(self.names or self.suffixes or self.networks or self.everything)

    def matches_name(self, host: str) -> bool:
        """True when the host name (or literal) itself is allowed."""
        if self.everything:
            return True
        literal = address(host)
        if literal is not None:
            return self.matches_address(literal)
        name = normalize(host)
        return name in self.names or any(name.endswith(s) for s in self.suffixes)

    def matches_address(self, literal: Address) -> bool:
        """True when the address is inside one of the allowed addresses or networks."""
        if self.everything:
            return True
        return any(literal.version == n.version and literal in n for n in self.networks)


def _is_name(text: str) -> bool:
    labels = text.split(".")
    return bool(text) and all(
        label
        and len(label) <= 63
        and all(c.isalnum() or c in "-_" for c in label)
        and label.isascii()
        for label in labels
    )
