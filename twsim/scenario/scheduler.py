"""The open-model scheduler: every action fires at its planned time, whatever came before.

Nothing waits for an earlier send to finish (no coordinated omission): a slow app makes
responses late, never the sends. How late each action actually started is measured and
handed to it, so the report can show the schedule was kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

Action = Callable[[float], None]


class OpenScheduler:
    """Runs actions at planned offsets (seconds from `start()`), scaled by `speed`."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start = 0.0
        self.pending = 0
        self.fired = 0
        self._idle: asyncio.Event | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def elapsed(self) -> float:
        """Planned-time seconds since the start (real seconds times speed)."""
        assert self._loop is not None
        return (self._loop.time() - self._start) * self.speed

    def at(self, planned: float, action: Action) -> None:
        """Call `action(lateness_s)` at `planned` seconds (of planned time) after the start."""
        loop = self._loop
        assert loop is not None and self._idle is not None, "call start() first"
        self.pending += 1
        self._idle.clear()
        loop.call_at(self._start + planned / self.speed, self._fire, planned, action)

    def _fire(self, planned: float, action: Action) -> None:
        assert self._loop is not None and self._idle is not None
        lateness = self._loop.time() - (self._start + planned / self.speed)
        self.fired += 1
        try:
            action(max(lateness, 0.0))
        finally:
            self.pending -= 1
            if self.pending == 0:
                self._idle.set()

    async def idle(self) -> None:
        """Wait until nothing is planned any more."""
        assert self._idle is not None
        while self.pending:
            await self._idle.wait()
            await asyncio.sleep(0)
