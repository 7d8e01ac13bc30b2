"""`twsim import`: a Twilio Console CSV export or REST Messages JSON into a recording."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from twsim.analysis.live import Snapshot
from twsim.cli import options, progress
from twsim.cli.errors import CliError
from twsim.cli.running import run as run_async
from twsim.config.shipped import load_prices
from twsim.recording.exports import ImportFailed
from twsim.recording.importer import ImportProgress, ImportResult, import_files

T = TypeVar("T")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="turn a Twilio message log (Console CSV or REST JSON) into a recording",
        description="Convert Twilio Console message-log CSV exports and REST Messages list JSON (pages, arrays or JSON lines) into a twsim recording, for report, diff and replay.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV or JSON exports")
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="the recording to write (JSONL)"
    )
    parser.add_argument(
        "--anonymize",
        action="store_true",
        help="fake phone numbers and SIDs, scrub bodies (length, encoding, segments kept)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the fake numbers and bodies (default 0)"
    )
    parser.add_argument(
        "--window",
        type=options.non_negative_number,
        default=60.0,
        metavar="SECONDS",
        help="attribute an outbound message to an inbound at most this long before (default 60)",
    )
    parser.add_argument(
        "--prices",
        metavar="NAME|PATH",
        help="price messages the log has no price for with this table (e.g. us)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    options.add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    prices = load_prices(args.prices) if args.prices else None
    done = ImportProgress()

    def figures() -> Snapshot:
        if done.phase == "reading":
            phase = f"reading {done.reading} ({done.files_read + 1} of {done.files})"
            return Snapshot(sent=done.messages, unit="messages read", phase=phase)
        if done.phase == "converting":
            return Snapshot(
                sent=done.converted,
                planned=done.messages,
                cost=done.cost,
                unit="messages converted",
            )
        return Snapshot(
            sent=done.written, planned=done.events, cost=done.cost, unit="lines written"
        )

    def work() -> ImportResult:
        return import_files(
            args.files,
            args.output,
            anonymize=args.anonymize,
            seed=args.seed,
            window_s=args.window,
            prices=prices,
            force=args.force,
            progress=done,
        )

    async def watched() -> ImportResult:
        watch = progress.watcher(f"import {Path(args.output).name}", quiet=args.quiet)
        async with watch(figures) if watch else contextlib.nullcontext():
            return await in_thread(work)

    try:
        result = run_async(watched())
    except ImportFailed as exc:
        raise CliError(str(exc)) from None
    for warning in result.warnings:
        print(f"twsim import: warning: {warning}", file=sys.stderr)
    print(
        f"imported {result.messages} messages ({result.inbound} inbound, {result.outbound} "
        f"outbound) from {len(args.files)} file(s) into {result.output}"
        + (" (anonymized)" if args.anonymize else "")
    )
    return 0


async def in_thread(work: Callable[[], T]) -> T:
    """Run `work` on a daemon thread, so the loop can show progress and Ctrl-C ends the
    command at once (an executor thread would be waited for)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def target() -> None:
        try:
            result = work()
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle, future, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    threading.Thread(target=target, name="twsim-import", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[T], result: T | None, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
