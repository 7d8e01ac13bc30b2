"""Turning what went wrong into a sentence and a hint: a port in use, a gateway gone, a bug.

Everything here runs after the command has failed, so it may take a moment to look around
(ask the port who holds it, name the process), never on the way of a working run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import urllib.error
import urllib.request

import psutil

from twsim.cli.errors import EXIT_RUNTIME, CliError
from twsim.config.models import DEFAULT_HOST

# commands that start a gateway of their own and can use a running one instead (--sim)
DRIVERS = frozenset({"burst", "replay"})


def holder(host: str, port: int) -> str:
    """Who listens on host:port, as well as can be told: a twsim gateway, a named process."""
    with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
        url = f"http://{_url_host(host)}:{port}/_twsim/health"
        with urllib.request.urlopen(url, timeout=1.0) as response:  # loopback only
            if json.loads(response.read()).get("status") == "ok":
                return "a twsim gateway answers there (probably `twsim serve`, or a burst or replay running)"
    process = _process_on(port)
    return f"{process} listens there" if process else "another program listens there"


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return DEFAULT_HOST
    return f"[{host}]" if ":" in host else host


def _process_on(port: int) -> str | None:
    with contextlib.suppress(Exception):  # permissions, a process ending meanwhile...
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return None
                process = psutil.Process(conn.pid)
                command = " ".join(" ".join(process.cmdline()).split()) or process.name()
                if len(command) > 60:
                    command = command[:57] + "..."
                return f"`{command}` (pid {conn.pid})"
    return None


def port_in_use(command: str, host: str, port: int) -> CliError:
    """The error for a gateway that cannot listen on host:port because it is taken."""
    message = f"port {port} on {host} is already in use: {holder(host, port)}"
    if command in DRIVERS:
        hint = (
            f"use that gateway with --sim http://{_url_host(host)}:{port}, "
            "or start this run's own on a free port with --port 0"
        )
    else:
        hint = f"stop what holds it, or listen elsewhere: --port 0 picks a free port (or try --port {port + 1})"
    return CliError(message, EXIT_RUNTIME, hint)


def os_error(command: str, exc: OSError, host: str, port: int | None) -> CliError:
    """An OSError as one line: a port taken, an address this machine lacks, a file."""
    if exc.errno == errno.EADDRINUSE and port is not None:
        return port_in_use(command, host, port)
    if exc.errno == errno.EADDRNOTAVAIL:
        return CliError(
            f"cannot listen on {host}:{port}: this machine has no such address",
            EXIT_RUNTIME,
            "use --host 127.0.0.1 (the default)",
        )
    what = f"{exc.filename}: " if exc.filename else ""
    return CliError(f"{what}{exc.strerror or exc}", EXIT_RUNTIME)


def unexpected(command: str, exc: BaseException) -> CliError:
    """A failure nobody planned for: one line, and how to see the traceback."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return CliError(
        f"unexpected error: {type(exc).__name__}" + (f": {detail}" if detail else ""),
        EXIT_RUNTIME,
        f"run `twsim --debug {command} ...` to see where it happened",
    )
