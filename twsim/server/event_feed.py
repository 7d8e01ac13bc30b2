"""`GET /_twsim/events`: the event log in pages, or followed live as server-sent events.

    GET /_twsim/events?since=SEQ&type=T&type=U&inbound=SID&limit=N
        -> {"events": [...], "next_since": SEQ or null}
    GET /_twsim/events?follow=1&since=SEQ[&type=...][&inbound=SID]
        -> text/event-stream: `id: <seq>`, `event: <type>`, `data: <the event's JSON>`

A page holds the events after `since` that match every filter, oldest first, at most
`limit` (default 1,000, at most 10,000); `next_since` is the last returned sequence number
when more match, so `since=next_since` reads on. The stream starts after `since` (or the
`Last-Event-ID` a reconnecting client sends), catches up in chunks, then sends each new event
as it is appended; a comment line every `heartbeat` seconds keeps proxies from closing it,
and it ends when the server stops. The stream holds no queue of its own: the log is the
buffer, and each follower keeps only the last sequence number it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import orjson
from aiohttp import web

from twsim.core.errors import ApiError
from twsim.model.events import Event, EventLog, EventType
from twsim.server.json_stream import int_param, write_list
from twsim.server.keys import GATEWAY

T = TypeVar("T")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
STREAM_CHUNK = 500
HEARTBEAT_S = 15.0


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: some types (all when empty) and one inbound text's."""

    types: frozenset[EventType] = frozenset()
    inbound: str | None = None

    def __call__(self, event: Event) -> bool:
        if self.types and event.type not in self.types:
            return False
        return self.inbound is None or event.inbound == self.inbound

    @classmethod
    def of(cls, request: web.Request) -> EventFilter:
        names = request.query.getall("type", [])
        known = {str(t): t for t in EventType}
        unknown = sorted(set(names) - known.keys())
        if unknown:
            raise ApiError(20001, f"Unknown event type(s): {', '.join(unknown)}", status=400)
        return cls(frozenset(known[n] for n in names), request.query.get("inbound") or None)


def select(items: Iterable[T], wanted: Callable[[T], bool], limit: int) -> tuple[list[T], bool]:
    """Up to `limit` wanted items, and whether any more are wanted after them."""
    page: list[T] = []
    for item in items:
        if wanted(item):
            if len(page) == limit:
                return page, True
            page.append(item)
    return page, False


def _seq(text: str | None, what: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise ApiError(20001, f"{what} must be an event sequence number", status=400) from None


class Followers:
    """The live streams of one server: told to end when it stops."""

    def __init__(self, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.heartbeat_s = heartbeat_s
        self.stopping = asyncio.Event()

    async def stop(self, app: web.Application) -> None:
        self.stopping.set()


FOLLOWERS = web.AppKey("followers", Followers)


def add_routes(app: web.Application, prefix: str) -> None:
    followers = Followers()
    app[FOLLOWERS] = followers
    app.on_shutdown.append(followers.stop)
    app.router.add_get(prefix + "/events", events)


async def events(request: web.Request) -> web.StreamResponse:
    log = request.app[GATEWAY].events
    wanted = EventFilter.of(request)
    since = _seq(request.query.get("since"), "since") or 0
    if request.query.get("follow", "").lower() in ("1", "true", "yes"):
        resumed = _seq(request.headers.get("Last-Event-ID"), "Last-Event-ID")
        return await follow(request, log, wanted, since if resumed is None else resumed)
    limit = int_param(request, "limit", DEFAULT_LIMIT, lo=1, hi=MAX_LIMIT)
    page, more = select(log.since(since), wanted, limit)
    next_since = page[-1].seq if more else None
    return await write_list(request, "events", page, Event.to_json, {"next_since": next_since})


def _message(event: Event) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        event.seq,
        str(event.type).encode(),
        orjson.dumps(event.to_json()),
    )


async def follow(
    request: web.Request, log: EventLog, wanted: EventFilter, since: int
) -> web.StreamResponse:
    """Stream the wanted events after `since`, then every new one, until the server stops."""
    followers = request.app[FOLLOWERS]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    wake = asyncio.Event()
    unsubscribe = log.subscribe(lambda event: wake.set())
    stopping = asyncio.ensure_future(followers.stopping.wait())
    sent = since
    try:
        await response.write(b"retry: 2000\n\n")
        while not followers.stopping.is_set():
            wake.clear()
            scanned = log.last_seq
            batch, more = select(log.since(sent), wanted, STREAM_CHUNK)
            if batch:
                await response.write(b"".join(_message(e) for e in batch))
            sent = batch[-1].seq if more else max(sent, scanned)
            if more:
                continue
            woken = asyncio.ensure_future(wake.wait())
            done, _ = await asyncio.wait(
                (woken, stopping),
                timeout=followers.heartbeat_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            woken.cancel()
            if not done:
                await response.write(b": heartbeat\n\n")
    except (ConnectionResetError, ConnectionError):
        pass  # the reader went away
    finally:
        unsubscribe()
        stopping.cancel()
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response
