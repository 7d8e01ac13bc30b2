"""The life of a server process the benchmarks start: pin, bind, announce, stop by itself.

A server binds 127.0.0.1 on a free port, prints `listening on URL` once ready, and serves
until it is told to stop (SIGTERM/SIGINT), its parent goes away (its stdin reaches EOF),
or its maximum lifetime runs out, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable

from bench import affinity, loops

Start = Callable[[], Awaitable[tuple[str, Callable[[], Awaitable[None]]]]]


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    parser.add_argument(
        "--max-seconds", type=float, default=900.0, help="stop after this long whatever happens"
    )
    return parser


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when the parent closes our stdin (or dies and the pipe closes)."""
    with contextlib.suppress(OSError, ValueError):
        fd = sys.stdin.fileno()
        while os.read(fd, 1024):  # the raw descriptor: no buffer lock held at shutdown
            pass
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(stop.set)


async def _serve(start: Start, max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    url, cleanup = await start()
    print(f"listening on {url}", flush=True)
    threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max_seconds)
    finally:
        await cleanup()


def main(start: Start, args: argparse.Namespace) -> None:
    affinity.pin(args.cpu)
    loops.run(_serve(start, args.max_seconds))
