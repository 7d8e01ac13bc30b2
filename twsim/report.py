"""The amplification report: what each inbound text caused, built from events alone.

`ReportBuilder.add` takes events one at a time (live progress uses it as they happen);
`build` folds a whole log or recording. With another price table, every charge is
re-priced ("what if") from the price key the charge event carries. The derived tables
(per text position, per sender, repeated answers, UCS-2) come from `twsim.report_figures`.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hdrh.histogram import HdrHistogram

from twsim import report_figures
from twsim.core.pricing import Charge, PriceTable, format_money
from twsim.events import Event, EventType
from twsim.report_figures import ZERO, ratio

_HIGHEST_US = 3_600_000_000  # one hour, in microseconds


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, _HIGHEST_US, 3)


def percentiles(histogram: HdrHistogram) -> dict[str, float | None]:
    """p50/p90/p99/max in milliseconds (None when nothing was recorded)."""
    if histogram.get_total_count() == 0:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    return {
        "count": histogram.get_total_count(),
        "p50": histogram.get_value_at_percentile(50) / 1000,
        "p90": histogram.get_value_at_percentile(90) / 1000,
        "p99": histogram.get_value_at_percentile(99) / 1000,
        "max": histogram.get_max_value() / 1000,
    }


def record_ms(histogram: HdrHistogram, ms: float) -> None:
    histogram.record_value(min(max(int(ms * 1000), 1), _HIGHEST_US))


@dataclass(slots=True)
class _Inbound:
    sender: str
    body: str
    position: int
    segments: int
    outbound: int = 0
    outbound_segments: int = 0
    cost: Decimal = ZERO
    answered: bool = False


@dataclass(slots=True)
class _Outbound:
    inbound: str | None
    origin: str
    segments: int
    status: str
    body: str
    encoding: str
    ucs2_chars: str


@dataclass(slots=True)
class Totals:
    count: int = 0
    segments: int = 0
    cost: Decimal = ZERO

    def add(self, segments: int = 0, cost: Decimal = ZERO, count: int = 1) -> None:
        self.count += count
        self.segments += segments
        self.cost += cost

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "segments": self.segments, "cost": format_money(self.cost)}


class ReportBuilder:
    """Folds events into report figures; cheap enough to call on every event."""

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.prices = prices
        self.currency = prices.currency if prices else "USD"
        self.inbound: dict[str, _Inbound] = {}
        self.outbound: dict[str, _Outbound] = {}
        self.inbound_cost = ZERO
        self.outbound_cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.unattributed_cost = ZERO
        self._texts_by_sender: Counter[str] = Counter()
        self.webhook_latency = new_histogram()
        self.lateness = new_histogram()
        self.errors: Counter[int] = Counter()
        self.webhooks = 0
        self.webhook_failures = 0
        self.callbacks = 0
        self.callback_failures = 0
        self.api_calls: Counter[int] = Counter()
        self.rejected_inbound = 0
        self.rejected_outbound = 0
        self.auto_replies = 0
        self.planned = 0
        self.first_t: float | None = None
        self.last_t = 0.0

    # -- folding -------------------------------------------------------------------------------
    def add(self, event: Event) -> None:
        if event.type in _NOT_TRAFFIC:
            return  # the gateway's set-up, not part of the run: no effect on its duration
        if event.type is not EventType.SEND_PLANNED:
            # the gateway's clock times the run; a harness talking to a remote gateway
            # writes its send.planned events without a time on that clock
            if self.first_t is None:
                self.first_t = event.t
            self.last_t = event.t
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event)

    def _inbound_received(self, e: Event) -> None:
        d = e.data
        sender = str(d.get("From") or "")
        self._texts_by_sender[sender] += 1
        self.inbound[e.inbound or ""] = _Inbound(
            sender=sender,
            body=str(d.get("body") or ""),
            position=self._texts_by_sender[sender],
            segments=int(d.get("segments") or 1),
        )

    def _message_created(self, e: Event) -> None:
        d = e.data
        origin = "reply" if d.get("direction") == "outbound-reply" else "api"
        segments = int(d.get("segments") or 1)
        self.outbound[e.message or ""] = _Outbound(
            inbound=e.inbound,
            origin=origin,
            segments=segments,
            status=str(d.get("status") or "queued"),
            body=str(d.get("body") or ""),
            encoding=str(d.get("encoding") or "GSM-7"),
            ucs2_chars=str(d.get("ucs2_chars") or ""),
        )
        source = self.inbound.get(e.inbound or "")
        if source is not None:
            source.outbound += 1
            source.outbound_segments += segments
            source.answered = True

    def _message_status(self, e: Event) -> None:
        message = self.outbound.get(e.message or "")
        if message is not None:
            message.status = str(e.data.get("status"))
        code = e.data.get("error_code")
        if code:
            self.errors[int(code)] += 1

    def _charge(self, e: Event) -> None:
        raw = e.data.get("charge")
        if not raw:
            return
        charge = Charge.from_dict(raw)
        if self.prices is not None:
            with contextlib.suppress(ValueError):
                charge = self.prices.reprice(charge)
        cost = charge.total
        if charge.key.direction == "inbound":
            self.inbound_cost += cost
            return
        message = self.outbound.get(e.message or "")
        self.outbound_cost[e.message or ""] += cost
        source = self.inbound.get(e.inbound or "") if e.inbound else None
        if source is not None:
            source.cost += cost
        elif message is not None:
            self.unattributed_cost += cost

    def _webhook_attempt(self, e: Event) -> None:
        self.webhooks += 1
        d = e.data
        if d.get("latency_ms") is not None:
            record_ms(self.webhook_latency, float(d["latency_ms"]))
        status = d.get("http_status")
        # no answer at all, or an answer that is not 2xx (Twilio's 11200 either way)
        if d.get("error_code") or not (isinstance(status, int) and 200 <= status < 300):
            self.webhook_failures += 1

    def _warning(self, e: Event) -> None:
        self.errors[int(e.data.get("code") or 0)] += 1

    def _rejected(self, e: Event) -> None:
        code = int(e.data.get("code") or 0)
        if e.type is EventType.INBOUND_REJECTED:
            self.rejected_inbound += 1
        else:
            self.rejected_outbound += 1
        # a <Message> the gateway refused is counted once, as its TwiML warning (14101...)
        if (
            e.type is EventType.INBOUND_REJECTED
            or not e.inbound
            or e.data.get("direction") != "outbound-reply"
        ):
            self.errors[code] += 1

    def _callback(self, e: Event) -> None:
        self.callbacks += 1
        code = e.data.get("error_code")
        if code:
            self.callback_failures += 1
            self.errors[int(code)] += 1

    def _api(self, e: Event) -> None:
        self.api_calls[int(e.data.get("status") or 0)] += 1

    def _planned(self, e: Event) -> None:
        self.planned += 1
        lateness = e.data.get("lateness_ms")
        if lateness is not None:
            record_ms(self.lateness, max(float(lateness), 0.001))

    def _auto_reply(self, e: Event) -> None:
        self.auto_replies += 1

    # -- results -------------------------------------------------------------------------------
    def result(self) -> Report:
        return Report.from_builder(self)


_NOT_TRAFFIC = frozenset({EventType.NUMBER_CHANGED, EventType.RESET})

_HANDLERS = {
    EventType.INBOUND_RECEIVED: ReportBuilder._inbound_received,
    EventType.MESSAGE_CREATED: ReportBuilder._message_created,
    EventType.MESSAGE_STATUS: ReportBuilder._message_status,
    EventType.CHARGE: ReportBuilder._charge,
    EventType.WEBHOOK_ATTEMPT: ReportBuilder._webhook_attempt,
    EventType.TWIML_WARNING: ReportBuilder._warning,
    EventType.INBOUND_REJECTED: ReportBuilder._rejected,
    EventType.MESSAGE_REJECTED: ReportBuilder._rejected,
    EventType.CALLBACK_ATTEMPT: ReportBuilder._callback,
    EventType.API_REQUEST: ReportBuilder._api,
    EventType.SEND_PLANNED: ReportBuilder._planned,
    EventType.AUTO_REPLY: ReportBuilder._auto_reply,
}


@dataclass(slots=True)
class Report:
    currency: str
    inbound: Totals
    outbound: Totals
    outbound_by_origin: dict[str, Totals]
    outbound_by_status: dict[str, int]
    amplification: dict[str, float]
    by_position: list[dict[str, Any]]
    senders: int
    worst_senders: list[dict[str, Any]]
    repeated_answers: list[dict[str, Any]]
    webhook: dict[str, Any]
    callbacks: dict[str, int]
    errors: dict[int, int]
    ucs2: dict[str, Any]
    lateness: dict[str, Any]
    api_calls: dict[int, int]
    rejected: dict[str, int]
    auto_replies: int
    total_cost: Decimal
    duration_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_builder(cls, b: ReportBuilder) -> Report:
        inbound = Totals()
        for item in b.inbound.values():
            inbound.add(item.segments)
        inbound.cost = b.inbound_cost
        outbound = Totals()
        by_origin = {"reply": Totals(), "api": Totals()}
        by_status: Counter[str] = Counter()
        for sid, message in b.outbound.items():
            cost = b.outbound_cost.get(sid, ZERO)
            outbound.add(message.segments, cost)
            by_origin[message.origin].add(message.segments, cost)
            by_status[message.status] += 1
        n = inbound.count
        amplification = {
            "messages": ratio(outbound.count, n),
            "segments": ratio(outbound.segments, n),
            "cost": ratio(outbound.cost, n),
            "replies": ratio(by_origin["reply"].count, n),
            "api": ratio(by_origin["api"].count, n),
        }
        return cls(
            currency=b.currency,
            inbound=inbound,
            outbound=outbound,
            outbound_by_origin=by_origin,
            outbound_by_status=dict(sorted(by_status.items())),
            amplification=amplification,
            by_position=report_figures.by_position(b),
            senders=len(b._texts_by_sender),
            worst_senders=report_figures.worst_senders(b),
            repeated_answers=report_figures.repeated_answers(b),
            webhook={
                "requests": b.webhooks,
                "failures": b.webhook_failures,
                "latency_ms": percentiles(b.webhook_latency),
            },
            callbacks={"requests": b.callbacks, "failures": b.callback_failures},
            errors=dict(sorted(b.errors.items())),
            ucs2=report_figures.ucs2(b),
            lateness={"sends": b.planned, **percentiles(b.lateness)},
            api_calls=dict(sorted(b.api_calls.items())),
            rejected={"inbound": b.rejected_inbound, "outbound": b.rejected_outbound},
            auto_replies=b.auto_replies,
            total_cost=inbound.cost + outbound.cost,
            duration_s=round(b.last_t - (b.first_t or 0.0), 3),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "inbound": self.inbound.to_json(),
            "outbound": {
                **self.outbound.to_json(),
                "by_origin": {k: v.to_json() for k, v in self.outbound_by_origin.items()},
                "by_status": self.outbound_by_status,
            },
            "amplification": self.amplification,
            "by_position": self.by_position,
            "senders": self.senders,
            "worst_senders": self.worst_senders,
            "repeated_answers": self.repeated_answers,
            "webhook": self.webhook,
            "callbacks": self.callbacks,
            "errors": {str(k): v for k, v in self.errors.items()},
            "ucs2": self.ucs2,
            "lateness_ms": self.lateness,
            "api_calls": {str(k): v for k, v in self.api_calls.items()},
            "rejected": self.rejected,
            "auto_replies": self.auto_replies,
            "total_cost": format_money(self.total_cost),
            "duration_s": self.duration_s,
            **self.extra,
        }


def build(events: Iterable[Event], *, prices: PriceTable | None = None) -> Report:
    builder = ReportBuilder(prices)
    for event in events:
        builder.add(event)
    return builder.result()
