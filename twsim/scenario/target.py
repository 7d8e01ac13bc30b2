"""Where a burst's texts go: a gateway in this process, or a running one over HTTP.

Both kinds take a planned text, tell the phones about the replies they get, wait until
the gateway is quiet, and hand over the run's events for the report. Every send also
records a `send.planned` event with its lateness.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson

from twsim.core.errors import TwilioError
from twsim.gateway.runtime import Gateway
from twsim.model.events import AutoReply, Event, MessageCreated, ObserveStarted, SendPlanned
from twsim.server.guard import control_headers

ReplyListener = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Text:
    """One planned text of a scenario or a replay."""

    phone: str
    to: str
    body: str
    planned_s: float
    kind: str = "first"
    student: int = -1
    number: int = 0
    media: tuple[str, ...] = ()

    def meta(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "text": self.number,
            "kind": self.kind,
            "planned_s": round(self.planned_s, 6),
        }


class Target(Protocol):
    def send(self, text: Text, lateness_s: float) -> None: ...

    def webhooks(self) -> dict[str, str | None]:
        """The gateway's numbers, each with the URL its texts go to (None: stored only)."""
        ...

    def listen(self, listener: ReplyListener) -> None: ...

    async def quiet(self, timeout: float | None = None) -> None: ...

    async def events(self) -> list[Event]: ...

    async def close(self) -> None: ...


def planned_event(text: Text, lateness_s: float) -> SendPlanned:
    """The `send.planned` event for a text sent `lateness_s` after its planned time."""
    return SendPlanned(
        phone=text.phone,
        to=text.to,
        kind=text.kind,
        student=text.student,
        text=text.number,
        planned_s=round(text.planned_s, 6),
        lateness_ms=round(lateness_s * 1000, 3),
    )


class LocalTarget:
    """A gateway in this process: texts go straight into `Gateway.accept`."""

    def __init__(self, gateway: Gateway, source: str = "scenario") -> None:
        self.gateway = gateway
        self.source = source
        self._first_seq = gateway.events.last_seq
        self._listeners: list[ReplyListener] = []
        self._unsubscribe = gateway.events.subscribe(self._on_event, MessageCreated, AutoReply)

    def send(self, text: Text, lateness_s: float) -> None:
        gateway = self.gateway
        gateway.events.emit(planned_event(text, lateness_s))
        with contextlib.suppress(TwilioError):  # recorded as inbound.rejected
            gateway.accept(
                from_=text.phone,
                to=text.to,
                body=text.body,
                media_urls=text.media,
                source=self.source,
                meta=text.meta(),
            )

    def listen(self, listener: ReplyListener) -> None:
        self._listeners.append(listener)

    def webhooks(self) -> dict[str, str | None]:
        return self.gateway.state.directory.webhooks()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, MessageCreated | AutoReply):
            for listener in self._listeners:
                listener(event.to, event.body)

    async def quiet(self, timeout: float | None = None) -> None:
        await self.gateway.quiet(timeout)

    async def events(self) -> list[Event]:
        """The run's events, after what the gateway's observers watch (said at their start)."""
        log = self.gateway.events
        watching: list[Event] = [e for e in log.of_type(ObserveStarted) if e.seq <= self._first_seq]
        return watching + log.since(self._first_seq)

    async def close(self) -> None:
        self._unsubscribe()


REPLY_TYPES = frozenset({MessageCreated.type, AutoReply.type})  # what the students read
BATCH = 1000  # texts in one request to a remote gateway (its maximum)
PAGE = 10_000  # events per page read from a remote gateway (its maximum)


class RemoteTarget:
    """A gateway running elsewhere (`twsim serve`), driven through its control plane.

    It follows the gateway's event log while the run goes on: the server-sent event stream
    (`/_twsim/events?follow=1`) where the gateway offers one, else short polls of the new
    events. So the students read their answers, live progress has the gateway's figures,
    and a gateway that goes away leaves the events seen until then for a partial report.
    """

    def __init__(self, url: str, source: str = "scenario", poll_s: float = 0.1) -> None:
        self.url = url.rstrip("/")
        self.source = source
        self.poll_s = poll_s
        self.errors: list[str] = []
        self.lost: str | None = None  # why the gateway is unreachable, once it is
        # the gateway's events as their JSON: bytes, which the collector never walks, so a
        # long run's growing history adds nothing to its pauses (parsed once, at the end)
        self._received: list[bytes] = []
        self._session: aiohttp.ClientSession | None = None
        self._listeners: list[ReplyListener] = []
        self._subscribers: list[Callable[[Event], None]] = []
        self._on_lost: list[Callable[[str], None]] = []
        self._planned: list[Event] = []
        self._since = 0
        self._follower: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._webhooks: dict[str, str | None] = {}
        self._outbox: list[dict[str, Any]] = []  # texts due in this turn of the loop

    async def open(self) -> RemoteTarget:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            timeout=aiohttp.ClientTimeout(total=60),
            headers=control_headers(),  # the control token, when the gateway wants one
        )
        try:
            async with self._session.get(f"{self.url}/_twsim/health") as r:
                r.raise_for_status()
                health = await r.json()
        except (aiohttp.ClientError, ValueError) as exc:
            await self._session.close()
            raise ConnectionError(f"cannot reach twsim at {self.url}: {_reason(exc)}") from None
        self._since = int(health.get("last_seq", 0))
        self._webhooks = dict(health.get("webhooks") or {})
        self._follower = asyncio.get_running_loop().create_task(self._follow())
        return self

    def subscribe(self, subscriber: Callable[[Event], None]) -> None:
        """Call `subscriber(event)` for every gateway event of the run, as it is seen."""
        self._subscribers.append(subscriber)

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """Call `callback(reason)` once, if the gateway stops answering."""
        self._on_lost.append(callback)

    def _lose(self, exc: BaseException) -> None:
        if self.lost is None:
            self.lost = _reason(exc)
            for callback in self._on_lost:
                callback(self.lost)

    def send(self, text: Text, lateness_s: float) -> None:
        event = planned_event(text, lateness_s)
        self._planned.append(event)
        for subscriber in self._subscribers:
            subscriber(event)
        if self.lost is not None:
            return
        if not self._outbox:  # the first text of this turn: the batch goes at its end
            asyncio.get_running_loop().call_soon(self._flush)
        self._outbox.append(
            {
                "From": text.phone,
                "To": text.to,
                "Body": text.body,
                "MediaUrl": list(text.media),
                "meta": text.meta(),
            }
        )

    def _flush(self) -> None:
        """Send the texts due in this turn: one request for all of them (at most `BATCH`
        each), so a remote burst costs the gateway one HTTP request per turn, not per text."""
        outbox, self._outbox = self._outbox, []
        for start in range(0, len(outbox), BATCH):
            task = asyncio.get_running_loop().create_task(
                self._post_batch(outbox[start : start + BATCH])
            )
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _post_batch(self, texts: list[dict[str, Any]]) -> None:
        assert self._session is not None
        try:
            async with self._session.post(
                f"{self.url}/_twsim/inbound/batch",
                json={"texts": texts},
                params={"source": self.source},
            ) as r:
                # texts refused one by one are in the gateway's log (inbound.rejected)
                if r.status != 202:
                    self.errors.append(f"the gateway refused {len(texts)} texts: {await r.text()}")
        except aiohttp.ClientConnectionError as exc:
            self._lose(exc)
        except aiohttp.ClientError as exc:
            self.errors.append(str(exc))

    def listen(self, listener: ReplyListener) -> None:
        self._listeners.append(listener)

    def webhooks(self) -> dict[str, str | None]:
        return dict(self._webhooks)

    def _take(self, data: bytes) -> None:
        raw = orjson.loads(data)
        seq = int(raw["seq"])
        if seq <= self._since:
            return
        self._since = seq
        self._received.append(data)
        if not self._subscribers and raw.get("type") not in REPLY_TYPES:
            return  # nobody needs it before the end
        event = Event.from_json(raw)
        for subscriber in self._subscribers:
            subscriber(event)
        if isinstance(event, MessageCreated | AutoReply):
            for listener in self._listeners:
                listener(event.to, event.body)

    async def _fetch(self, *, follow: bool) -> None:
        """New events: every page there is (JSON), or as they come for as long as the
        stream lasts (SSE)."""
        assert self._session is not None
        while True:
            params = {"since": str(self._since), "limit": str(PAGE)}
            if follow:
                params["follow"] = "1"
            timeout = aiohttp.ClientTimeout(total=None, sock_read=None) if follow else None
            async with self._session.get(
                f"{self.url}/_twsim/events", params=params, timeout=timeout
            ) as r:
                r.raise_for_status()
                if r.content_type == "text/event-stream":
                    async for data in sse_data(r.content):
                        self._take(data)
                    return
                page = orjson.loads(await r.read())
            for raw in page["events"]:
                self._take(orjson.dumps(raw))
            if page.get("next_since") is None:
                return

    async def _follow(self) -> None:
        while self.lost is None:
            try:
                await self._fetch(follow=True)
            except aiohttp.ClientConnectionError as exc:
                self._lose(exc)
                return
            except (aiohttp.ClientError, orjson.JSONDecodeError, KeyError, ValueError) as exc:
                self.errors.append(str(exc))
            await asyncio.sleep(self.poll_s)

    async def quiet(self, timeout: float | None = None) -> None:
        assert self._session is not None
        if self._outbox:
            self._flush()
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        if self.lost is not None:
            return
        try:
            async with self._session.get(
                f"{self.url}/_twsim/quiet", params={"timeout": str(timeout or 60)}
            ) as r:
                await r.read()
        except aiohttp.ClientConnectionError as exc:
            self._lose(exc)

    async def events(self) -> list[Event]:
        """Every event of the run: the gateway's (caught up, unless it is gone) and the sends."""
        await self._stop_following()
        if self.lost is None:
            try:
                await self._fetch(follow=False)
            except aiohttp.ClientConnectionError as exc:
                self._lose(exc)
        received = [Event.from_json(orjson.loads(data)) for data in self._received]
        return received + self._planned

    async def _stop_following(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None

    async def close(self) -> None:
        await self._stop_following()
        for task in list(self._sends):
            task.cancel()
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


async def sse_data(lines: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The `data` of each server-sent event in a stream of lines.

    The format is a few line prefixes (the WHATWG "server-sent events" rules); `id` and
    `event` repeat what the event JSON already holds, so only `data` is kept.
    """
    data: list[bytes] = []
    async for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line:
            if data:
                yield b"\n".join(data)
                data = []
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        yield b"\n".join(data)


def _reason(exc: BaseException) -> str:
    """An aiohttp failure in a few words (its message, else its kind)."""
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error.errno:
        return os.strerror(exc.os_error.errno).lower()  # "connection refused"
    text = str(exc).strip()
    return text or type(exc).__name__
