"""Live progress for long runs: one line, rewritten in place on a terminal, periodic otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from typing import TextIO


class Progress:
    def __init__(
        self, describe: Callable[[], str], *, stream: TextIO | None = None, enabled: bool = True
    ) -> None:
        self.describe = describe
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.interval = 0.25 if self.tty else 5.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._show()

    def _show(self, final: bool = False) -> None:
        text = self.describe()
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._show(final=True)

    @classmethod
    @contextlib.asynccontextmanager
    async def watching(cls, describe: Callable[[], str]) -> AsyncIterator[None]:
        """Show `describe()` while the block runs, and once more at its end."""
        progress = cls(describe)
        progress.start()
        try:
            yield
        finally:
            await progress.stop()
