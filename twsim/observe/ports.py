"""A port for an app under test that must be told its port before it starts.

Picked below the kernel's ephemeral range, so no other process's port-0 socket can take
it between the pick and the app's bind; the starting point depends on the process id, so
parallel test workers (pytest-xdist) look in different places.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

LOWEST = 20000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()  # by this process: never twice, bound yet or not


def ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, outside the ephemeral range when it can be."""
    top = max(ephemeral_start(), LOWEST + 1000)
    span = top - LOWEST
    start = (os.getpid() * 7919) % span
    for step in range(span):
        port = LOWEST + (start + step) % span
        if port not in _handed_out and is_free(port, host):
            _handed_out.add(port)
            return port
    with socket.socket() as probe:  # all taken: let the kernel choose
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
