"""The amplification report: what each inbound text caused, built from events alone.

`ReportBuilder.add` takes events one at a time (live progress uses it as they happen);
`build` folds a whole log or recording. With another price table, every charge is
re-priced ("what if") from the price key the charge event carries. The derived tables
(per text position, per sender, repeated answers, UCS-2) come from `twsim.analysis.figures`.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from twsim.analysis import figures
from twsim.analysis.histograms import new_histogram, percentiles, record_ms
from twsim.analysis.side_effects import KINDS as SIDE_EFFECT_KINDS
from twsim.analysis.side_effects import SideEffects, SideEffectsBuilder
from twsim.analysis.tallies import ZERO, OutboundTally, TextTally, Totals, ratio
from twsim.core.pricing import Charge, PriceTable, format_money
from twsim.model.attribution import METHODS, TWIML
from twsim.model.events import (
    ApiRequest,
    AutoReply,
    CallbackAttempt,
    Charged,
    Event,
    InboundReceived,
    InboundRejected,
    MessageCreated,
    MessageRejected,
    MessageStatusChanged,
    NumberChanged,
    Reset,
    SendPlanned,
    TwimlWarning,
    WebhookAttempt,
)

UNATTRIBUTED = "unattributed"


class ReportBuilder:
    """Folds events into report figures; cheap enough to call on every event."""

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.prices = prices
        self.currency = prices.currency if prices else "USD"
        self.inbound: dict[str, TextTally] = {}
        self.outbound: dict[str, OutboundTally] = {}
        self.inbound_cost = ZERO
        self.outbound_cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.unattributed_cost = ZERO
        self.carrier_fees = ZERO
        self._texts_by_sender: Counter[str] = Counter()
        self.webhook_latency = new_histogram()
        self.webhook_queued = new_histogram()  # waits for a slot, of the webhooks that waited
        self.webhooks_queued = 0
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
        # running totals for live progress (the report itself sums the tallies)
        self.cost_so_far = ZERO
        self.replies = 0
        self.api_sends = 0
        self.side_effects = SideEffectsBuilder()

    # -- folding -------------------------------------------------------------------------------
    def add(self, event: Event) -> None:
        kind = type(event)
        if kind in _OBSERVED:  # the app's other channels: no part of the run's duration
            self.side_effects.add(event)
            return
        if kind in _NOT_TRAFFIC:
            return  # the gateway's set-up, not part of the run: no effect on its duration
        if kind is not SendPlanned:
            # the gateway's clock times the run; a harness talking to a remote gateway
            # writes its send.planned events without a time on that clock
            if self.first_t is None:
                self.first_t = event.t
            self.last_t = event.t
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)

    def _inbound_received(self, e: InboundReceived) -> None:
        sender = e.from_
        self._texts_by_sender[sender] += 1
        self.inbound[e.inbound or ""] = TextTally(
            sender=sender,
            body=e.body,
            position=self._texts_by_sender[sender],
            segments=e.segments or 1,
        )

    def _message_created(self, e: MessageCreated) -> None:
        segments = e.segments or 1
        self.outbound[e.message or ""] = OutboundTally(
            inbound=e.inbound,
            origin="reply" if e.is_reply else "api",
            attributed=e.attributed,
            segments=segments,
            status=e.status,
            body=e.body,
            encoding=e.encoding,
            ucs2_chars=e.ucs2_chars,
        )
        if e.is_reply:
            self.replies += 1
        else:
            self.api_sends += 1
        source = self.inbound.get(e.inbound or "")
        if source is not None:
            source.outbound += 1
            source.outbound_segments += segments
            source.answered = True

    def _message_status(self, e: MessageStatusChanged) -> None:
        message = self.outbound.get(e.message or "")
        if message is not None:
            message.status = e.status
        if e.error_code:
            self.errors[e.error_code] += 1

    def _charge(self, e: Charged) -> None:
        if not e.charge:
            return
        charge = Charge.from_dict(e.charge)
        if self.prices is not None:
            with contextlib.suppress(ValueError):
                charge = self.prices.reprice(charge)
        cost = charge.total
        self.carrier_fees += charge.carrier_fee
        self.cost_so_far += cost
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

    def _webhook_attempt(self, e: WebhookAttempt) -> None:
        self.webhooks += 1
        if e.latency_ms is not None:
            record_ms(self.webhook_latency, e.latency_ms)
        if e.queued_ms is not None:
            self.webhooks_queued += 1
            record_ms(self.webhook_queued, e.queued_ms)
        if e.failed:
            self.webhook_failures += 1

    def _warning(self, e: TwimlWarning) -> None:
        self.errors[e.code] += 1

    def _inbound_rejected(self, e: InboundRejected) -> None:
        self.rejected_inbound += 1
        self.errors[e.code] += 1

    def _message_rejected(self, e: MessageRejected) -> None:
        self.rejected_outbound += 1
        # a <Message> the gateway refused is counted once, as its TwiML warning (14101...)
        if not e.inbound or e.direction != "outbound-reply":
            self.errors[e.code] += 1

    def _callback(self, e: CallbackAttempt) -> None:
        self.callbacks += 1
        if e.error_code:
            self.callback_failures += 1
            self.errors[e.error_code] += 1

    def _api(self, e: ApiRequest) -> None:
        self.api_calls[e.status] += 1

    def _planned(self, e: SendPlanned) -> None:
        self.planned += 1
        if e.lateness_ms is not None:
            record_ms(self.lateness, max(e.lateness_ms, 0.001))

    def _auto_reply(self, e: AutoReply) -> None:
        self.auto_replies += 1

    # -- results -------------------------------------------------------------------------------
    def result(self) -> Report:
        return Report.from_builder(self)


_NOT_TRAFFIC: frozenset[type[Event]] = frozenset({NumberChanged, Reset})
_OBSERVED: frozenset[type[Event]] = frozenset(SIDE_EFFECT_KINDS)

_HANDLERS: dict[type[Event], Callable[[ReportBuilder, Any], None]] = {
    InboundReceived: ReportBuilder._inbound_received,
    MessageCreated: ReportBuilder._message_created,
    MessageStatusChanged: ReportBuilder._message_status,
    Charged: ReportBuilder._charge,
    WebhookAttempt: ReportBuilder._webhook_attempt,
    TwimlWarning: ReportBuilder._warning,
    InboundRejected: ReportBuilder._inbound_rejected,
    MessageRejected: ReportBuilder._message_rejected,
    CallbackAttempt: ReportBuilder._callback,
    ApiRequest: ReportBuilder._api,
    SendPlanned: ReportBuilder._planned,
    AutoReply: ReportBuilder._auto_reply,
}


@dataclass(slots=True)
class Report:
    currency: str
    inbound: Totals
    outbound: Totals
    outbound_by_origin: dict[str, Totals]
    outbound_by_status: dict[str, int]
    amplification: dict[str, float]
    unattributed: Totals
    attribution: dict[str, int]
    carrier_fees: Decimal
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
    side_effects: SideEffects | None = None  # the app's other channels (None: not folded)

    @classmethod
    def from_builder(cls, b: ReportBuilder) -> Report:
        inbound = Totals()
        for item in b.inbound.values():
            inbound.add(item.segments)
        inbound.cost = b.inbound_cost
        outbound = Totals()
        by_origin = {"reply": Totals(), "api": Totals()}
        by_status: Counter[str] = Counter()
        caused = Totals()  # what the run's texts caused: the amplification's numerator
        caused_by_origin = {"reply": 0, "api": 0}
        unattributed = Totals()
        methods: Counter[str] = Counter({m: 0 for m in (*METHODS, UNATTRIBUTED)})
        for sid, message in b.outbound.items():
            cost = b.outbound_cost.get(sid, ZERO)
            outbound.add(message.segments, cost)
            by_origin[message.origin].add(message.segments, cost)
            by_status[message.status] += 1
            if message.inbound is not None and message.inbound in b.inbound:
                caused.add(message.segments, cost)
                caused_by_origin[message.origin] += 1
                methods[message.attributed or (TWIML if message.origin == "reply" else "")] += 1
            else:
                unattributed.add(message.segments, cost)
                methods[UNATTRIBUTED] += 1
        methods.pop("", None)
        n = inbound.count
        amplification = {
            "messages": ratio(caused.count, n),
            "segments": ratio(caused.segments, n),
            "cost": ratio(caused.cost, n),
            "replies": ratio(caused_by_origin["reply"], n),
            "api": ratio(caused_by_origin["api"], n),
        }
        side_effects = b.side_effects.result(b.inbound)
        report = cls(
            currency=b.currency,
            inbound=inbound,
            outbound=outbound,
            outbound_by_origin=by_origin,
            outbound_by_status=dict(sorted(by_status.items())),
            amplification=amplification,
            unattributed=unattributed,
            attribution=dict(methods),
            carrier_fees=b.carrier_fees,
            by_position=figures.by_position(b.inbound.values()),
            senders=len(b._texts_by_sender),
            worst_senders=figures.worst_senders(b.inbound.values()),
            repeated_answers=figures.repeated_answers(b.inbound.values()),
            webhook={
                "requests": b.webhooks,
                "failures": b.webhook_failures,
                "latency_ms": percentiles(b.webhook_latency),
                "queued": {"webhooks": b.webhooks_queued, **percentiles(b.webhook_queued)},
            },
            callbacks={"requests": b.callbacks, "failures": b.callback_failures},
            errors=dict(sorted(b.errors.items())),
            ucs2=figures.ucs2(b.outbound, b.outbound_cost),
            lateness={"sends": b.planned, **percentiles(b.lateness)},
            api_calls=dict(sorted(b.api_calls.items())),
            rejected={"inbound": b.rejected_inbound, "outbound": b.rejected_outbound},
            auto_replies=b.auto_replies,
            total_cost=inbound.cost + outbound.cost,
            duration_s=round(b.last_t - (b.first_t or 0.0), 3),
            side_effects=side_effects,
        )
        side_effects.extend(report.by_position, "position")
        side_effects.extend(report.worst_senders, "sender")
        return report

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
            "unattributed": self.unattributed.to_json(),
            "attribution": self.attribution,
            "carrier_fees": format_money(self.carrier_fees),
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
            **({"side_effects": self.side_effects.to_json()} if self.side_effects else {}),
            **self.extra,
        }


def build(events: Iterable[Event], *, prices: PriceTable | None = None) -> Report:
    builder = ReportBuilder(prices)
    for event in events:
        builder.add(event)
    return builder.result()
