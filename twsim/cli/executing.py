"""`twsim exec -- CMD ...`: an unmodified app, its Twilio SDK traffic sent to a gateway.

The app runs as a child process with the shims' variables (see `twsim.observe.shim`):
its twilio-python or twilio-node REST calls reach the gateway, and anything bound for a
real Twilio host is refused inside the app. Without `--gateway`, a gateway runs in this
process for the child's lifetime. twsim exits with the child's status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from twsim.cli import options
from twsim.cli.errors import EXIT_RUNTIME, EXIT_USAGE, CliError
from twsim.cli.running import run as run_async
from twsim.config.models import DEFAULT_HOST, Config
from twsim.observe.shim import shim_environment
from twsim.server.simulator import Simulator

EXIT_NOT_RUNNABLE = 126
EXIT_NOT_FOUND = 127
# Signals passed on to the child. SIGINT and SIGQUIT come from the terminal too: when
# twsim is in the terminal's foreground process group, so is the child, which then has
# them already, and twsim only waits for it to exit.
FORWARDED = ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH")
FROM_TERMINAL = ("SIGINT", "SIGQUIT")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "exec",
        help="run an unmodified app with its Twilio SDK traffic sent to twsim",
        description=(
            "Run CMD with its twilio-python (6.x-9.x) or twilio-node (3.x-5.x) REST calls "
            "sent to a twsim gateway: one started for the app's lifetime, or --gateway URL. "
            "Requests for any other Twilio host are refused inside the app. "
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set when unset. "
            "Exits with CMD's status."
        ),
        usage="twsim exec [options] -- CMD [ARGS ...]",
    )
    parser.set_defaults(handler=run)
    parser.add_argument(
        "--gateway", metavar="URL", help="a running gateway (twsim serve) instead of a new one"
    )
    options.add_config(parser)
    parser.add_argument(
        "--port",
        type=options.non_negative_int,
        default=0,
        help="port of the gateway started for the app (default 0: a free one)",
    )
    parser.add_argument(
        "--sms-url", metavar="URL", help="the app's webhook: every number's inbound texts go there"
    )
    options.add_record(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the app: -- CMD [ARGS ...]")


def child_argv(command: Sequence[str]) -> list[str]:
    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise CliError("give the app to run after --, e.g. twsim exec -- python app.py")
    return argv


def check_gateway(url: str) -> None:
    """Fail early, in one line, when nothing answers as a gateway at `url`."""
    health = url.rstrip("/") + "/_twsim/health"
    try:
        with urllib.request.urlopen(health, timeout=10) as response:
            status = json.load(response).get("status")
    except (OSError, ValueError, AttributeError) as exc:
        raise CliError(f"no twsim gateway answers at {url} ({exc})", EXIT_RUNTIME) from None
    if status != "ok":
        raise CliError(f"{health} answered {status!r}, not a healthy gateway", EXIT_RUNTIME)


def in_terminal_foreground() -> bool:
    """Whether the terminal's own signals (Ctrl-C, Ctrl-\\) reach this process group."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def exit_status(returncode: int) -> int:
    """The child's status as a shell reports it: 128+N when signal N ended it."""
    return 128 - returncode if returncode < 0 else returncode


async def run_child(argv: list[str], env: dict[str, str]) -> int:
    """Run the app to its end, passing signals on; its exit status."""
    try:
        process = await asyncio.create_subprocess_exec(*argv, env=env)
    except FileNotFoundError:
        raise CliError(f"{argv[0]}: command not found", EXIT_NOT_FOUND) from None
    except PermissionError:
        raise CliError(f"{argv[0]}: permission denied", EXIT_NOT_RUNNABLE) from None
    loop = asyncio.get_running_loop()
    terminal = in_terminal_foreground()
    handled: list[signal.Signals] = []

    def forward(sig: signal.Signals) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)

    for name in FORWARDED + FROM_TERMINAL:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        passed_on = name in FORWARDED or not terminal
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, forward if passed_on else lambda s: None, sig)
            handled.append(sig)
    try:
        return exit_status(await process.wait())
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def announce(sim_url: str, config: Config, started: bool, argv: list[str]) -> None:
    account = config.accounts[0]
    where = "started for this app" if started else "running"
    lines = [
        f"twsim exec: gateway at {sim_url} ({where}); the app's Twilio REST calls go there",
        f"  account {account.sid} (set as TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN when unset)",
    ]
    for number in config.numbers:
        target = number.sms_url or "(no sms_url: give --sms-url for webhooks)"
        lines.append(f"  number  {number.phone_number} -> {target}")
    lines.append(f"  text it: twsim send --sim {sim_url} --from +12025550123 --body hello")
    lines.append(f"  running: {' '.join(argv)}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    argv = child_argv(args.command)
    config = options.config(args)
    if args.gateway:
        if args.record:
            raise CliError("--record needs the gateway started here; record with twsim serve")
        check_gateway(args.gateway)
        announce(args.gateway, config, False, argv)
        env = shim_environment(args.gateway, config.accounts[0])
        return run_async(run_child(argv, env))

    async def with_gateway() -> int:
        sim = Simulator(
            config, host=DEFAULT_HOST, port=args.port, record=args.record, force=args.force
        )
        try:
            await sim.start()
        except OSError as exc:
            raise CliError(f"cannot listen on port {args.port}: {exc}", EXIT_USAGE) from None
        try:
            announce(sim.url, config, True, argv)
            return await run_child(argv, shim_environment(sim.url, config.accounts[0]))
        finally:
            await sim.stop()

    return run_async(with_gateway())
