"""A misbehaving app: every failure gets Twilio's code, the fallback is called, the inbound is
still stored and billed, and the gateway keeps serving."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from apps import PHONE, Gate, Hit, TwilioApp, Unaccepting, config_for, reply, twiml, unused_port

from twsim.config.models import Config, NumberConfig
from twsim.gateway.inbound import InboundOutcome
from twsim.model.events import Charged, TwimlWarning, WebhookAttempt
from twsim.server.simulator import Simulator

GOOD_NUMBER = "+12025550100"


def inbound_charges(sim: Simulator, outcome: InboundOutcome) -> list[Any]:
    sid = outcome.inbound.sid
    return [e for e in sim.events.of_type(Charged) if e.message == sid and e.inbound == sid]


def config(app: TwilioApp, sms_url: str | None, **number_fields: Any) -> Config:
    """The default number at `sms_url`, and a second number whose app answers well."""
    result = config_for(sms_url, **number_fields)
    good = app.answer("/good", reply("fine"))
    result.numbers.append(NumberConfig(phone_number=GOOD_NUMBER, sms_url=good))
    return result


async def assert_still_serving(sim: Simulator) -> None:
    """The gateway answers its control plane and handles the next text normally."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(sim.url + "/_twsim/health") as response,
    ):
        assert response.status == 200
        assert (await response.json())["status"] == "ok"
    outcome = await sim.send("again", from_=PHONE, to=GOOD_NUMBER)
    assert outcome.error_code is None
    assert [m.body for m in outcome.replies] == ["fine"]


def attempt_events(sim: Simulator) -> list[Any]:
    return sim.events.of_type(WebhookAttempt)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("oops", "text/plain", 500, 11200),
        ("missing", "text/html", 404, 11200),
        ("slow down", "text/plain", 429, 11200),
        ("<Response><Message>unclosed</Response>", "text/xml", 200, 12100),
        ("<Response><Message>a & b</Message></Response>", "text/xml", 200, 12100),
        ("<Reply><Message>hi</Message></Reply>", "application/xml", 200, 12102),
        ('{"reply": "hi"}', "application/json", 200, 12300),
        ("data", "application/octet-stream", 200, 12300),
    ],
)
async def test_bad_answer_is_recorded_and_the_fallback_gets_error_code_and_url(
    app: TwilioApp, make_sim: Any, body: str, content_type: str, status: int, code: int
):
    url = app.answer("/sms", body, content_type=content_type, status=status)
    fallback = app.answer("/fallback", reply("fallback reply"))
    sim = await make_sim(config(app, url, sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == code
    assert [a.kind for a in outcome.attempts] == ["primary", "fallback"]
    assert outcome.attempts[0].http_status == status
    [primary] = app.hits_to("/sms")
    [fallback_hit] = app.hits_to("/fallback")
    assert primary.valid and fallback_hit.valid
    assert fallback_hit.get("ErrorCode") == str(code)
    assert fallback_hit.get("ErrorUrl") == url
    assert fallback_hit.get("MessageSid") == primary.get("MessageSid") == outcome.inbound.sid
    assert fallback_hit.get("Body") == "hi"
    assert [m.body for m in outcome.replies] == ["fallback reply"]
    warnings = sim.events.of_type(TwimlWarning)
    assert [(e.inbound, e.code, e.fatal) for e in warnings] == [(outcome.inbound.sid, code, True)]
    assert outcome.inbound.sid in sim.gateway.state.messages
    assert len(inbound_charges(sim, outcome)) == 1
    await assert_still_serving(sim)


async def test_without_a_fallback_the_failure_is_only_recorded(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", "<nope", content_type="text/xml")
    sim = await make_sim(config(app, url))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 12100
    assert len(outcome.attempts) == 1
    assert outcome.replies == []
    assert len(inbound_charges(sim, outcome)) == 1
    await assert_still_serving(sim)


async def test_fallback_failing_too_is_recorded(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", "down", content_type="text/plain", status=503)
    fallback = app.answer("/fallback", '{"x": 1}', content_type="application/json")
    sim = await make_sim(config(app, url, sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert [(a.kind, a.http_status) for a in outcome.attempts] == [
        ("primary", 503),
        ("fallback", 200),
    ]
    assert outcome.error_code == 12300
    assert sorted(outcome.warnings) == [11200, 12300]
    assert outcome.replies == []
    await assert_still_serving(sim)


async def test_connection_refused_is_11205_and_retried_once_by_default(
    app: TwilioApp, make_sim: Any
):
    dead = f"http://127.0.0.1:{unused_port()}/sms"
    fallback = app.answer("/fallback", reply("we are down"))
    sim = await make_sim(config(app, dead, sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11205
    assert outcome.attempts[0].http_status is None
    assert attempt_events(sim)[0].tries == 2  # rp=ct by default, rc=1
    [fallback_hit] = app.hits
    assert fallback_hit.get("ErrorCode") == "11205"
    assert fallback_hit.get("ErrorUrl") == dead
    assert [m.body for m in outcome.replies] == ["we are down"]
    assert len(inbound_charges(sim, outcome)) == 1
    await assert_still_serving(sim)


async def test_connect_timeout_is_11205(app: TwilioApp, make_sim: Any, unaccepting: Unaccepting):
    hanging = f"http://127.0.0.1:{unaccepting.port}/sms#ct=150&tt=3000"
    sim = await make_sim(config(app, hanging))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11205
    [attempt] = attempt_events(sim)
    assert attempt.tries == 2
    assert "connect timeout" in attempt.error
    assert len(inbound_charges(sim, outcome)) == 1
    await assert_still_serving(sim)


async def test_total_timeout_is_11205(app: TwilioApp, make_sim: Any, gate: Gate):
    async def stuck(request: web.Request, hit: Hit) -> web.StreamResponse:
        await gate.wait()
        return twiml(reply("too late"))

    url = app.route("/sms", stuck)
    sim = await make_sim(config(app, url + "#tt=300&rt=5000"))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11205
    assert outcome.replies == []
    assert len(app.hits) == 1  # a read failure is not retried under the default policy
    await assert_still_serving(sim)


async def test_total_timeout_from_config_is_11205(app: TwilioApp, make_sim: Any, gate: Gate):
    async def stuck(request: web.Request, hit: Hit) -> web.StreamResponse:
        await gate.wait()
        return twiml(reply("too late"))

    url = app.route("/sms", stuck)
    slow = config(app, url)
    slow.webhook.total_timeout_s = 0.3
    sim = await make_sim(slow)

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11205
    assert outcome.replies == []
    await assert_still_serving(sim)


async def test_read_timeout_is_11205_and_retried_with_the_same_token(
    app: TwilioApp, make_sim: Any, gate: Gate
):
    async def sleepy(request: web.Request, hit: Hit) -> web.StreamResponse:
        if len(app.hits) == 1:
            await gate.wait()  # longer than rt
        return twiml(reply("awake"))

    url = app.route("/sms", sleepy)
    sim = await make_sim(config(app, url + "#rt=200&tt=4000&rc=1&rp=rt"))

    outcome = await sim.send("hi", from_=PHONE)

    assert len(app.hits) == 2
    assert all(h.valid for h in app.hits)
    tokens = {h.headers["I-Twilio-Idempotency-Token"] for h in app.hits}
    assert len(tokens) == 1
    assert outcome.error_code is None
    assert [m.body for m in outcome.replies] == ["awake"]
    assert attempt_events(sim)[0].tries == 2


async def test_read_timeout_without_retry_is_11205(app: TwilioApp, make_sim: Any, gate: Gate):
    async def sleepy(request: web.Request, hit: Hit) -> web.StreamResponse:
        await gate.wait()
        return twiml(reply("awake"))

    url = app.route("/sms", sleepy)
    sim = await make_sim(config(app, url + "#rt=200&tt=4000&rc=0"))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11205
    assert len(app.hits) == 1
    [attempt] = attempt_events(sim)
    assert "no response" in attempt.error


async def test_retries_on_5xx_reuse_the_idempotency_token(app: TwilioApp, make_sim: Any):
    async def flaky(request: web.Request, hit: Hit) -> web.StreamResponse:
        if len(app.hits) <= 2:
            return web.Response(status=502, text="bad gateway")
        return twiml(reply("third time lucky"))

    url = app.route("/sms", flaky)
    sim = await make_sim(config(app, url + "#rc=2&rp=5xx"))

    outcome = await sim.send("hi", from_=PHONE)

    assert len(app.hits) == 3
    assert all(h.valid for h in app.hits)
    assert len({h.headers["I-Twilio-Idempotency-Token"] for h in app.hits}) == 1
    assert len({h.sid for h in app.hits}) == 1
    assert outcome.error_code is None
    assert [m.body for m in outcome.replies] == ["third time lucky"]
    [attempt] = attempt_events(sim)
    assert (attempt.tries, attempt.http_status) == (3, 200)


async def test_5xx_is_not_retried_under_the_default_policy(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", "down", content_type="text/plain", status=500)
    sim = await make_sim(config(app, url))

    outcome = await sim.send("hi", from_=PHONE)

    assert len(app.hits) == 1
    assert outcome.error_code == 11200


async def test_invalid_retry_policy_is_11243_and_nothing_is_sent(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", reply("never"))
    fallback = app.answer("/fallback", reply("fallback"))
    sim = await make_sim(config(app, url + "#rp=sometimes", sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11243
    assert app.hits_to("/sms") == []
    [fallback_hit] = app.hits_to("/fallback")
    assert fallback_hit.get("ErrorCode") == "11243"
    assert fallback_hit.get("ErrorUrl") == url
    assert len(inbound_charges(sim, outcome)) == 1


async def test_no_webhook_configured_still_stores_and_bills(make_sim: Any):
    sim = await make_sim(config_for(None))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.attempts == [] and outcome.replies == []
    assert outcome.inbound.sid in sim.gateway.state.messages
    assert len(inbound_charges(sim, outcome)) == 1


async def test_answer_without_content_type_is_11200(app: TwilioApp, make_sim: Any, raw_server: Any):
    server = await raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n<Response/>")
    sim = await make_sim(config(app, server.url))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11200
    assert outcome.attempts[0].http_status == 200
    await assert_still_serving(sim)


async def test_broken_http_is_11206(app: TwilioApp, make_sim: Any, raw_server: Any):
    server = await raw_server(b"this is not HTTP at all\r\n\r\n")
    fallback = app.answer("/fallback", reply("fallback"))
    sim = await make_sim(config(app, server.url, sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11206
    assert server.requests == 1
    [fallback_hit] = app.hits_to("/fallback")
    assert fallback_hit.get("ErrorCode") == "11206"
    await assert_still_serving(sim)


async def test_connection_dropped_without_answer_is_recorded(
    app: TwilioApp, make_sim: Any, raw_server: Any
):
    server = await raw_server(b"")
    sim = await make_sim(config(app, server.url))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11206
    assert outcome.attempts[0].http_status is None
    assert len(inbound_charges(sim, outcome)) == 1
    await assert_still_serving(sim)
