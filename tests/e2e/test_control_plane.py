"""The control plane under /_twsim/, driven over HTTP against a real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from apps import PHONE, Hit, TwilioApp, config_for, reply, twiml

from twsim.cli.send import describe
from twsim.model.events import InboundReceived, InboundRejected, TwimlExecuted
from twsim.server.simulator import Simulator


async def echo(request: web.Request, hit: Hit) -> web.StreamResponse:
    return twiml(reply(f"app got {hit.get('Body')}", action="/status"))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def gw(app: TwilioApp, make_sim: Any) -> Simulator:
    app.answer("/status", "", status=204)
    return await make_sim(config_for(app.route("/sms", echo)))  # type: ignore[no-any-return]


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, **kwargs) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def test_inbound_form_with_wait_answers_with_the_outcome_and_replies(
    app: TwilioApp, gw: Simulator, http: aiohttp.ClientSession
):
    status, body = await call(
        http,
        "POST",
        gw.url + "/_twsim/inbound?wait=1",
        data={"From": PHONE, "To": gw.number, "Body": "hello"},
    )

    assert status == 200
    inbound = body["inbound"]
    assert (inbound["direction"], inbound["status"]) == ("inbound", "received")
    assert (inbound["from"], inbound["to"], inbound["body"]) == (PHONE, gw.number, "hello")
    [attempt] = body["webhook"]
    assert (attempt["kind"], attempt["http_status"], attempt["answer"]) == (
        "primary",
        200,
        "twiml",
    )
    [message] = body["replies"]
    assert message["body"] == "app got hello"
    assert message["direction"] == "outbound-reply"
    assert message["inbound_sid"] == inbound["sid"]
    assert (body["error_code"], body["warnings"]) == (None, [])
    assert [h.sid for h in app.hits] == [inbound["sid"]]


async def test_inbound_json_with_media_without_wait_is_accepted_then_delivered(
    app: TwilioApp, gw: Simulator, http: aiohttp.ClientSession
):
    status, body = await call(
        http,
        "POST",
        gw.url + "/_twsim/inbound",
        json={"From": PHONE, "To": gw.number, "Body": "pic", "MediaUrl": ["https://e.x/a.gif"]},
    )

    assert status == 202
    sid = body["inbound"]["sid"]
    assert sid.startswith("MM")
    await gw.events.wait_for(
        lambda: any(e.inbound == sid for e in gw.events.of_type(TwimlExecuted)), 5
    )
    [hit] = app.hits_to("/sms")
    assert (hit.sid, hit.get("NumMedia"), hit.get("MediaContentType0")) == (sid, "1", "image/gif")


OURS = "(the gateway's number)"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"From": PHONE, "To": "+12025550177", "Body": "x"}, 404, 21606),
        ({"From": "not a phone!", "To": OURS, "Body": "x"}, 400, 21212),
        ({"To": OURS, "Body": "x"}, 400, 21212),
        ({"From": PHONE, "To": OURS, "Body": "x" * 1601}, 400, 21617),
        ({"From": PHONE, "To": OURS, "MediaUrl": ["https://e.x/a.png"] * 11}, 400, 21623),
    ],
)
@pytest.mark.parametrize("encoding", ["form", "json"])
async def test_bad_inbound_is_a_twilio_style_4xx_and_nothing_is_stored(
    app: TwilioApp,
    gw: Simulator,
    http: aiohttp.ClientSession,
    fields: dict[str, Any],
    status: int,
    code: int,
    encoding: str,
):
    fields = {k: gw.number if v == OURS else v for k, v in fields.items()}
    payload: dict[str, Any] = {"json": fields} if encoding == "json" else {"data": _form(fields)}

    got, body = await call(http, "POST", gw.url + "/_twsim/inbound?wait=1", **payload)

    assert got == status
    assert body["code"] == code
    assert body["status"] == status
    assert body["message"]
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert app.hits == []
    assert gw.gateway.state.messages == {}
    [rejected] = gw.events.of_type(InboundRejected)
    assert rejected.code == code


def _form(fields: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return pairs


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]"])
async def test_bad_json_is_a_400(gw: Simulator, http: aiohttp.ClientSession, raw: str):
    got, body = await call(
        http,
        "POST",
        gw.url + "/_twsim/inbound",
        data=raw,
        headers={"Content-Type": "application/json"},
    )

    assert (got, body["code"], body["status"]) == (400, 20001, 400)


async def test_messages_events_report_reset_and_health(
    app: TwilioApp, gw: Simulator, http: aiohttp.ClientSession
):
    _, first = await call(
        http, "POST", gw.url + "/_twsim/inbound?wait=1", data={"From": PHONE, "To": gw.number}
    )
    await gw.quiet(60)
    inbound_sid = first["inbound"]["sid"]
    reply_sid = first["replies"][0]["sid"]

    _, listed = await call(http, "GET", gw.url + "/_twsim/messages")
    assert [m["sid"] for m in listed["messages"]] == [reply_sid, inbound_sid]  # newest first
    assert listed["next"] is None
    _, replies = await call(http, "GET", gw.url + "/_twsim/messages?direction=outbound-reply")
    assert [m["sid"] for m in replies["messages"]] == [reply_sid]
    assert replies["messages"][0]["status"] == "delivered"
    _, by_inbound = await call(http, "GET", gw.url + f"/_twsim/messages?inbound={inbound_sid}")
    assert {m["sid"] for m in by_inbound["messages"]} == {inbound_sid, reply_sid}

    _, events = await call(http, "GET", gw.url + "/_twsim/events")
    types = [e["type"] for e in events["events"]]
    assert events["next_since"] is None
    for expected in ("inbound.received", "webhook.attempt", "twiml.executed", "charge"):
        assert expected in types
    assert types.count("callback.attempt") == 2
    _, charges = await call(http, "GET", gw.url + "/_twsim/events?type=charge")
    assert {(e["message"], e["inbound"]) for e in charges["events"]} == {
        (inbound_sid, inbound_sid),
        (reply_sid, inbound_sid),
    }
    last = events["events"][-1]["seq"]
    _, none_newer = await call(http, "GET", gw.url + f"/_twsim/events?since={last}")
    assert none_newer["events"] == []
    bad, error = await call(http, "GET", gw.url + "/_twsim/events?type=nope")
    assert (bad, error["code"]) == (400, 20001)

    _, report = await call(http, "GET", gw.url + "/_twsim/report")
    assert report["inbound"]["count"] == 1
    assert report["outbound"]["count"] == 1
    assert report["amplification"]["replies"] == 1.0
    assert report["webhook"]["requests"] == 1

    _, health = await call(http, "GET", gw.url + "/_twsim/health")
    assert (health["status"], health["messages"], health["busy"]) == ("ok", 2, 0)

    reset_status, reset = await call(http, "POST", gw.url + "/_twsim/reset")
    assert (reset_status, reset) == (200, {"reset": True})
    _, after = await call(http, "GET", gw.url + "/_twsim/messages")
    assert after["messages"] == []
    _, health = await call(http, "GET", gw.url + "/_twsim/health")
    assert health["messages"] == 0
    _, report = await call(http, "GET", gw.url + "/_twsim/report")
    assert report["inbound"]["count"] == 0

    _, again = await call(
        http,
        "POST",
        gw.url + "/_twsim/inbound?wait=1",
        data={"From": PHONE, "To": gw.number, "Body": "after reset"},
    )
    assert [m["body"] for m in again["replies"]] == ["app got after reset"]


@pytest.mark.parametrize(
    "payload",
    [
        {"From": 15551230001, "To": "+15005550006", "Body": "numbers as JSON numbers"},
        {"From": PHONE, "To": 15005550006, "Body": 42},
    ],
)
async def test_json_numbers_are_read_as_text(
    app: TwilioApp, gw: Simulator, http: aiohttp.ClientSession, payload: dict[str, Any]
):
    status, body = await call(http, "POST", gw.url + "/_twsim/inbound?wait=1", json=payload)

    assert status == 200
    assert (body["inbound"]["from"], body["inbound"]["to"]) == (PHONE, gw.number)
    assert body["inbound"]["body"] == str(payload["Body"])


@pytest.mark.parametrize("media", [7, {"url": "x"}, [["nested"]]])
async def test_json_media_that_is_not_urls_is_a_400(
    gw: Simulator, http: aiohttp.ClientSession, media: Any
):
    status, body = await call(
        http,
        "POST",
        gw.url + "/_twsim/inbound",
        json={"From": PHONE, "To": gw.number, "MediaUrl": media},
    )

    assert (status, body["code"]) == (400, 20001)


async def test_wait_reports_the_app_failure_with_its_code(
    app: TwilioApp, make_sim: Any, http: aiohttp.ClientSession
):
    url = app.answer("/broken", "boom", content_type="text/plain", status=500)
    sim = await make_sim(config_for(url))

    status, body = await call(
        http,
        "POST",
        sim.url + "/_twsim/inbound?wait=1",
        data={"From": PHONE, "To": sim.number, "Body": "hi"},
    )

    assert status == 200
    assert body["error_code"] == 11200
    assert body["warnings"] == [11200]
    assert [(a["http_status"], a["answer"]) for a in body["webhook"]] == [(500, "error")]
    assert body["replies"] == []
    _, listed = await call(http, "GET", sim.url + "/_twsim/messages?direction=inbound")
    assert [m["sid"] for m in listed["messages"]] == [body["inbound"]["sid"]]


async def test_wait_shows_rest_sends_made_during_the_webhook_and_warnings_with_their_text(
    app: TwilioApp, make_sim: Any
) -> None:
    clients: list[Any] = []

    async def notify(request: web.Request, hit: Hit) -> web.StreamResponse:
        await asyncio.to_thread(
            clients[0].messages.create,
            to="+12025550199",
            from_=str(hit.get("To")),
            body=f"{hit.get('From')} checked in",
        )
        return twiml('<Response><Message to="">oops</Message></Response>')

    gw = await make_sim(config_for(app.route("/sms", notify)))
    clients.append(gw.client())
    async with aiohttp.ClientSession() as http:
        status, body = await call(
            http,
            "POST",
            gw.url + "/_twsim/inbound?wait=1",
            data={"From": PHONE, "To": gw.number, "Body": "here"},
        )
    assert status == 200
    assert body["replies"] == []
    assert [(m["to"], m["body"]) for m in body["rest_sends"]] == [
        ("+12025550199", f"{PHONE} checked in")
    ]
    assert body["rest_sends"][0]["inbound_sid"] == body["inbound"]["sid"]
    [problem] = body["problems"]
    assert problem["code"] == 14101 and problem["fatal"] is False
    assert problem["message"].startswith('Invalid "To" attribute')
    assert problem["more_info"].endswith("/14101")
    printed = describe(status, body)
    assert "REST    SM" in printed and "checked in" in printed
    assert 'warning 14101 Invalid "To" attribute' in printed


async def test_a_batch_of_texts_goes_through_the_one_ingest_path(gw: Simulator) -> None:
    texts = [
        {"From": PHONE, "To": gw.number, "Body": "one", "meta": {"student": 1}},
        {"From": "+15551230002", "To": gw.number, "Body": "two"},
        {"From": PHONE, "To": "+15550000000", "Body": "to nobody"},
        "not an object",
    ]
    async with aiohttp.ClientSession() as http:
        status, body = await call(
            http, "POST", gw.url + "/_twsim/inbound/batch?source=scenario", json={"texts": texts}
        )
        too_many, refused = await call(
            http, "POST", gw.url + "/_twsim/inbound/batch", json={"texts": [{}] * 1001}
        )
        bare, wrong = await call(http, "POST", gw.url + "/_twsim/inbound/batch", json=[1])
    assert status == 202
    assert len(body["accepted"]) == 2
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(2, 21606), (3, 20001)]
    await gw.quiet(60)
    received = gw.events.of_type(InboundReceived)
    assert [(e.body, e.source, e.meta) for e in received] == [
        ("one", "scenario", {"student": 1}),
        ("two", "scenario", {}),
    ]
    assert [e.inbound for e in received] == body["accepted"]
    assert [e.code for e in gw.events.of_type(InboundRejected)] == [21606]
    assert (too_many, refused["code"]) == (400, 20001)
    assert (bare, wrong["code"]) == (400, 20001)
