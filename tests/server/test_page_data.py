"""What the web page reads: conversations, a message and a webhook attempt in detail, the
running report with its series; against a real loopback app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from twsim.config.models import DEFAULT_AUTH_TOKEN, Config, NumberConfig
from twsim.server.simulator import Simulator

PHONE = "+15551230042"


async def answer(request: web.Request) -> web.Response:
    form = await request.post()
    reply = MessagingResponse()
    reply.message(f"got {form['Body']} ✅")
    reply.message("", to="not a number")  # an empty body: a 14103 warning, the rest carried out
    return web.Response(text=str(reply), content_type="text/xml")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def gw(serve_app: Any, make_sim: Any) -> Simulator:
    app = web.Application()
    app.router.add_post("/sms", answer)
    server = await serve_app(app)
    config = Config()
    config.numbers = [NumberConfig(sms_url=str(server.make_url("/sms")))]
    return await make_sim(config)  # type: ignore[no-any-return]


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as response:
        return response.status, await response.json()


async def test_conversations_newest_first_with_counts(gw: Simulator, http: aiohttp.ClientSession):
    for phone in ("+15551230001", "+15551230002", "+15551230001"):
        await gw.send("hi", from_=phone)
    _, page = await get(http, gw.url + "/_twsim/conversations?limit=1")
    assert page["total"] == 2 and page["next"] == 1
    [first] = page["conversations"]
    assert (first["phone"], first["inbound"], first["outbound"]) == ("+15551230001", 2, 2)
    assert first["numbers"] == [gw.number]
    assert first["last"]["direction"] == "outbound-reply"
    _, rest = await get(http, gw.url + "/_twsim/conversations?limit=1&offset=1")
    assert [c["phone"] for c in rest["conversations"]] == ["+15551230002"]
    assert rest["next"] is None
    _, found = await get(http, gw.url + "/_twsim/conversations?q=0002")
    assert [c["phone"] for c in found["conversations"]] == ["+15551230002"]


async def test_a_reply_in_detail_shows_segments_price_and_its_causes(
    gw: Simulator, http: aiohttp.ClientSession
):
    outcome = await gw.send("CS101", from_=PHONE)
    [reply] = outcome.replies
    [attempt] = outcome.attempts
    _, detail = await get(http, gw.url + f"/_twsim/messages/{reply.sid}")
    assert detail["encoding"] == "UCS-2"
    assert detail["segments"] == ["got CS101 ✅"]
    assert detail["ucs2_chars"] == [{"char": "✅", "codepoint": "U+2705"}]
    price = detail["price"]
    assert price["currency"] == "USD" and price["units"] == 1
    assert float(price["total"]) == pytest.approx(
        float(price["price"]) + float(price["carrier_fee"])
    )
    assert float(price["carrier_fee"]) > 0
    assert detail["cause"]["inbound"]["sid"] == outcome.inbound.sid
    assert detail["cause"]["attempt"]["sid"] == attempt.sid
    assert detail["cause"]["attributed"] == "twiml"
    assert [h["status"] for h in detail["history"]] == ["sending", "sent", "delivered"]

    _, inbound = await get(http, gw.url + f"/_twsim/messages/{outcome.inbound.sid}")
    assert [a["sid"] for a in inbound["caused"]["attempts"]] == [attempt.sid]
    assert [m["sid"] for m in inbound["caused"]["messages"]] == [reply.sid]
    status, missing = await get(http, gw.url + "/_twsim/messages/SMnope")
    assert (status, missing["code"]) == (404, 20404)


async def test_a_webhook_attempt_shows_what_was_signed_and_the_answer(
    gw: Simulator, http: aiohttp.ClientSession
):
    outcome = await gw.send("CS101", from_=PHONE)
    [attempt] = outcome.attempts
    _, detail = await get(http, gw.url + f"/_twsim/attempts/{attempt.sid}")
    exchange = detail["exchange"]
    params = dict(exchange["params"])
    assert (params["From"], params["Body"]) == (PHONE, "CS101")
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    assert validator.validate(exchange["signed_url"], params, exchange["signature"])
    assert (
        exchange["answer"].startswith("<?xml")
        and "<Message>got CS101 ✅</Message>" in exchange["answer"]
    )
    assert detail["attempt"]["data"]["http_status"] == 200
    assert detail["executed"]["messages"] == 1
    assert [(w["code"], w["fatal"]) for w in detail["warnings"]] == [(14103, False)]
    assert detail["warnings"][0]["more_info"] == "https://www.twilio.com/docs/errors/14103"
    assert [m["body"] for m in detail["messages"]] == ["got CS101 ✅"]
    assert detail["inbound"]["sid"] == outcome.inbound.sid
    status, _ = await get(http, gw.url + "/_twsim/attempts/WAnope")
    assert status == 404


async def test_summary_follows_the_log_and_starts_afresh_on_reset(
    gw: Simulator, http: aiohttp.ClientSession
):
    await gw.send("one", from_=PHONE)
    _, first = await get(http, gw.url + "/_twsim/summary")
    _, report = await get(http, gw.url + "/_twsim/report")
    assert first["report"] == report
    assert sum(first["series"]["inbound"]["1"]) == 1
    await gw.send("two", from_=PHONE)
    _, second = await get(http, gw.url + "/_twsim/summary")
    assert second["report"]["inbound"]["count"] == 2
    assert sum(second["series"]["inbound"]["2"]) == 1  # the second text of that sender
    assert second["seq"] > first["seq"]
    async with http.post(gw.url + "/_twsim/reset") as response:
        assert response.status == 200
    _, after = await get(http, gw.url + "/_twsim/summary")
    assert after["report"]["inbound"]["count"] == 0


async def test_overview_names_the_numbers_and_error_meanings(
    gw: Simulator, http: aiohttp.ClientSession
):
    _, overview = await get(http, gw.url + "/_twsim/overview")
    assert [n["phone_number"] for n in overview["numbers"]] == [gw.number]
    assert overview["codes"]["30003"]["meaning"] == "Unreachable destination handset"
