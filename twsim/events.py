"""The event log: every step the gateway takes, appended in order, with what caused it.

Reports, the recorder, live progress and the control API read or subscribe to this log;
they never reach into the handlers. Each event names its causes: the inbound message at
the root of its chain (`inbound`), the webhook attempt that produced it (`attempt`) and the
message it is about (`message`), so amplification is a query over the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from twsim.clock import Clock


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


@dataclass(slots=True)
class Event:
    seq: int
    t: float
    type: EventType
    data: dict[str, Any]
    inbound: str | None = None
    attempt: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "t": round(self.t, 6), "type": str(self.type)}
        if self.inbound is not None:
            out["inbound"] = self.inbound
        if self.attempt is not None:
            out["attempt"] = self.attempt
        if self.message is not None:
            out["message"] = self.message
        out["data"] = self.data
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Event:
        return cls(
            seq=int(raw["seq"]),
            t=float(raw["t"]),
            type=EventType(raw["type"]),
            data=dict(raw.get("data") or {}),
            inbound=raw.get("inbound"),
            attempt=raw.get("attempt"),
            message=raw.get("message"),
        )


Subscriber = Callable[[Event], None]


class EventLog:
    """Append-only, in-memory, with synchronous subscribers and awaitable conditions."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._start = clock.monotonic()
        self.started_at = clock.now()
        self._events: list[Event] = []
        self._subscribers: list[Subscriber] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._seq = 0

    def emit(
        self,
        type: EventType,
        *,
        inbound: str | None = None,
        attempt: str | None = None,
        message: str | None = None,
        **data: Any,
    ) -> Event:
        self._seq += 1
        event = Event(
            seq=self._seq,
            t=self._clock.monotonic() - self._start,
            type=type,
            data=data,
            inbound=inbound,
            attempt=attempt,
            message=message,
        )
        self._events.append(event)
        for subscriber in tuple(self._subscribers):
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

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with every new event; returns the function that stops it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    @property
    def last_seq(self) -> int:
        """The sequence number of the latest event (0 before the first)."""
        return self._seq

    def since(self, seq: int) -> list[Event]:
        """Events with a sequence number above `seq`."""
        events = self._events
        if not events or seq < events[0].seq:
            return list(events)
        start = seq - events[0].seq + 1
        return events[start:]

    def of_type(self, *types: EventType) -> list[Event]:
        return [e for e in self._events if e.type in types]

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
