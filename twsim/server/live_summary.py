"""The running report and its time series, kept up to date from the event log.

Nothing is folded until someone asks (the web page): the first request folds the log as it
is, a slice at a time so the gateway keeps serving, then every new event is added as it is
appended. A reset starts the figures afresh, as it does the log. The JSON is rebuilt only
when events arrived since it was last built.
"""

from __future__ import annotations

import asyncio
from typing import Any

from twsim.analysis.report import ReportBuilder
from twsim.analysis.series import SeriesBuilder
from twsim.core.pricing import PriceTable
from twsim.model.events import Event, EventLog, Reset

FOLD_SLICE = 1000


class LiveSummary:
    def __init__(self, log: EventLog, prices: PriceTable | None) -> None:
        self.log = log
        self.prices = prices
        self.series = SeriesBuilder(ReportBuilder(prices))
        self._pending: list[Event] | None = None
        self._attached: asyncio.Task[None] | None = None
        self._cache: tuple[int, dict[str, Any]] | None = None
        self._unsubscribe: Any = None

    def _on_event(self, event: Event) -> None:
        if self._pending is not None:
            self._pending.append(event)
            return
        self._add(event)

    def _add(self, event: Event) -> None:
        if isinstance(event, Reset):
            self.series = SeriesBuilder(ReportBuilder(self.prices))
        self.series.add(event)

    async def _attach(self) -> None:
        self._pending = []
        self._unsubscribe = self.log.subscribe(self._on_event)
        snapshot = list(self.log)
        for start in range(0, len(snapshot), FOLD_SLICE):
            for event in snapshot[start : start + FOLD_SLICE]:
                self._add(event)
            await asyncio.sleep(0)  # let the gateway serve between slices
        seen = snapshot[-1].seq if snapshot else 0
        pending, self._pending = self._pending, None
        for event in pending:
            if event.seq > seen:
                self._add(event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    async def current(self) -> dict[str, Any]:
        """`{"seq", "report", "series"}` as of the latest event."""
        if self._attached is None:
            self._attached = asyncio.ensure_future(self._attach())
        await asyncio.shield(self._attached)
        seq = self.log.last_seq
        if self._cache is None or self._cache[0] != seq:
            self._cache = (
                seq,
                {
                    "seq": seq,
                    "report": self.series.report.result().to_json(),
                    "series": self.series.to_json(),
                },
            )
        return self._cache[1]
