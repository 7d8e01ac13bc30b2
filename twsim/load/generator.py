"""The ab-style load mode: N signed webhooks straight at an app endpoint.

Like `ab -n N -c C`, but every request is the webhook Twilio would send for an inbound
text, signed with the account's token, and every answer is read as Twilio reads it, so
the run also estimates what the traffic and the replies it provoked would cost. With
`rate`, requests start on an open schedule (R per second, lateness measured) instead of
C at a time.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from twsim.analysis.histograms import new_histogram, percentiles, record_ms
from twsim.analysis.series import Timeline, latency_bin, timeline_json
from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER
from twsim.core import phone
from twsim.core.answer import AnswerKind, interpret
from twsim.core.connection import ConnectionSettings
from twsim.core.ids import Prefix, SidFactory
from twsim.core.lifecycle import MessageDirection, MessageStatus
from twsim.core.pricing import (
    Channel,
    Direction,
    NumberType,
    PriceKey,
    PriceTable,
    PricingError,
    format_money,
)
from twsim.core.segments import segment
from twsim.core.signature import Signer
from twsim.gateway.egress import EgressPolicy
from twsim.gateway.webhook_client import WebhookClient, WebhookRequest, WebhookResult
from twsim.gateway.webhook_params import inbound_params
from twsim.model.clock import Clock, SystemClock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.records import Message, media_of, new_message

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_STANDARD = {"From", "To", "Body", "MediaUrl", "body"}


@dataclass(slots=True)
class LoadSpec:
    url: str
    requests: int = 1000
    concurrency: int = 10
    rate: float | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    to: str = DEFAULT_NUMBER
    method: str = "POST"
    timeout_s: float = 15.0
    seed: int = 0


@dataclass(slots=True)
class LoadResult:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    inbound_segments: int = 0
    inbound_cost: Decimal = Decimal(0)
    replies: int = 0
    reply_segments: int = 0
    reply_cost: Decimal = Decimal(0)
    latency: Any = field(default_factory=new_histogram)
    lateness: Any = field(default_factory=new_histogram)
    # along the run, for charts: answers (as inbound texts), replies and errors per bucket
    timeline: Timeline = field(default_factory=Timeline)
    schedule: Timeline = field(default_factory=Timeline)
    latency_bins: Counter[int] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def amplification(self) -> float:
        return round(self.replies / self.requests, 4) if self.requests else 0.0

    @property
    def total_cost(self) -> Decimal:
        return self.inbound_cost + self.reply_cost

    def series(self) -> dict[str, Any]:
        """The run's time series, as the HTML report draws them."""
        return timeline_json(self.timeline, self.schedule, self.latency_bins)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": {str(k): v for k, v in sorted(self.errors.items())},
            "answers": dict(self.answers),
            "elapsed_s": round(self.elapsed_s, 3),
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": percentiles(self.latency),
            "lateness_ms": percentiles(self.lateness),
            "inbound": {"segments": self.inbound_segments, "cost": format_money(self.inbound_cost)},
            "replies": {
                "count": self.replies,
                "segments": self.reply_segments,
                "cost": format_money(self.reply_cost),
            },
            "amplification": self.amplification,
            "total_cost": format_money(self.total_cost),
        }


class Load:
    def __init__(
        self,
        spec: LoadSpec,
        prices: PriceTable,
        *,
        clock: Clock | None = None,
        effects: EffectAttribution | None = None,
    ) -> None:
        self.spec = spec
        self.effects = effects  # told when each webhook starts and ends, for side effects
        self.prices = prices
        self.clock = clock or SystemClock()
        self.result = LoadResult()
        self.client = WebhookClient(
            self.clock,
            max_connections=max(spec.concurrency, 1) if spec.rate is None else 1000,
            egress=EgressPolicy.naming(spec.url),  # the URL given, and loopback for redirects
        )
        self.signer = Signer(spec.auth_token)
        self.settings = ConnectionSettings(
            connect_s=min(5.0, spec.timeout_s),
            read_s=spec.timeout_s,
            total_s=spec.timeout_s,
            retries=0,
        )
        self.sids = SidFactory(random.Random(f"{spec.seed}/load"))
        self._phones = [f"+1555{spec.seed % 1000:03d}{i:04d}" for i in range(100)]
        self.started = 0
        self.began: float | None = None  # the clock's time when the run started
        self.halted = False

    def _message(self, index: int) -> tuple[Message, list[tuple[str, str]]]:
        spec = self.spec
        row = spec.rows[index % len(spec.rows)] if spec.rows else {}
        body = str(row.get("Body", row.get("body", "test")))
        sender = (
            phone.normalize(str(row.get("From", ""))) or self._phones[index % len(self._phones)]
        )
        to = phone.normalize(str(row.get("To", ""))) or spec.to
        media = row.get("MediaUrl") or []
        media_urls = [media] if isinstance(media, str) else [str(m) for m in media]
        message = new_message(
            sid=self.sids.new(Prefix.MMS if media_urls else Prefix.SMS),
            account_sid=spec.account_sid,
            direction=MessageDirection.INBOUND,
            from_=sender,
            to=to,
            body=body,
            status=MessageStatus.RECEIVED,
            number_type=NumberType.LOCAL,
            country=phone.country_of(to) or "US",
            now=_EPOCH,
        )
        message.media = media_of(message, media_urls, self.sids)
        params = inbound_params(message, "https://api.twilio.com")
        extra = [(str(k), str(v)) for k, v in row.items() if k not in _STANDARD]
        if extra:
            names = {k for k, _ in extra}
            params = [p for p in params if p[0] not in names] + extra
        return message, params

    def _price(
        self, country: str, direction: Direction, channel: Channel, segments: int
    ) -> Decimal:
        try:
            return self.prices.charge(
                PriceKey(country, NumberType.LOCAL, direction, channel), segments
            ).total
        except PricingError:
            return Decimal(0)

    async def _one(self, index: int, lateness_s: float | None = None) -> None:
        message, params = self._message(index)
        request = WebhookRequest(
            url=self.spec.url,
            method=self.spec.method,
            params=params,
            signer=self.signer,
            idempotency_token=self.sids.token(),
            settings=self.settings,
        )
        if lateness_s is not None:
            planned_s = index / self.spec.rate if self.spec.rate else 0.0
            lateness_ms = max(lateness_s * 1000, 0.001)
            record_ms(self.result.lateness, lateness_ms)
            self.result.schedule.at(planned_s).record_latency(lateness_ms)
        effects = self.effects
        if effects is None:
            outcome = await self.client.send(request)
        else:
            effects.opened(message.sid, None, message.from_ or "")
            try:
                outcome = await self.client.send(request)
            finally:
                effects.closed(message.sid)
        self._count(message, outcome)

    def _count(self, message: Message, outcome: WebhookResult) -> None:
        """Tally one answer, and put it on the run's timeline."""
        r = self.result
        errors, replies = r.errors.total(), r.replies
        self._tally(message, outcome)
        latency_ms = outcome.latency_s * 1000
        r.latency_bins[latency_bin(latency_ms)] += 1
        bucket = r.timeline.at(self.clock.monotonic() - (self.began or 0.0))
        bucket.inbound[0] += 1
        bucket.record_latency(latency_ms)
        bucket.replies += r.replies - replies
        bucket.errors += r.errors.total() - errors

    def _tally(self, message: Message, outcome: WebhookResult) -> None:
        r = self.result
        r.requests += 1
        r.inbound_segments += message.num_segments
        channel = Channel.MMS if message.media else Channel.SMS
        r.inbound_cost += self._price(
            message.country, Direction.INBOUND, channel, message.num_segments
        )
        record_ms(r.latency, outcome.latency_s * 1000)
        if outcome.error_code is not None or outcome.status is None:
            r.errors[outcome.error_code or 11200] += 1
            return
        r.statuses[outcome.status] += 1
        answer = interpret(outcome.status, outcome.content_type, outcome.body)
        r.answers[str(answer.kind)] += 1
        if answer.kind is AnswerKind.ERROR:
            assert answer.error is not None
            r.errors[answer.error.code] += 1
            return
        # (body, has media, recipient) of each reply; a reply goes to the sender by default
        replies: list[tuple[str, bool, str]] = []
        if answer.kind is AnswerKind.TEXT and answer.text:
            replies = [(answer.text, False, message.from_ or "")]
        elif answer.document is not None:
            replies = [
                (m.body, bool(m.media), m.to or message.from_ or "")
                for m in answer.document.plan().messages
            ]
            for warning in answer.document.warnings:
                r.errors[warning.code] += 1
        for body, media, to in replies:
            segments = segment(body).count
            country = phone.country_of(to) or "US"
            channel = Channel.MMS if media else Channel.SMS
            r.replies += 1
            r.reply_segments += segments
            r.reply_cost += self._price(country, Direction.OUTBOUND, channel, segments)

    def halt(self) -> None:
        """Start no more requests (a run stopped early); those in flight carry on."""
        self.halted = True

    async def run(self) -> LoadResult:
        started = self.began = self.clock.monotonic()
        try:
            if self.spec.rate is None:
                await self._closed()
            else:
                await self._open(self.spec.rate)
        finally:
            self.result.elapsed_s = self.clock.monotonic() - started
            await self.client.close()
        return self.result

    async def _closed(self) -> None:
        """C workers, each starting its next request when the last one is answered."""

        async def worker() -> None:
            while self.started < self.spec.requests and not self.halted:
                index = self.started
                self.started += 1
                await self._one(index)

        await asyncio.gather(*(worker() for _ in range(max(1, self.spec.concurrency))))

    async def _open(self, rate: float) -> None:
        """Requests start on schedule, R per second, however slow the answers are."""
        clock = self.clock
        start = clock.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        for index in range(self.spec.requests):
            planned = start + index / rate
            delay = planned - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
            if self.halted:
                break
            self.started += 1
            task = loop.create_task(self._one(index, clock.monotonic() - planned))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)


def render(result: LoadResult, spec: LoadSpec) -> str:
    r = result.to_json()
    lat = r["latency_ms"]
    mode = f"rate {spec.rate:g}/s" if spec.rate else f"concurrency {spec.concurrency}"
    lines = [
        f"twsim load: {spec.url}  ({r['requests']} requests, {mode})",
        f"  completed        {r['requests']} in {r['elapsed_s']:.2f} s = {r['throughput_rps']:.1f} requests/s",
        f"  HTTP statuses    {', '.join(f'{k}: {v}' for k, v in r['statuses'].items()) or 'none'}",
        f"  latency ms       p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}",
    ]
    if spec.rate:
        late = r["lateness_ms"]
        lines.append(
            f"  start lateness   p50 {late['p50']}  p99 {late['p99']}  max {late['max']} ms"
        )
    lines += [
        f"  answers          {', '.join(f'{k}: {v}' for k, v in r['answers'].items()) or 'none'}",
        f"  errors           {', '.join(f'{k}: {v}' for k, v in r['errors'].items()) or 'none'}",
        f"  inbound          {r['inbound']['segments']} segments, ${r['inbound']['cost']}",
        f"  replies          {r['replies']['count']} messages ({r['amplification']:.2f} per request), {r['replies']['segments']} segments, ${r['replies']['cost']}",
        f"  estimated cost   ${r['total_cost']} (inbound + replies; REST sends the app made are not seen by this mode)",
    ]
    return "\n".join(lines)
