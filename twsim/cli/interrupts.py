"""Ctrl-C (SIGINT) and SIGTERM during a run: the first stops it gently, the second at once.

The first signal sets the run's `stop` event: no new sends, a short grace for those in
flight, then the partial report, and exit 130. A second one cancels the run where it is
(its recording is closed on the way out, so it stays readable) and a third is Python's
own KeyboardInterrupt.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from twsim.cli.progress import note

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    def __init__(self, command: str, grace_s: float) -> None:
        self.command = command
        self.grace_s = grace_s
        self.received: signal.Signals | None = None
        self.forced = False
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def handling(self) -> AsyncIterator[asyncio.Event]:
        """Handle the signals while the block runs; yields the event they set."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._task = asyncio.current_task()
        installed = []
        for sig in SIGNALS:
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or a platform without them: default handling
            installed.append(sig)
        try:
            yield self._stop
        finally:
            for sig in installed:
                self._loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        assert self._stop is not None and self._loop is not None
        name = "Ctrl-C" if sig == signal.SIGINT else sig.name
        if self.received is None:
            self.received = sig
            note(
                f"twsim {self.command}: {name}: stopping - no new sends, up to "
                f"{self.grace_s:g} s for those in flight (Ctrl-C again to quit at once)"
            )
            self._stop.set()
            return
        self.forced = True
        note(f"twsim {self.command}: {name} again: quitting at once")
        with contextlib.suppress(RuntimeError, ValueError):
            self._loop.remove_signal_handler(signal.SIGINT)  # a third one: KeyboardInterrupt
        if self._task is not None:
            self._task.cancel()
