"""The app's answer is read to its end: slow bodies arrive whole, cut ones are protocol
failures, and one hanging app never holds up another."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from apps import PHONE, Hit, TwilioApp, config_for, reply, twiml

from twsim.config.models import NumberConfig
from twsim.model.events import WebhookAttempt

TWO_PARTS = b"<Response><Message>first half, then "
SECOND = b"the second</Message></Response>"


def chunked(*parts: bytes) -> list[bytes]:
    """An HTTP/1.1 answer with a chunked body, as separate writes: headers, each chunk, end."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
    return [head] + [b"%x\r\n%s\r\n" % (len(p), p) for p in parts] + [b"0\r\n\r\n"]


async def test_twiml_arriving_in_two_parts_is_read_whole(make_sim: Any, raw_server: Any) -> None:
    head, first, second, end = chunked(TWO_PARTS, SECOND)
    server = await raw_server(head + first, second + end, pause_s=0.1)
    sim = await make_sim(config_for(server.url))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code is None and outcome.warnings == []
    assert [m.body for m in outcome.replies] == ["first half, then the second"]


async def test_an_answer_cut_short_is_a_protocol_violation(make_sim: Any, raw_server: Any) -> None:
    body = b"<Response><Message>never finished</Message></Response>"
    cut = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % (
        len(body) + 40
    )
    server = await raw_server(cut + body)  # then the connection closes, 40 bytes short
    sim = await make_sim(config_for(server.url + "#rc=0"))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 11206
    assert outcome.replies == []
    [attempt] = sim.events.of_type(WebhookAttempt)
    assert attempt.error_code == 11206 and "protocol" in (attempt.error or "")


async def test_a_hanging_app_never_holds_up_another(
    app: TwilioApp, serve_app: Any, make_sim: Any
) -> None:
    release = asyncio.Event()
    held = 0
    all_held = asyncio.Event()
    slots = 3

    async def hang(request: web.Request) -> web.Response:
        nonlocal held
        held += 1
        if held >= slots:
            all_held.set()
        await release.wait()
        return web.Response(text=reply("late"), content_type="text/xml")

    hanging = web.Application()
    hanging.router.add_post("/sms", hang)
    slow = await serve_app(hanging)

    async def healthy(request: web.Request, hit: Hit) -> web.StreamResponse:
        return twiml(reply("right away"))

    config = config_for(f"http://127.0.0.1:{slow.port}/sms")
    config.webhook.max_connections_per_app = slots
    config.numbers.append(
        NumberConfig(phone_number="+15005550010", sms_url=app.route("/sms", healthy))
    )
    sim = await make_sim(config)
    stuck = [asyncio.ensure_future(sim.send(f"text {n}", from_=PHONE)) for n in range(slots + 2)]
    await all_held.wait()  # every slot to the hanging app is taken; two more wait for one

    answered = await sim.send("hello", from_=PHONE, to="+15005550010")

    assert [m.body for m in answered.replies] == ["right away"]
    assert not any(task.done() for task in stuck)
    release.set()
    outcomes = await asyncio.gather(*stuck)
    assert all([m.body for m in o.replies] == ["late"] for o in outcomes)
    waited = [e for e in sim.events.of_type(WebhookAttempt) if e.queued_ms is not None]
    assert len(waited) == 2
    assert all(e.latency_ms is not None and e.latency_ms >= e.queued_ms > 0 for e in waited)
    healthy_attempt = next(
        e for e in sim.events.of_type(WebhookAttempt) if e.inbound == answered.inbound.sid
    )
    assert healthy_attempt.queued_ms is None
