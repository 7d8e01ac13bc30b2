"""`twsim serve`: the gateway, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import webbrowser
from typing import Any

from twsim import __version__
from twsim.cli import options
from twsim.cli.errors import CliError
from twsim.cli.progress import clock
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
    parser.add_argument(
        "--open", action="store_true", help="open the web page in a browser, where there is one"
    )


def page_url(sim: Simulator) -> str:
    return f"{sim.url}/_twsim/ui/"


def open_page(url: str) -> str | None:
    """Open `url` in a browser; a note to print when there is none."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return f"no browser found here; open {url} yourself"
    if not browser.open(url):
        return f"could not open a browser; open {url} yourself"
    return None


def banner(sim: Simulator, config: Config, record: str | None) -> list[str]:
    """What `serve` prints once it listens: where to point the app, and what it serves."""
    lines = [
        f"twsim {__version__}: Twilio gateway at {sim.url}",
        f"  REST base URL   {sim.url}",
        f"                  twilio-python: client.api.base_url = '{sim.url}'",
        f"                  twilio-node:   client.api.baseUrl = '{sim.url}'",
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
    lines.append(f"  web page        {page_url(sim)}")
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
        started = loop.time()
        task = asyncio.current_task()

        def on_signal() -> None:
            if stop.is_set() and task is not None:  # a second Ctrl-C: no waiting for anything
                task.cancel()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal)
        print("\n".join(banner(sim, config, args.record)), flush=True)
        if args.open:
            note = await asyncio.to_thread(open_page, page_url(sim))
            if note:
                print(f"twsim serve: {note}", flush=True)
        try:
            await stop.wait()
        finally:
            await sim.stop()
            print(summary(sim, loop.time() - started), flush=True)

    try:
        run_async(serve())
    except ObserveError as exc:
        raise CliError(str(exc), code=1) from None
    return 0


def summary(sim: Simulator, elapsed_s: float) -> str:
    """What `serve` says when it stops: how long, how much, and where the events went."""
    state = sim.gateway.state
    inbound = sum(1 for m in state.messages.values() if m.direction == "inbound")
    events = len(sim.gateway.events)
    line = (
        f"twsim serve: stopped after {clock(elapsed_s)}: {inbound:,} inbound text(s), "
        f"{len(state.messages) - inbound:,} outbound message(s), {events:,} event(s)"
    )
    if sim.recorder is not None:
        return f"{line}; recorded {sim.recorder.written:,} event(s) to {sim.recorder.path}"
    return f"{line}; not recorded (--record PATH keeps them)"
