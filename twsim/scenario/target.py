"""Where a burst's texts go: a gateway in this process, or a running one over HTTP.

Both kinds take a planned text, tell the phones about the replies they get, wait until
the gateway is quiet, and hand over the run's events for the report. Every send also
records a `send.planned` event with its lateness.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from twsim.core.errors import TwilioError
from twsim.gateway.runtime import Gateway
from twsim.model.events import AutoReply, Event, MessageCreated, ObserveStarted, SendPlanned

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
        self._unsubscribe = gateway.events.subscribe(self._on_event)

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


@dataclass(slots=True)
class RemoteTarget:
    """A gateway running elsewhere (`twsim serve`), driven through its control plane."""

    url: str
    source: str = "scenario"
    poll_s: float = 0.1
    _session: aiohttp.ClientSession | None = None
    _listeners: list[ReplyListener] = field(default_factory=list)
    _planned: list[Event] = field(default_factory=list)
    _since: int = 0
    _start_seq: int = 0
    _poller: asyncio.Task[None] | None = None
    _sends: set[asyncio.Task[None]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    _webhooks: dict[str, str | None] = field(default_factory=dict)

    async def open(self) -> RemoteTarget:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(total=60)
        )
        try:
            async with self._session.get(f"{self.url}/_twsim/health") as r:
                r.raise_for_status()
                health = await r.json()
        except aiohttp.ClientError as exc:
            await self._session.close()
            raise ConnectionError(f"cannot reach twsim at {self.url}: {exc}") from None
        self._start_seq = self._since = int(health.get("last_seq", 0))
        self._webhooks = dict(health.get("webhooks") or {})
        self._poller = asyncio.get_running_loop().create_task(self._poll())
        return self

    def send(self, text: Text, lateness_s: float) -> None:
        self._planned.append(planned_event(text, lateness_s))
        task = asyncio.get_running_loop().create_task(self._post(text))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _post(self, text: Text) -> None:
        assert self._session is not None
        payload = {
            "From": text.phone,
            "To": text.to,
            "Body": text.body,
            "MediaUrl": list(text.media),
            "meta": text.meta(),
        }
        try:
            async with self._session.post(
                f"{self.url}/_twsim/inbound", json=payload, params={"source": self.source}
            ) as r:
                await r.read()
        except aiohttp.ClientError as exc:
            self.errors.append(str(exc))

    def listen(self, listener: ReplyListener) -> None:
        self._listeners.append(listener)

    def webhooks(self) -> dict[str, str | None]:
        return dict(self._webhooks)

    async def _poll(self) -> None:
        assert self._session is not None
        while True:
            try:
                async with self._session.get(
                    f"{self.url}/_twsim/events",
                    params=[
                        ("since", str(self._since)),
                        ("type", "message.created"),
                        ("type", "optout.reply"),
                    ],
                ) as r:
                    items = (await r.json())["events"]
            except (aiohttp.ClientError, KeyError, ValueError) as exc:
                self.errors.append(str(exc))
                items = []
            for raw in items:
                self._since = max(self._since, int(raw["seq"]))
                event = Event.from_json(raw)
                if isinstance(event, MessageCreated | AutoReply):
                    for listener in self._listeners:
                        listener(event.to, event.body)
            await asyncio.sleep(self.poll_s)

    async def quiet(self, timeout: float | None = None) -> None:
        assert self._session is not None
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        async with self._session.get(
            f"{self.url}/_twsim/quiet", params={"timeout": str(timeout or 60)}
        ) as r:
            await r.read()

    async def events(self) -> list[Event]:
        assert self._session is not None
        async with self._session.get(
            f"{self.url}/_twsim/events", params={"since": str(self._start_seq)}
        ) as r:
            remote = [Event.from_json(e) for e in (await r.json())["events"]]
        return remote + self._planned

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._session is not None:
            await self._session.close()
