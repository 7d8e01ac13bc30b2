"""The gateway's report, kept up to date as events happen, so it covers the whole run.

The gateway keeps only its latest events (`retention`); a `ReportBuilder` subscribed to its
log from the start folds every event into running totals, so `GET /_twsim/report` stays
exact however long the run, and costs the same at any length. `POST /_twsim/reset`
starts a new one. With `series`, the report's time series (the HTML report's charts) are
folded alongside, so they too cover every event. The charges are the gateway's own, priced
with its table when sent, so they are taken as they are (a what-if report reprices them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twsim.analysis.report import Report, ReportBuilder
from twsim.analysis.series import SeriesBuilder
from twsim.gateway.runtime import Gateway
from twsim.model.events import Event, Reset


class LiveReport:
    def __init__(self, gateway: Gateway, *, series: bool = False) -> None:
        self.keeps_series = series
        self._start()
        self.unsubscribe = gateway.events.subscribe(self._add)

    def _start(self) -> None:
        self.builder = ReportBuilder()
        self.series = SeriesBuilder(self.builder) if self.keeps_series else None
        self._fold: Callable[[Event], None] = (
            self.builder.add if self.series is None else self.series.add
        )

    def _add(self, event: Event) -> None:
        if type(event) is Reset:
            self._start()
        else:
            self._fold(event)

    def result(self) -> Report:
        return self.builder.result()

    def figures(self) -> dict[str, Any] | None:
        """The report and its time series (`run_figures`' shape), when series are kept."""
        if self.series is None:
            return None
        return {"report": self.builder.result().to_json(), "series": self.series.to_json()}
