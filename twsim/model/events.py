"""The event log: every step the gateway takes, appended in order, with what caused it.

Reports, the recorder, live progress and the control API read or subscribe to this log;
they never reach into the handlers. Each event names its causes: the inbound message at
the root of its chain (`inbound`), the webhook attempt that produced it (`attempt`) and the
message it is about (`message`), so amplification is a query over the log.

Events are typed: one slotted dataclass per kind, read by attribute. On disk (and on the
control plane) an event is `{"seq", "t", "type", "inbound"?, "attempt"?, "message"?,
"data"}`, the data keys in field order; `From` and `To` keep Twilio's capitals. That is
recording format version 1, byte for byte as earlier releases wrote it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from enum import StrEnum
from itertools import islice
from typing import Any, ClassVar, TypeVar

from twsim.core.masking import mask_url
from twsim.model.clock import Clock
from twsim.model.records import Message


class EventType(StrEnum):
    API_REQUEST = "api.request"
    INBOUND_RECEIVED = "inbound.received"
    INBOUND_REJECTED = "inbound.rejected"
    WEBHOOK_ATTEMPT = "webhook.attempt"
    TWIML_EXECUTED = "twiml.executed"
    TWIML_WARNING = "twiml.warning"
    MESSAGE_CREATED = "message.created"
    MESSAGE_REJECTED = "message.rejected"
    MESSAGE_STATUS = "message.status"
    MESSAGE_UPDATED = "message.updated"
    MESSAGE_DELETED = "message.deleted"
    CALLBACK_ATTEMPT = "callback.attempt"
    CHARGE = "charge"
    OPT_OUT = "optout.changed"
    AUTO_REPLY = "optout.reply"
    NUMBER_CHANGED = "number.changed"
    SEND_PLANNED = "send.planned"
    RESET = "reset"
    OBSERVE_STARTED = "observe.started"
    OBSERVE_WARNING = "observe.warning"
    EMAIL_RECEIVED = "email.received"
    LOG_LINES = "log.lines"
    DB_ROWS = "db.rows"
    APP_SAMPLE = "app.sample"


_CAUSES = ("inbound", "attempt", "message")
_BASE = frozenset({"seq", "t", *_CAUSES})


@dataclass(slots=True, kw_only=True)
class Event:
    """One thing that happened: its number, its time offset, and what caused it."""

    type: ClassVar[EventType]
    # fields whose JSON key is spelled otherwise: Twilio's parameter names
    json_names: ClassVar[dict[str, str]] = {"from_": "From", "to": "To"}
    # fields left out of `data` when they are None (version 1 wrote no key for them)
    omit_when_none: ClassVar[frozenset[str]] = frozenset()
    # (attribute, JSON key, omitted when None) for each data field, in order
    layout: ClassVar[tuple[tuple[str, str, bool], ...]] = ()

    seq: int = 0
    t: float = 0.0
    inbound: str | None = None
    attempt: str | None = None
    message: str | None = None

    def data(self) -> dict[str, Any]:
        """The event's own fields, as the `data` object of its JSON."""
        out: dict[str, Any] = {}
        for attribute, key, omit in self.layout:
            value = getattr(self, attribute)
            if value is None and omit:
                continue
            out[key] = value
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "t": round(self.t, 6), "type": str(self.type)}
        if self.inbound is not None:
            out["inbound"] = self.inbound
        if self.attempt is not None:
            out["attempt"] = self.attempt
        if self.message is not None:
            out["message"] = self.message
        out["data"] = self.data()
        return out

    @staticmethod
    def from_json(raw: dict[str, Any]) -> Event:
        """The event a JSON object describes; unknown data keys are ignored."""
        kind = EVENT_CLASSES.get(raw["type"])
        if kind is None:
            raise ValueError(f"unknown event type {raw['type']!r}")
        data = raw.get("data") or {}
        if not isinstance(data, dict):
            raise ValueError("data is not an object")
        values = {attr: data[key] for attr, key, _ in kind.layout if key in data}
        return kind(
            seq=int(raw["seq"]),
            t=float(raw["t"]),
            inbound=raw.get("inbound"),
            attempt=raw.get("attempt"),
            message=raw.get("message"),
            **values,
        )


E = TypeVar("E", bound=type[Event])

EVENT_CLASSES: dict[str, type[Event]] = {}


def _kind(event_type: EventType) -> Callable[[E], E]:
    """Register an event class for `event_type` and work out its JSON layout."""

    def register(cls: E) -> E:
        cls.type = event_type
        cls.layout = tuple(
            (f.name, cls.json_names.get(f.name, f.name), f.name in cls.omit_when_none)
            for f in fields(cls)
            if f.name not in _BASE
        )
        EVENT_CLASSES[str(event_type)] = cls
        return cls

    return register


def _dict() -> dict[str, Any]:
    return {}


# -- the kinds ------------------------------------------------------------------------------------
@_kind(EventType.API_REQUEST)
@dataclass(slots=True, kw_only=True)
class ApiRequest(Event):
    """A call to the Twilio REST API, answered (or refused) with `status`."""

    method: str = ""
    path: str = ""
    query: dict[str, Any] = field(default_factory=_dict)
    params: dict[str, Any] = field(default_factory=_dict)
    account: str | None = None
    status: int = 0
    code: int | None = None
    error: str | None = None
    latency_ms: float = 0.0


@_kind(EventType.INBOUND_RECEIVED)
@dataclass(slots=True, kw_only=True)
class InboundReceived(Event):
    """A text a phone sent to one of the gateway's numbers, stored and about to be billed."""

    account: str = ""
    from_: str = ""
    to: str = ""
    body: str = ""
    segments: int = 1
    encoding: str = "GSM-7"
    ucs2_chars: str = ""
    num_media: int = 0
    media: list[str] = field(default_factory=list)
    number_type: str = "local"
    source: str = "api"
    keyword: str | None = None
    meta: dict[str, Any] = field(default_factory=_dict)

    @classmethod
    def of(
        cls,
        message: Message,
        *,
        source: str,
        keyword: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> InboundReceived:
        """The event for a stored inbound `message`."""
        return cls(
            inbound=message.sid,
            message=message.sid,
            account=message.account_sid,
            from_=message.from_ or "",
            to=message.to,
            body=message.body,
            segments=message.num_segments,
            encoding=str(message.encoding),
            ucs2_chars=message.ucs2_chars,
            num_media=message.num_media,
            media=[mask_url(m.url) or "" for m in message.media],
            number_type=str(message.number_type),
            source=source,
            keyword=keyword,
            meta=meta or {},
        )


@_kind(EventType.INBOUND_REJECTED)
@dataclass(slots=True, kw_only=True)
class InboundRejected(Event):
    """An inbound text the gateway refused (unknown number, bad sender, too long...)."""

    source: str = "api"
    code: int = 0
    error: str = ""
    from_: str | None = None
    to: str | None = None
    meta: dict[str, Any] = field(default_factory=_dict)


@_kind(EventType.WEBHOOK_ATTEMPT)
@dataclass(slots=True, kw_only=True)
class WebhookAttempt(Event):
    """One request to the app about an inbound text: primary, redirect or fallback."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset({"queued_ms"})

    kind: str = "primary"
    url: str = ""
    method: str = "POST"
    http_status: int | None = None
    content_type: str = ""
    latency_ms: float | None = None  # from when it was due, any wait for a slot included
    tries: int = 1
    error_code: int | None = None
    error: str | None = None
    queued_ms: float | None = None  # of the latency, waiting for a slot to the app (if any)

    @property
    def failed(self) -> bool:
        """No answer at all, or an answer that is not 2xx (Twilio's 11200 either way)."""
        status = self.http_status
        return bool(self.error_code) or not (isinstance(status, int) and 200 <= status < 300)


@_kind(EventType.TWIML_EXECUTED)
@dataclass(slots=True, kw_only=True)
class TwimlExecuted(Event):
    """The app's answer, read: its kind, the messages it asked for, any redirect."""

    answer: str = ""
    messages: int = 0
    redirect: str | None = None


@_kind(EventType.TWIML_WARNING)
@dataclass(slots=True, kw_only=True)
class TwimlWarning(Event):
    """Something wrong with a webhook's answer, with Twilio's code (fatal: nothing was done)."""

    code: int = 0
    error: str | None = None
    fatal: bool = True


@_kind(EventType.MESSAGE_CREATED)
@dataclass(slots=True, kw_only=True)
class MessageCreated(Event):
    """An outbound message accepted: a TwiML reply or a REST send, and how it was attributed."""

    account: str = ""
    direction: str = "outbound-api"
    from_: str | None = None
    to: str = ""
    body: str = ""
    segments: int = 1
    encoding: str = "GSM-7"
    ucs2_chars: str = ""
    num_media: int = 0
    status: str = "queued"
    status_callback: str | None = None
    attributed: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.direction == "outbound-reply"

    @classmethod
    def of(cls, message: Message, *, attributed: str | None) -> MessageCreated:
        """The event for a created outbound `message`, linked to what caused it."""
        return cls(
            inbound=message.inbound_sid,
            attempt=message.attempt_sid,
            message=message.sid,
            account=message.account_sid,
            direction=str(message.direction),
            from_=message.from_,
            to=message.to,
            body=message.body,
            segments=message.num_segments,
            encoding=str(message.encoding),
            ucs2_chars=message.ucs2_chars,
            num_media=message.num_media,
            status=str(message.status),
            status_callback=mask_url(message.status_callback),
            attributed=attributed,
        )


@_kind(EventType.MESSAGE_REJECTED)
@dataclass(slots=True, kw_only=True)
class MessageRejected(Event):
    """An outbound request the gateway refused, with Twilio's code."""

    account: str = ""
    direction: str = "outbound-api"
    code: int = 0
    error: str = ""
    from_: str | None = None
    to: str | None = None
    body: str | None = None
    attributed: str | None = None


@_kind(EventType.MESSAGE_STATUS)
@dataclass(slots=True, kw_only=True)
class MessageStatusChanged(Event):
    """An outbound message moved on (queued -> sending -> sent -> delivered, or failed)."""

    status: str = ""
    previous: str = ""
    error_code: int | None = None


@_kind(EventType.MESSAGE_UPDATED)
@dataclass(slots=True, kw_only=True)
class MessageUpdated(Event):
    """A message changed through the REST API (its body redacted)."""

    redacted: bool = False


@_kind(EventType.MESSAGE_DELETED)
@dataclass(slots=True, kw_only=True)
class MessageDeleted(Event):
    """A message deleted through the REST API."""


@_kind(EventType.CALLBACK_ATTEMPT)
@dataclass(slots=True, kw_only=True)
class CallbackAttempt(Event):
    """A status callback sent to the app, and how it went."""

    status: str = ""
    url: str = ""
    method: str = "POST"
    http_status: int | None = None
    latency_ms: float = 0.0
    error_code: int | None = None
    error: str | None = None
    attempts: int = 1


@_kind(EventType.CHARGE)
@dataclass(slots=True, kw_only=True)
class Charged(Event):
    """A message billed (`charge`: the price key, units and prices), or `unpriced` and why."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset({"account", "total", "charge", "unpriced"})

    account: str | None = None
    total: str | None = None
    charge: dict[str, Any] | None = None
    unpriced: str | None = None


@_kind(EventType.OPT_OUT)
@dataclass(slots=True, kw_only=True)
class OptOutChanged(Event):
    """A STOP/START-style keyword changed whether a phone hears from a number."""

    keyword: str = ""
    phone: str = ""
    number: str = ""


@_kind(EventType.AUTO_REPLY)
@dataclass(slots=True, kw_only=True)
class AutoReply(Event):
    """Twilio's own answer to an opt-out keyword (not billed, not the app's)."""

    from_: str = ""
    to: str = ""
    body: str = ""


@_kind(EventType.NUMBER_CHANGED)
@dataclass(slots=True, kw_only=True)
class NumberChanged(Event):
    """A phone number added to the gateway or released from it."""

    action: str = "added"
    number: str = ""
    sms_url: str | None = None

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "number": self.number}
        if self.action == "added":
            out["sms_url"] = self.sms_url
        return out


@_kind(EventType.SEND_PLANNED)
@dataclass(slots=True, kw_only=True)
class SendPlanned(Event):
    """A harness sent a planned text, `lateness_ms` after its planned time."""

    json_names: ClassVar[dict[str, str]] = {}

    phone: str = ""
    to: str = ""
    kind: str = "first"
    student: int = -1
    text: int = 0
    planned_s: float = 0.0
    lateness_ms: float | None = None


@_kind(EventType.RESET)
@dataclass(slots=True, kw_only=True)
class Reset(Event):
    """The gateway forgot its messages and charges (`POST /_twsim/reset`)."""


# -- the app's other side effects, seen by observers (`twsim.observe`) ---------------------------
# Each names the inbound it is attributed to (`inbound`, `attempt`) and how (`attributed`:
# "mention", "in-flight" or "window"; None when no rule could tell, never spread).


@_kind(EventType.OBSERVE_STARTED)
@dataclass(slots=True, kw_only=True)
class ObserveStarted(Event):
    """Observers started: which of the app's channels this run watches."""

    smtp: str | None = None
    logs: list[str] = field(default_factory=list)
    log_level_regex: str | None = None
    databases: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    interval_s: float = 0.25


@_kind(EventType.OBSERVE_WARNING)
@dataclass(slots=True, kw_only=True)
class ObserveWarning(Event):
    """An observer could not look at what it watches (a database gone, a process ended)."""

    observer: str = ""
    problem: str = ""


@_kind(EventType.EMAIL_RECEIVED)
@dataclass(slots=True, kw_only=True)
class EmailReceived(Event):
    """A message the app handed to the SMTP sink (never relayed); `raw` has no attachments."""

    json_names: ClassVar[dict[str, str]] = {}

    mail_from: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    size: int = 0
    excerpt: str = ""
    attachments: int = 0
    raw: str = ""
    truncated: bool = False
    attributed: str | None = None


@_kind(EventType.LOG_LINES)
@dataclass(slots=True, kw_only=True)
class LogLines(Event):
    """Lines the app appended to a watched log file (`errors`: those matching the level pattern)."""

    path: str = ""
    lines: int = 0
    bytes: int = 0
    errors: int = 0
    sample: str = ""
    attributed: str | None = None


@_kind(EventType.DB_ROWS)
@dataclass(slots=True, kw_only=True)
class DbRows(Event):
    """A table's row count changed by `delta` (now `rows`), seen by sampling the database."""

    database: str = ""
    table: str = ""
    delta: int = 0
    rows: int = 0
    attributed: str | None = None


@_kind(EventType.APP_SAMPLE)
@dataclass(slots=True, kw_only=True)
class AppSample(Event):
    """The app's process tree, sampled: CPU used since the last sample, memory, files, threads."""

    pid: int = 0
    processes: int = 1
    cpu_ms: float = 0.0
    rss_mb: float = 0.0
    open_files: int = 0
    threads: int = 0
    attributed: str | None = None


SIDE_EFFECTS: tuple[type[Event], ...] = (EmailReceived, LogLines, DbRows, AppSample)


# -- the log ------------------------------------------------------------------------------------
Subscriber = Callable[[Event], None]
Ev = TypeVar("Ev", bound=Event)


class EventLog:
    """Append-only, in memory, with synchronous subscribers and awaitable conditions.

    With `retention`, only the latest `retention` events are kept (the oldest are dropped
    as new ones come); subscribers still see every event, so a recording or a live report
    subscribed from the start misses none.
    """

    def __init__(self, clock: Clock, retention: int | None = None) -> None:
        self._clock = clock
        self._start = clock.monotonic()
        self.started_at = clock.now()
        self.retention = retention
        self._events: deque[Event] = deque(maxlen=retention)
        # who hears every event, and who hears only some kinds: a part that cares about one
        # kind costs nothing on the others (ten or so events a text, most of them statuses)
        self._everything: tuple[Subscriber, ...] = ()
        self._by_kind: dict[type[Event], tuple[Subscriber, ...]] = {}
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._seq = 0

    def emit(self, event: Ev) -> Ev:
        """Number, time and append `event`; tell every subscriber."""
        self._seq += 1
        event.seq = self._seq
        event.t = self._clock.monotonic() - self._start
        self._events.append(event)
        for subscriber in self._everything:
            subscriber(event)
        kind = self._by_kind.get(type(event))
        if kind:
            for subscriber in kind:
                subscriber(event)
        if self._waiters:
            self._wake_waiters()
        return event

    def _wake_waiters(self) -> None:
        waiting = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            if predicate():
                future.set_result(None)
            else:
                waiting.append((predicate, future))
        self._waiters = waiting

    def subscribe(self, subscriber: Subscriber, *kinds: type[Event]) -> Callable[[], None]:
        """Call `subscriber` with every new event (of `kinds` only, when given); returns the
        function that stops it."""
        if not kinds:
            self._everything = (*self._everything, subscriber)
        for kind in kinds:
            self._by_kind[kind] = (*self._by_kind.get(kind, ()), subscriber)

        def unsubscribe() -> None:
            self._everything = tuple(s for s in self._everything if s is not subscriber)
            for kind in kinds:
                left = tuple(s for s in self._by_kind.get(kind, ()) if s is not subscriber)
                if left:
                    self._by_kind[kind] = left
                else:
                    self._by_kind.pop(kind, None)

        return unsubscribe

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    @property
    def last_seq(self) -> int:
        """The sequence number of the latest event (0 before the first)."""
        return self._seq

    @property
    def first_seq(self) -> int:
        """The sequence number of the oldest event kept (the next one's when none is)."""
        return self._events[0].seq if self._events else self._seq + 1

    def since(self, seq: int) -> list[Event]:
        """Events kept with a sequence number above `seq` (numbers run on without gaps)."""
        events = self._events
        if not events or seq < events[0].seq:
            return list(events)
        start = seq - events[0].seq + 1
        if start >= len(events):
            return []
        if start > len(events) // 2:  # a deque is walked from its nearer end
            tail = len(events) - start
            return list(islice(reversed(events), tail))[::-1]
        return list(islice(events, start, None))

    def of_type(self, *kinds: type[Ev]) -> list[Ev]:
        return [e for e in self._events if isinstance(e, kinds)]

    def clear(self) -> None:
        """Forget stored events (sequence numbers keep counting)."""
        self._events.clear()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until `predicate()` holds, re-checked after every event."""
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            future.cancel()


def of_kind(events: Iterable[Event], kind: type[Ev]) -> Iterator[Ev]:
    """The events of one kind, in order."""
    return (e for e in events if isinstance(e, kind))
