"""The ab-style load mode: N signed webhooks straight at an app endpoint.

Like `ab -n N -c C`, but every request is the webhook Twilio would send for an inbound
text, signed with the account's token, and every answer is read as Twilio reads it, so
the run also estimates what the traffic and the replies it provoked would cost.

Two models:

- closed (`concurrency`, like ab): C connections, each sending its next webhook when the
  last one is answered. A slow app slows the load down, and the waiting it causes is not
  in the latencies (what ab and wrk report too).
- open (`rate`): webhook i is due at `start + i / rate` whatever happened before it. Its
  latency and its timeout count from that planned start, so time spent waiting (for the
  generator, or for a free connection when `max_connections` caps them) is part of the
  latency and shown as start lateness and queueing. No client-side slot delays the clock.

Per request the path does only what the figures need: the row's pre-encoded request with
its SID and sender filled in and signed (`RequestPlan`), one write on a keep-alive
connection (`wire.Connection`, parsed by llhttp), one histogram record, the answer's
verdict (memoised `AnswerReader`) and prices by cached key. A redirect is followed by the
full webhook client.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Sequence
from urllib.parse import urljoin

from hdrh.histogram import HdrHistogram

from twsim.analysis.series import Bucket, latency_bin
from twsim.core import phone
from twsim.core.connection import ConnectionSettings
from twsim.core.pricing import Channel, PriceTable
from twsim.core.signature import Signer
from twsim.gateway.egress import EgressPolicy
from twsim.gateway.webhook_client import (
    MAX_RESPONSE_BYTES,
    REDIRECT_STATUSES,
    WebhookClient,
    WebhookRequest,
)
from twsim.load.answers import AnswerReader, Failure
from twsim.load.plan import Request, RequestPlan
from twsim.load.pricing import PriceCache
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec
from twsim.load.wire import (
    CLOSED_EARLY,
    Answer,
    Connection,
    connect_failure,
    descriptor_budget,
)
from twsim.model.clock import Clock, SystemClock
from twsim.model.effect_attribution import EffectAttribution

_BATCH = 256  # webhooks dispatched per scheduler turn before letting I/O run
_US = 1_000_000
_HIGHEST_US = 3_600_000_000


class _Exchange:
    """One webhook on its way: when it was due, dispatched and sent, and its timeout."""

    __slots__ = ("conn", "dispatched", "done", "planned", "request", "sent", "timer")

    def __init__(self, request: Request, planned: float, dispatched: float) -> None:
        self.request = request
        self.planned = planned
        self.dispatched = dispatched
        self.sent = dispatched
        self.conn: Connection | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.done = False


class Load:
    """One load run (or one worker's share of it: `indices`, starting at `start_at`)."""

    def __init__(
        self,
        spec: LoadSpec,
        prices: PriceTable,
        *,
        clock: Clock | None = None,
        indices: Sequence[int] | None = None,
        concurrency: int | None = None,
        start_at: float | None = None,
        effects: EffectAttribution | None = None,
    ) -> None:
        self.spec = spec
        self.effects = effects  # told when each webhook starts and ends, for side effects
        self.clock = clock or SystemClock()
        self.prices = PriceCache(prices)
        self.plan = RequestPlan(spec, self.prices)
        self.indices = indices if indices is not None else range(spec.requests)
        self.concurrency = concurrency or spec.concurrency
        self.start_at = start_at
        self.result = LoadResult(planned=len(self.indices), rate=spec.rate)
        if spec.rate is None:
            self.result.concurrency = min(self.concurrency, len(self.indices))
        self.reader = AnswerReader()
        self.max_connections = spec.max_connections or descriptor_budget()
        self._ssl = ssl.create_default_context() if self.plan.scheme == "https" else None
        self._next = 0
        self._remaining = len(self.indices)
        self._open = 0  # connections open or opening
        self._idle: list[Connection] = []
        self._queue: deque[_Exchange] = deque()
        self._in_flight: dict[Connection, _Exchange] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slow: WebhookClient | None = None
        self._finished: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start = 0.0
        self._reply_country: dict[str, str] = {}
        self.began: float | None = None  # the clock's time when the run started
        self.halted = False

    @property
    def started(self) -> int:
        return self._next

    def halt(self) -> None:
        """Start no more webhooks (a run stopped early); those on their way carry on."""
        if self.halted:
            return
        self.halted = True
        self.result.planned = self._next
        self._remaining -= len(self.indices) - self._next
        self._check_finished()

    def _check_finished(self) -> None:
        if self._remaining == 0 and self._finished is not None and not self._finished.done():
            self._finished.set_result(None)

    # -- running -------------------------------------------------------------------------------
    async def run(self) -> LoadResult:
        loop = self._loop = asyncio.get_running_loop()
        self._finished = loop.create_future()
        clock = self.clock
        if self.start_at is not None:
            with contextlib.suppress(ValueError):
                await clock.sleep(self.start_at - clock.monotonic())
        self._start = self.start_at if self.start_at is not None else clock.monotonic()
        self.began = self._start
        if not self.indices or self._remaining == 0:
            self._finished.set_result(None)
        elif self.spec.rate is None:
            for _ in range(min(self.concurrency, len(self.indices))):
                self._next_closed(None)
        else:
            self._tick()
        try:
            await self._finished
        finally:
            self.result.elapsed_s = clock.monotonic() - self._start
            for conn in self._idle:
                conn.close()
            for task in list(self._tasks):
                task.cancel()
            if self._slow is not None:
                await self._slow.close()
        return self.result

    def _next_closed(self, conn: Connection | None) -> None:
        """Closed model: this connection's next webhook, if any are left."""
        if self._next >= len(self.indices) or self.halted:
            if conn is not None:
                conn.close()
            return
        index = self.indices[self._next]
        self._next += 1
        now = self.clock.monotonic()
        exchange = _Exchange(self.plan.request(index), now, now)
        self._arm(exchange, now)
        if conn is not None and not conn.closed:
            self._send(conn, exchange)
        else:
            self._connect(exchange)

    def _tick(self) -> None:
        """Open model: dispatch every webhook that is due, then sleep until the next one."""
        assert self._loop is not None and self.spec.rate is not None
        rate, start, indices = self.spec.rate, self._start, self.indices
        now = self.clock.monotonic()
        batch = 0
        while self._next < len(indices) and not self.halted:
            index = indices[self._next]
            planned = start + index / rate
            if planned > now:
                self._loop.call_later(planned - now, self._tick)
                return
            if batch == _BATCH:
                self._loop.call_soon(self._tick)
                return
            batch += 1
            self._next += 1
            exchange = _Exchange(self.plan.request(index), planned, now)
            self._record(self.result.lateness, now - planned)
            self.result.schedule.at(index / rate).record_latency((now - planned) * 1000)
            self._arm(exchange, now)
            if self._idle:
                self._send(self._idle.pop(), exchange)
            elif self._open < self.max_connections:
                self._connect(exchange)
            else:
                self._queue.append(exchange)
                self.result.queued += 1
            now = self.clock.monotonic()

    def _arm(self, exchange: _Exchange, now: float) -> None:
        assert self._loop is not None
        deadline = exchange.planned + self.spec.timeout_s
        exchange.timer = self._loop.call_later(deadline - now, self._timed_out, exchange)

    def _connect(self, exchange: _Exchange) -> None:
        assert self._loop is not None
        conn = Connection(self, MAX_RESPONSE_BYTES)
        self._open += 1
        self.result.connections += 1
        exchange.conn = conn
        task = self._loop.create_task(self._open_connection(conn, exchange))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open_connection(self, conn: Connection, exchange: _Exchange) -> None:
        assert self._loop is not None
        plan = self.plan
        try:
            await self._loop.create_connection(
                lambda: conn,
                plan.host,
                plan.port,
                ssl=self._ssl,
                server_hostname=plan.host if self._ssl else None,
            )
        except OSError as exc:
            conn.closed = True
            if not exchange.done:
                self._fail(exchange, connect_failure(exc, plan.host))
            self._release(conn)
            return
        if exchange.done:  # timed out while connecting: keep the connection for the next one
            self._release(conn)
            return
        if conn.closed:  # accepted, then closed at once
            self._fail(exchange, CLOSED_EARLY)
            self._release(conn)
            return
        self._send(conn, exchange)

    def _send(self, conn: Connection, exchange: _Exchange) -> None:
        exchange.conn = conn
        exchange.sent = self.clock.monotonic()
        self._in_flight[conn] = exchange
        if self.effects is not None:
            self.effects.opened(exchange.request.sid, None, exchange.request.sender)
        conn.send(exchange.request.data)

    def _release(self, conn: Connection) -> None:
        """A connection is free again: give it the next waiting webhook, or keep it idle."""
        if conn.closed:
            self._open -= 1
            if self.spec.rate is None:
                self._next_closed(None)
            else:
                while self._queue and self._open < self.max_connections:
                    exchange = self._queue.popleft()
                    if not exchange.done:
                        self._queued_out(exchange)
                        self._connect(exchange)
                        break
            return
        if self.spec.rate is None:
            self._next_closed(conn)
            return
        while self._queue:
            exchange = self._queue.popleft()
            if not exchange.done:
                self._queued_out(exchange)
                self._send(conn, exchange)
                return
        self._idle.append(conn)

    def _queued_out(self, exchange: _Exchange) -> None:
        self._record(self.result.queueing, self.clock.monotonic() - exchange.dispatched)

    # -- Connection's owner callbacks -------------------------------------------------------------
    def answered(self, conn: Connection, answer: Answer) -> None:
        exchange = self._in_flight.pop(conn, None)
        if exchange is None or exchange.done:
            self._release(conn)
            return
        if answer.status in REDIRECT_STATUSES and answer.location:
            self._release(conn)
            self._follow(exchange, answer)
            return
        self._settle(exchange, answer.status, answer.content_type, answer.body)
        self._release(conn)

    def failed(self, conn: Connection, failure: Failure) -> None:
        exchange = self._in_flight.pop(conn, None)
        if exchange is not None and not exchange.done:
            self._fail(exchange, failure)
        self._release(conn)

    def _timed_out(self, exchange: _Exchange) -> None:
        if exchange.done:
            return
        conn = exchange.conn
        self._fail(exchange, Failure(11205, f"timed out after {self.spec.timeout_s:g} s"))
        if conn is not None and self._in_flight.get(conn) is exchange:
            del self._in_flight[conn]
            conn.abort()
            self._release(conn)

    # -- counting ----------------------------------------------------------------------------------
    def _close_exchange(self, exchange: _Exchange) -> None:
        if self.effects is not None and exchange.conn is not None:
            self.effects.closed(exchange.request.sid)
        exchange.done = True
        if exchange.timer is not None:
            exchange.timer.cancel()
        self._remaining -= 1
        self._check_finished()

    def _count_inbound(self, exchange: _Exchange) -> Bucket:
        """Count a finished webhook; its bucket on the run's timeline."""
        r, row = self.result, exchange.request.row
        r.requests += 1
        r.inbound_segments += row.segments
        r.inbound_cost += row.inbound_cost
        now = self.clock.monotonic()
        seconds = now - exchange.planned
        self._record(r.latency, seconds)
        ms = seconds * 1000
        r.latency_bins[latency_bin(ms)] += 1
        bucket = r.timeline.at(now - self._start)
        bucket.inbound[0] += 1
        bucket.record_latency(ms)
        return bucket

    def _fail(self, exchange: _Exchange, failure: Failure) -> None:
        self._count_inbound(exchange).errors += 1
        self.result.failures[(failure.code, failure.reason)] += 1
        self._close_exchange(exchange)

    def _settle(self, exchange: _Exchange, status: int, content_type: str, body: bytes) -> None:
        r = self.result
        bucket = self._count_inbound(exchange)
        r.statuses[status] += 1
        verdict = self.reader.read(status, content_type, body)
        r.answers[verdict.kind] += 1
        if verdict.failure is not None:
            r.failures[(verdict.failure.code, verdict.failure.reason)] += 1
            bucket.errors += 1
        else:
            r.successes += 1
            bucket.replies += len(verdict.replies)
            bucket.errors += len(verdict.warnings)
            for warning in verdict.warnings:
                r.warnings[(warning.code, warning.reason)] += 1
            sender = exchange.request.sender
            for reply in verdict.replies:
                to = reply.to or sender
                country = self._reply_country.get(to)
                if country is None:
                    country = self._reply_country[to] = _country(to)
                r.replies += 1
                r.reply_segments += reply.segments
                r.reply_cost += self.prices.outbound(
                    country, Channel.MMS if reply.media else Channel.SMS, reply.segments
                )
        self._close_exchange(exchange)

    @staticmethod
    def _record(histogram: HdrHistogram, seconds: float) -> None:
        value = int(seconds * _US)
        histogram.record_value(1 if value < 1 else min(value, _HIGHEST_US))

    # -- redirects: the full webhook client ---------------------------------------------------------
    def _follow(self, exchange: _Exchange, answer: Answer) -> None:
        assert self._loop is not None and answer.location is not None
        task = self._loop.create_task(self._follow_redirect(exchange, answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow_redirect(self, exchange: _Exchange, answer: Answer) -> None:
        assert answer.location is not None
        spec, plan = self.spec, self.plan
        if self._slow is None:
            # the host named on the command line, and loopback, as the egress policy allows
            self._slow = WebhookClient(self.clock, egress=EgressPolicy.naming(plan.url))
        method = "GET" if spec.method == "GET" or answer.status == 303 else spec.method
        remaining = max(exchange.planned + spec.timeout_s - self.clock.monotonic(), 0.001)
        result = await self._slow.send(
            WebhookRequest(
                url=urljoin(plan.url, answer.location),
                method=method,
                params=[] if spec.method == "GET" else exchange.request.params(),
                signer=Signer(spec.auth_token),
                idempotency_token=exchange.request.token,
                settings=ConnectionSettings(
                    connect_s=remaining, read_s=remaining, total_s=remaining, retries=0
                ),
            )
        )
        if exchange.done:
            return
        if result.status is None:
            self._fail(
                exchange,
                Failure(result.error_code or 11200, result.error or "HTTP retrieval failure"),
            )
        else:
            self._settle(exchange, result.status, result.content_type, result.body)


def _country(number: str) -> str:
    return phone.country_of(number) or "US"
