"""Live progress for long runs, k6-style: elapsed, sent of planned, rate against the plan,
ETA, answers, replies, REST sends, errors, live latency and cost so far.

On a terminal a small block is redrawn in place a few times a second; otherwise one line is
written every few seconds (a CI log stays readable). `--quiet` shows nothing. Rendering
reads counters the run keeps anyway and costs a few tens of microseconds per refresh, off
the hot path (see `make bench`'s progress figure). Two lines redrawn in place need nothing
more than two ANSI sequences, so no terminal library is pulled in for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import TextIO

from twsim.analysis.live import Snapshot
from twsim.core.pricing import format_money

TTY_EVERY_S = 0.25
LOG_EVERY_S = 5.0
_RATE_WINDOW_S = 2.0

_active: list[Progress] = []


def clock(seconds: float) -> str:
    """Seconds as m:ss (h:mm:ss past an hour)."""
    whole = int(max(seconds, 0.0) + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


class Rates:
    """Current and planned rates from samples of (time, sent, due) over the last seconds."""

    def __init__(self, window_s: float = _RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int, int | None]] = deque()

    def add(self, now: float, sent: int, due: int | None) -> tuple[float | None, float | None]:
        """Record a sample; (sent per second, planned per second) since the window's start."""
        self._samples.append((now, sent, due))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        then, sent_then, due_then = self._samples[0]
        span = now - then
        if span <= 0:
            return None, None
        planned = (due - due_then) / span if due is not None and due_then is not None else None
        return (sent - sent_then) / span, planned


class Progress:
    """Shows `describe()` while a run goes on: a block on a terminal, lines otherwise."""

    def __init__(
        self,
        describe: Callable[[], Snapshot],
        title: str,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval_s: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.describe = describe
        self.title = title
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = _isatty(self.stream)
        self.interval_s = interval_s or (TTY_EVERY_S if self.tty else LOG_EVERY_S)
        self.now = now
        self.started = now()
        self.rates = Rates(max(_RATE_WINDOW_S, self.interval_s))
        self._drawn = 0  # lines of the block on screen, to redraw in place
        self._task: asyncio.Task[None] | None = None

    # -- what it shows -------------------------------------------------------------------------
    def lines(self, s: Snapshot, final: bool = False) -> list[str]:
        """The block for snapshot `s`: a head line and one or two lines of figures."""
        now = self.now()
        elapsed = now - self.started
        rate, planned_rate = self.rates.add(now, s.sent, s.due)
        head = f"{self.title}  {clock(elapsed)} elapsed"
        eta = self._eta(s, rate)
        if final:
            head += "  done"
        elif eta is not None:
            head += f"  ETA {clock(eta)}"
        if s.phase and not final:
            head += f"  ({s.phase})"
        sent = f"{s.sent:,}" + (f"/{s.planned:,}" if s.planned is not None else "")
        pace = ""
        if rate is not None:
            pace = f"  {rate:,.1f}/s"
            if planned_rate is not None:
                pace += f" (plan {planned_rate:,.1f}/s)"
        figures = [f"{s.unit} {sent} sent{pace}"]
        if s.answered is not None:
            figures.append(f"answered {s.answered:,}")
        if s.replies is not None:
            figures.append(f"replies {s.replies:,}")
        if s.rest_sends is not None:
            figures.append(f"REST sends {s.rest_sends:,}")
        money = [f"errors {s.errors:,}"]
        if s.p50_ms is not None or s.answered:
            money.append(f"webhook p50 {_ms(s.p50_ms)} p99 {_ms(s.p99_ms)}")
        money.append(f"cost {_money(s.cost, s.currency)}")
        return [head, "  " + "   ".join(figures), "  " + "   ".join(money)]

    @staticmethod
    def _eta(s: Snapshot, rate: float | None) -> float | None:
        if s.remaining_s is not None and s.remaining_s > 0:
            return s.remaining_s
        if s.planned is not None and rate and s.sent < s.planned and s.remaining_s is None:
            return (s.planned - s.sent) / rate
        return None

    # -- drawing -------------------------------------------------------------------------------
    def show(self, final: bool = False) -> None:
        lines = self.lines(self.describe(), final)
        if self.tty:
            width = max(shutil.get_terminal_size((100, 24)).columns - 1, 20)
            self.clear()
            self.stream.write("".join(line[:width] + "\n" for line in lines))
            self._drawn = 0 if final else len(lines)
        else:
            self.stream.write(" | ".join([lines[0], *(line.strip() for line in lines[1:])]) + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Take the block off the screen (the cursor goes back where it started)."""
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def start(self) -> None:
        if self.enabled:
            self.started = self.now()
            _active.append(self)
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.show()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            _active.remove(self)
            self.show(final=True)


def note(text: str, stream: TextIO | None = None) -> None:
    """Print a line to stderr without tearing a live progress block apart."""
    for progress in _active:
        if progress.tty:
            progress.clear()
    print(text, file=stream or sys.stderr, flush=True)


def watcher(
    title: str, *, quiet: bool
) -> Callable[[Callable[[], Snapshot]], contextlib.AbstractAsyncContextManager[None]] | None:
    """A run's `watch`: progress under `title`, or None with --quiet."""
    if quiet:
        return None

    @contextlib.asynccontextmanager
    async def watch(describe: Callable[[], Snapshot]) -> AsyncIterator[None]:
        progress = Progress(describe, title)
        progress.start()
        try:
            yield
        finally:
            await progress.stop()

    return watch


def _money(amount: Decimal, currency: str) -> str:
    return f"${format_money(amount)}" if currency == "USD" else f"{format_money(amount)} {currency}"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
