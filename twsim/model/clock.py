"""Time, injected: a wall clock for Twilio's dates and a monotonic one for offsets and waits.

Everything that reads the time or sleeps takes a `Clock`. `SystemClock` is the real one;
`ManualClock` only moves when a test advances it, so timed behaviour can be tested
without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None:
        """Stop the timer from firing (nothing happens if it already fired)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        """Call `callback` once `seconds` of this clock's time have passed."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when `advance` is called; sleepers and timers wake in
    deadline order (ties in the order they were set)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self._due: list[tuple[float, int, asyncio.Future[None] | _ManualTimer]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._due, (self._elapsed + seconds, next(self._order), future))
        await future

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(callback)
        heapq.heappush(self._due, (self._elapsed + max(0.0, seconds), next(self._order), timer))
        return timer

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper and firing every timer whose deadline has
        come, in order; each woken task runs before the next one wakes."""
        target = self._elapsed + seconds
        while self._due and self._due[0][0] <= target:
            deadline, _, waiting = heapq.heappop(self._due)
            self._elapsed = max(self._elapsed, deadline)
            if isinstance(waiting, _ManualTimer):
                if not waiting.cancelled:
                    waiting.callback()
            elif not waiting.done():
                waiting.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        self._elapsed = target
        await asyncio.sleep(0)

    @property
    def sleeping(self) -> int:
        """Sleepers and timers still waiting."""
        return sum(
            1
            for _, _, w in self._due
            if not (w.cancelled if isinstance(w, _ManualTimer) else w.done())
        )
