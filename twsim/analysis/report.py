"""The amplification report: what each inbound text caused, built from events alone.

`ReportBuilder.add` takes events one at a time and keeps running totals (the gateway's
live report and live progress use it as events happen); `build` folds a whole log or
recording. With another price table, every charge is
re-priced ("what if") from the price key the charge event carries. The derived tables
(per text position, per sender, repeated answers, UCS-2) come from `twsim.analysis.figures`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from twsim.analysis import figures
from twsim.analysis.histograms import new_histogram, percentiles, record_ms
from twsim.analysis.side_effects import KINDS as SIDE_EFFECT_KINDS
from twsim.analysis.side_effects import SideEffects, SideEffectsBuilder
from twsim.analysis.tallies import (
    ZERO,
    GroupTally,
    OutboundTally,
    Recent,
    ReportLimits,
    TextTally,
    Totals,
    Ucs2Tally,
    ratio,
)
from twsim.core.pricing import Charge, PriceTable, format_money
from twsim.core.segments import Encoding, segment
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
    """Folds events into report figures as they come; cheap enough to call on every event.

    Every total is a running sum, so a builder subscribed to a gateway from its start
    reports the whole run exactly while the gateway keeps only its latest events. What it
    keeps one by one (recent texts and messages, senders, answered bodies) is bounded by
    `limits` (`ReportLimits`).
    """

    def __init__(
        self, prices: PriceTable | None = None, limits: ReportLimits | None = None
    ) -> None:
        self.prices = prices
        self.limits = limits = limits or ReportLimits()
        self.currency = prices.currency if prices else "USD"
        self.inbound = Totals()
        self.outbound = Totals()
        self.outbound_by_origin = {"reply": Totals(), "api": Totals()}
        self.outbound_by_status: Counter[str] = Counter()
        self.caused = Totals()  # what the run's texts caused: the amplification's numerator
        self.caused_by_origin = {"reply": 0, "api": 0}
        self.unattributed = Totals()
        self.attribution: Counter[str] = Counter({m: 0 for m in (*METHODS, UNATTRIBUTED)})
        self.carrier_fees = ZERO
        self.texts: Recent[str, TextTally] = Recent(limits.texts)
        self.messages: Recent[str, OutboundTally] = Recent(limits.messages)
        self.senders: dict[str, GroupTally] = {}
        self.positions: dict[int, GroupTally] = {}
        self.answered: dict[tuple[str, str], int] = {}
        self.ucs2 = Ucs2Tally()
        self.ucs2_chars: Counter[str] = Counter()
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

    @property
    def total_cost(self) -> Decimal:
        return self.inbound.cost + self.outbound.cost

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
        segments = e.segments or 1
        self.inbound.add(segments)
        sender = e.from_
        group = self.senders.get(sender)
        if group is None and len(self.senders) < self.limits.senders:
            group = self.senders[sender] = GroupTally()
        if group is None:
            tally = TextTally(sender, "", 0, segments, tracked=False)
        else:
            group.inbound += 1
            position = min(group.inbound, self.limits.positions)
            key = e.body.strip().lower()[: self.limits.answer_chars]
            tally = TextTally(sender, key, position, segments, tracked=True)
            self._position(position).inbound += 1
        self.texts[e.inbound or ""] = tally

    def _position(self, position: int) -> GroupTally:
        group = self.positions.get(position)
        if group is None:
            group = self.positions[position] = GroupTally()
        return group

    def _message_created(self, e: MessageCreated) -> None:
        segments = e.segments or 1
        origin = "reply" if e.is_reply else "api"
        source = self.texts.get(e.inbound or "") if e.inbound is not None else None
        message = OutboundTally(
            inbound=e.inbound,
            origin=origin,
            attributed=e.attributed,
            segments=segments,
            status=e.status,
            caused=source is not None,
        )
        self.outbound.add(segments)
        self.outbound_by_origin[origin].add(segments)
        self.outbound_by_status[e.status] += 1
        if e.is_reply:
            self.replies += 1
        else:
            self.api_sends += 1
        if source is not None:
            self.caused.add(segments)
            self.caused_by_origin[origin] += 1
            method = e.attributed or (TWIML if origin == "reply" else "")
            if method:
                self.attribution[method] += 1
            source.outbound += 1
            source.outbound_segments += segments
            if source.tracked:
                self.senders[source.sender].outbound += 1
                self._position(source.position).outbound += 1
                if not source.answered:
                    self._answered((source.sender, source.answer_key))
            source.answered = True
        else:
            self.unattributed.add(segments)
            self.attribution[UNATTRIBUTED] += 1
        if e.encoding == Encoding.UCS2:
            message.extra_segments = self._ucs2(e, segments)
        self.messages[e.message or ""] = message

    def _answered(self, key: tuple[str, str]) -> None:
        answered = self.answered
        answered[key] = answered.get(key, 0) + 1
        if len(answered) > self.limits.answers:  # forget pairs answered once, oldest first
            for once in [k for k, n in answered.items() if n == 1][: len(answered) // 2]:
                del answered[once]

    def _ucs2(self, e: MessageCreated, segments: int) -> int:
        """Count a UCS-2 message; the segments its UCS-2 characters added."""
        self.ucs2.messages += 1
        chars = self.ucs2_chars
        for ch in dict.fromkeys(e.ucs2_chars):
            if ch in chars or len(chars) < self.limits.chars:
                chars[ch] += 1
        as_gsm = segment("".join("?" if ch in e.ucs2_chars else ch for ch in e.body)).count
        extra = max(0, segments - as_gsm)
        self.ucs2.extra_segments += extra
        return extra

    def _message_status(self, e: MessageStatusChanged) -> None:
        message = self.messages.get(e.message or "")
        by_status = self.outbound_by_status
        previous = message.status if message is not None else e.previous
        # a message created so long ago that its tally was dropped still moves its status
        forgotten = message is None and self.messages.dropped and by_status.get(previous, 0)
        if message is not None or forgotten:
            by_status[previous] -= 1
            if not by_status[previous]:
                del by_status[previous]
            by_status[e.status] += 1
        if message is not None:
            message.status = e.status
        if e.error_code:
            self.errors[e.error_code] += 1

    def _charge(self, e: Charged) -> None:
        if not e.charge:
            return
        if self.prices is None and e.total is not None:
            # as charged: read straight from the event (the fold's hottest line per message)
            cost, fee = Decimal(e.total), Decimal(e.charge["carrier_fee"])
            direction = e.charge["direction"]
        else:
            charge = Charge.from_dict(e.charge)
            if self.prices is not None:
                with contextlib.suppress(ValueError):
                    charge = self.prices.reprice(charge)
            cost, fee, direction = charge.total, charge.carrier_fee, charge.key.direction
        self.carrier_fees += fee
        self.cost_so_far += cost
        if direction == "inbound":
            self.inbound.cost += cost
            return
        source = self.texts.get(e.inbound or "") if e.inbound else None
        if source is not None:
            source.cost += cost
            if source.tracked:
                self.senders[source.sender].cost += cost
                self._position(source.position).cost += cost
        message = self.messages.get(e.message or "")
        if message is None:
            return  # a message this report never saw created: not in its outbound totals
        self.outbound.cost += cost
        self.outbound_by_origin[message.origin].cost += cost
        if message.caused:
            self.caused.cost += cost
        else:
            self.unattributed.cost += cost
        if message.extra_segments and message.segments:
            self.ucs2.extra_cost += cost * message.extra_segments / message.segments

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
        n = b.inbound.count
        caused = b.caused
        amplification = {
            "messages": ratio(caused.count, n),
            "segments": ratio(caused.segments, n),
            "cost": ratio(caused.cost, n),
            "replies": ratio(b.caused_by_origin["reply"], n),
            "api": ratio(b.caused_by_origin["api"], n),
        }
        tracked = {sid: t for sid, t in b.texts.items() if t.tracked}  # the recent texts
        side_effects = b.side_effects.result(tracked, count=b.inbound.count)
        report = cls(
            currency=b.currency,
            inbound=b.inbound.copy(),
            outbound=b.outbound.copy(),
            outbound_by_origin={k: v.copy() for k, v in b.outbound_by_origin.items()},
            outbound_by_status=dict(sorted(b.outbound_by_status.items())),
            amplification=amplification,
            unattributed=b.unattributed.copy(),
            attribution=dict(b.attribution),
            carrier_fees=b.carrier_fees,
            by_position=figures.by_position(b.positions),
            senders=len(b.senders),
            worst_senders=figures.worst_senders(b.senders),
            repeated_answers=figures.repeated_answers(b.answered),
            webhook={
                "requests": b.webhooks,
                "failures": b.webhook_failures,
                "latency_ms": percentiles(b.webhook_latency),
                "queued": {"webhooks": b.webhooks_queued, **percentiles(b.webhook_queued)},
            },
            callbacks={"requests": b.callbacks, "failures": b.callback_failures},
            errors=dict(sorted(b.errors.items())),
            ucs2=figures.ucs2(b.ucs2, b.ucs2_chars),
            lateness={"sends": b.planned, **percentiles(b.lateness)},
            api_calls=dict(sorted(b.api_calls.items())),
            rejected={"inbound": b.rejected_inbound, "outbound": b.rejected_outbound},
            auto_replies=b.auto_replies,
            total_cost=b.total_cost,
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
