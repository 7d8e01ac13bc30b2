"""The gateway's report, kept up to date as events happen, so it covers the whole run.

The gateway keeps only its latest events (`retention`); a `ReportBuilder` subscribed to its
log from the start folds every event into running totals, so `GET /_twsim/report` stays
exact however long the run, and costs the same at any length. `POST /_twsim/reset`
starts a new one.
"""

from __future__ import annotations

from twsim.analysis.report import Report, ReportBuilder
from twsim.gateway.runtime import Gateway
from twsim.model.events import Event, Reset


class LiveReport:
    def __init__(self, gateway: Gateway) -> None:
        self.prices = gateway.prices
        self.builder = ReportBuilder(self.prices)
        self.unsubscribe = gateway.events.subscribe(self._add)

    def _add(self, event: Event) -> None:
        if type(event) is Reset:
            self.builder = ReportBuilder(self.prices)
        else:
            self.builder.add(event)

    def result(self) -> Report:
        return self.builder.result()
