"""A closed-loop driver: C workers, each starting its next request when the last one ends."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Round:
    """One timed run of `count` operations: wall, CPU and GC seconds of this process."""

    count: int
    wall_s: float
    cpu_s: float
    app_cpu_s: float | None = None
    gc_s: float = 0.0  # time this process spent in garbage collection
    gc_max_s: float = 0.0  # its longest single collection (a pause of the event loop)

    @property
    def rate(self) -> float:
        return self.count / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.count * 1e6 if self.count else 0.0

    @property
    def app_cpu_us(self) -> float | None:
        if self.app_cpu_s is None or not self.count:
            return None
        return self.app_cpu_s / self.count * 1e6

    @property
    def gc_us(self) -> float:
        return self.gc_s / self.count * 1e6 if self.count else 0.0


async def drive(
    count: int, concurrency: int, one: Callable[[int], Awaitable[None]], start: int = 0
) -> None:
    """Call `one(i)` for i in [start, start + count), at most `concurrency` at a time."""
    next_index = start
    end = start + count

    async def worker() -> None:
        nonlocal next_index
        while next_index < end:
            index = next_index
            next_index += 1
            await one(index)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))


class Clock:
    """Wall, CPU and garbage-collection time of this process (and optionally a server's
    CPU) over a span."""

    def __init__(self, app_cpu: Callable[[], float] | None = None) -> None:
        self._app_cpu = app_cpu
        self._gc_started = 0.0
        self._gc_total = 0.0
        self._gc_max = 0.0
        gc.callbacks.append(self._on_gc)
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._app = app_cpu() if app_cpu else 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_started
        self._gc_total += took
        self._gc_max = max(self._gc_max, took)

    def round(self, count: int) -> Round:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        app = self._app_cpu() - self._app if self._app_cpu else None
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        return Round(count, wall, cpu, app, self._gc_total, self._gc_max)
