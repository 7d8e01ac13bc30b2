"""`GET /_twsim/messages`: newest first, a page at a time, with filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from twsim.server.simulator import Simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str, **params: Any) -> tuple[int, Any]:
    async with http.get(url, params=params) as response:
        return response.status, await response.json()


async def test_messages_page_newest_first_with_a_cursor(
    sim: Simulator, http: aiohttp.ClientSession
):
    sids = []
    for i in range(25):
        received, _ = await sim.gateway.receive(
            from_=f"+1555123{i % 3:04d}", to=sim.number, body=f"text {i}"
        )
        sids.append(received.message.sid)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 10, **({"before": cursor} if cursor else {})}
        status, page = await get(http, sim.url + "/_twsim/messages", **params)
        assert status == 200
        seen += [m["sid"] for m in page["messages"]]
        cursor = page["next"]
        if cursor is None:
            break
        assert cursor == page["messages"][-1]["sid"]
    assert seen == sids[::-1]
    _, default = await get(http, sim.url + "/_twsim/messages")
    assert [m["sid"] for m in default["messages"]] == sids[::-1]
    assert default["next"] is None
    _, one_phone = await get(http, sim.url + "/_twsim/messages", phone="+15551230001", limit=3)
    assert [m["sid"] for m in one_phone["messages"]] == [sids[22], sids[19], sids[16]]
    assert one_phone["next"] == sids[16]
    _, by_inbound = await get(http, sim.url + "/_twsim/messages", inbound=sids[4])
    assert [m["sid"] for m in by_inbound["messages"]] == [sids[4]]
    assert by_inbound["messages"][0]["inbound_sid"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "before=SMnope"])
async def test_bad_message_queries_are_400(sim: Simulator, http: aiohttp.ClientSession, query: str):
    async with http.get(sim.url + "/_twsim/messages?" + query) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 20001
