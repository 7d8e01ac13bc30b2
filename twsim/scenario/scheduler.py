"""The open-model scheduler: every action fires at its planned time, whatever came before.

Nothing waits for an earlier send to finish (no coordinated omission): a slow app makes
responses late, never the sends. How late each action actually started is measured and
handed to it, so the report can show the schedule was kept.

Actions always run in planned-time order (ties in the order they were planned), even when
the loop falls behind and several are due at once, and an action planned for a time that
has already come runs before any later one. So the order of what happens depends on the
plan alone, never on how late the loop happened to be.

Time is the injected clock's: on a `ManualClock` the schedule moves only as a test
advances it.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable

from twsim.model.clock import Clock, SystemClock, Timer

Action = Callable[[float], None]

_EARLY_S = 0.001  # timers may fire this much early (libuv counts milliseconds)


class OpenScheduler:
    """Runs actions at planned offsets (seconds from `start()`), scaled by `speed`."""

    def __init__(self, speed: float = 1.0, *, clock: Clock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.clock = clock or SystemClock()
        self._started = False
        self._start = 0.0
        self.pending = 0
        self.fired = 0
        self._idle: asyncio.Event | None = None
        self._queue: list[tuple[float, int, Action]] = []
        self._planned = 0
        self._timer: Timer | None = None
        self._timer_for: float | None = None
        self._draining = False
        self.closed = False

    def start(self) -> None:
        self._started = True
        self._start = self.clock.monotonic()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def started(self) -> bool:
        return self._started

    @property
    def elapsed(self) -> float:
        """Planned-time seconds since the start (clock seconds times speed)."""
        return (self.clock.monotonic() - self._start) * self.speed

    def _due(self, planned: float) -> float:
        return self._start + planned / self.speed

    def at(self, planned: float, action: Action) -> None:
        """Call `action(lateness_s)` at `planned` seconds (of planned time) after the start."""
        assert self._started and self._idle is not None, "call start() first"
        if self.closed:
            return
        self.pending += 1
        self._idle.clear()
        heapq.heappush(self._queue, (planned, self._planned, action))
        self._planned += 1
        if not self._draining and (self._timer_for is None or planned < self._timer_for):
            self._arm()

    def _arm(self) -> None:
        """One timer, for the earliest planned action."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_for = None
        if self._queue:
            self._timer_for = self._queue[0][0]
            delay = self._due(self._timer_for) - self.clock.monotonic()
            self._timer = self.clock.call_later(delay, self._drain)

    def _drain(self) -> None:
        """Run every action that is due, earliest planned first."""
        assert self._idle is not None
        self._timer = self._timer_for = None
        self._draining = True
        try:
            while self._queue:
                planned, _, action = self._queue[0]
                due = self._due(planned)
                now = self.clock.monotonic()
                if due > now + _EARLY_S:
                    break
                heapq.heappop(self._queue)
                self.fired += 1
                try:
                    action(max(now - due, 0.0))
                finally:
                    if not self.closed:
                        self.pending -= 1
        finally:
            self._draining = False
            if self.pending == 0:
                self._idle.set()
            self._arm()

    def close(self) -> None:
        """Drop every planned action and plan no more (a run stopped early)."""
        self.closed = True
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_for = None
        self.pending = 0
        if self._idle is not None:
            self._idle.set()

    async def idle(self) -> None:
        """Wait until nothing is planned any more."""
        assert self._idle is not None
        while self.pending:
            await self._idle.wait()
            await asyncio.sleep(0)
