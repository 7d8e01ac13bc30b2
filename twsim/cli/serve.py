"""`twsim serve`: the gateway, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any

from twsim import __version__
from twsim.cli import options
from twsim.cli.errors import CliError
from twsim.cli.running import run as run_async
from twsim.config.models import DEFAULT_HOST, DEFAULT_PORT, Config
from twsim.observe.observers import ObserveError
from twsim.server.simulator import Simulator


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the gateway: Twilio REST API + signed webhooks",
        description="Run the gateway until Ctrl-C.",
    )
    parser.set_defaults(handler=run)
    options.add_config(parser)
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=options.non_negative_int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--sms-url", metavar="URL", help="send every number's inbound webhooks to URL"
    )
    options.add_observe(parser)
    options.add_record(parser)


def banner(sim: Simulator, config: Config, record: str | None) -> list[str]:
    """What `serve` prints once it listens: where to point the app, and what it serves."""
    lines = [
        f"twsim {__version__}: Twilio gateway at {sim.url}",
        f"  REST base URL   {sim.url}   (twilio-python: client.api.base_url = '{sim.url}')",
    ]
    for account in config.accounts:
        lines.append(f"  account         {account.sid}   auth token {account.auth_token}")
    for number in config.numbers:
        target = (
            f"{number.sms_method} {number.sms_url}"
            if number.sms_url
            else "(no sms_url: texts are stored, not delivered)"
        )
        lines.append(f"  number          {number.phone_number} ({number.type})  ->  {target}")
    lines.append(
        f"  control plane   {sim.url}/_twsim/   (inbound, messages, events, report, reset, health)"
    )
    if record:
        lines.append(f"  recording to    {record}")
    lines += observing(sim)
    lines.append("Press Ctrl-C to stop.")
    return lines


def observing(sim: Simulator) -> list[str]:
    """What the banner says about the observers of the app's side effects."""
    observers = sim.observers
    if observers is None:
        return []
    watch = observers.config
    lines = []
    if observers.smtp is not None:
        lines.append(
            f"  SMTP sink       {observers.smtp.address}   (point the app's SMTP host here; never relays)"
        )
    lines += [f"  watching log    {pattern}" for pattern in watch.logs]
    lines += [f"  watching db     {db}" for db in observers.databases]
    if observers.app is not None:
        lines.append(f"  app             pid {observers.app.pid}: {watch.app_cmd}")
    lines += [
        f"  watching pid    {probe.pid}"
        for probe in observers.probes
        if observers.app is None or probe.pid != observers.app.pid
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    config = options.config(args)

    async def serve() -> None:
        sim = Simulator(
            config, host=args.host, port=args.port, record=args.record, force=args.force
        )
        await sim.start()
        stop = asyncio.Event()  # listen before the banner: a reader may stop us once it has it
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        print("\n".join(banner(sim, config, args.record)), flush=True)
        await stop.wait()
        await sim.stop()
        print("twsim stopped.")

    try:
        run_async(serve())
    except ObserveError as exc:
        raise CliError(str(exc), code=1) from None
    return 0
