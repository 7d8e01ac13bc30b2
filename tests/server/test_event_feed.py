"""`GET /_twsim/events`: pages with a `next_since` cursor, and the live server-sent stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from twsim.server.event_feed import FOLLOWERS
from twsim.server.simulator import Simulator

PHONE = "+15551230001"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def text(sim: Simulator, n: int, phone: str = PHONE) -> list[str]:
    """`n` inbound texts (stored, no webhook configured); their SIDs."""
    sids = []
    for i in range(n):
        received, _ = await sim.gateway.receive(from_=phone, to=sim.number, body=f"text {i}")
        sids.append(received.message.sid)
    return sids


async def get(http: aiohttp.ClientSession, url: str, **params: Any) -> tuple[int, Any]:
    async with http.get(url, params=params) as response:
        return response.status, await response.json()


async def test_pages_follow_next_since_to_the_end(sim: Simulator, http: aiohttp.ClientSession):
    await text(sim, 30)  # 60 events: inbound.received and charge each
    everything = [e.to_json() for e in sim.events]
    seen: list[dict[str, Any]] = []
    since: int | None = 0
    pages = 0
    while since is not None:
        status, page = await get(http, sim.url + "/_twsim/events", since=since, limit=25)
        assert status == 200
        seen += page["events"]
        since = page["next_since"]
        if since is not None:
            assert since == page["events"][-1]["seq"]
        pages += 1
    assert seen == everything
    assert pages == 3


async def test_filters_by_type_and_inbound(sim: Simulator, http: aiohttp.ClientSession):
    first, second = await text(sim, 2)
    _, charges = await get(http, sim.url + "/_twsim/events", type="charge")
    assert [e["type"] for e in charges["events"]] == ["charge", "charge"]
    _, one = await get(http, sim.url + "/_twsim/events", inbound=second)
    assert {e["inbound"] for e in one["events"]} == {second}
    assert [e["type"] for e in one["events"]] == ["inbound.received", "charge"]
    _, both = await get(
        http,
        sim.url + f"/_twsim/events?type=charge&type=inbound.received&inbound={first}&limit=1",
    )
    assert [e["type"] for e in both["events"]] == ["inbound.received"]
    assert both["next_since"] == both["events"][0]["seq"]


async def test_a_large_page_is_written_in_chunks_and_reads_whole(
    sim: Simulator, http: aiohttp.ClientSession
):
    await text(sim, 700)  # 1,400 events: more than one chunk
    async with http.get(sim.url + "/_twsim/events", params={"limit": 10000}) as response:
        assert response.headers.get("Transfer-Encoding") == "chunked"
        page = json.loads(await response.read())
    assert page["events"] == [e.to_json() for e in sim.events]
    assert page["next_since"] is None
    _, default = await get(http, sim.url + "/_twsim/events")
    assert len(default["events"]) == 1000
    assert default["next_since"] == default["events"][-1]["seq"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=10001", "limit=ten", "since=x", "type=nope", "follow=1&since=x"],
)
async def test_bad_queries_are_400(sim: Simulator, http: aiohttp.ClientSession, query: str):
    async with http.get(sim.url + "/_twsim/events?" + query) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 20001


class Stream:
    """A server-sent event stream read message by message."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> dict[str, str]:
        """The next message's fields (comments as `comment`)."""
        fields: dict[str, str] = {}
        while True:
            line = (await asyncio.wait_for(self.response.content.readline(), 30)).decode()
            if line == "":
                raise EOFError
            line = line.rstrip("\n")
            if not line:
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name or "comment"] = value.removeprefix(" ")

    async def event(self) -> dict[str, str]:
        while True:
            fields = await self.next()
            if "id" in fields:
                return fields


async def test_follow_catches_up_then_streams_new_events(
    sim: Simulator, http: aiohttp.ClientSession
):
    await text(sim, 2)
    async with http.get(sim.url + "/_twsim/events?follow=1&since=1") as response:
        assert response.content_type == "text/event-stream"
        stream = Stream(response)
        caught_up = [await stream.event() for _ in range(4)]
        assert [int(m["id"]) for m in caught_up] == [2, 3, 4, 5]
        [sid] = await text(sim, 1, phone="+15551230009")
        live = [await stream.event() for _ in range(2)]
    assert [m["event"] for m in live] == ["inbound.received", "charge"]
    data = json.loads(live[0]["data"])
    assert (data["type"], data["inbound"], data["data"]["From"]) == (
        "inbound.received",
        sid,
        "+15551230009",
    )
    assert data == sim.events.since(5)[0].to_json()


async def test_follow_filters_and_resumes_from_last_event_id(
    sim: Simulator, http: aiohttp.ClientSession
):
    await text(sim, 3)
    async with http.get(
        sim.url + "/_twsim/events?follow=1&type=charge",
        headers={"Last-Event-ID": "3"},
    ) as response:
        stream = Stream(response)
        resumed = [await stream.event() for _ in range(2)]
    assert [(m["id"], m["event"]) for m in resumed] == [("5", "charge"), ("7", "charge")]


async def test_follow_sends_heartbeats_and_ends_when_the_server_stops(
    make_sim: Any, http: aiohttp.ClientSession
):
    sim = await make_sim()
    assert sim.app is not None
    sim.app[FOLLOWERS].heartbeat_s = 0.05
    async with http.get(sim.url + "/_twsim/events?follow=1") as response:
        stream = Stream(response)
        while "comment" not in (await stream.next()):
            pass
        stopping = asyncio.ensure_future(sim.stop())
        with pytest.raises(EOFError):
            while True:
                await stream.next()
        await stopping
