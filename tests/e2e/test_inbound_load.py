"""A flash load: a thousand texts at once, each stored, delivered once, replied to and billed
once. Bounded in count and time; loopback only."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web
from apps import Hit, TwilioApp, config_for, reply, twiml

from twsim.core.lifecycle import MessageDirection, MessageStatus
from twsim.model.clock import ManualClock
from twsim.model.events import Charged, WebhookAttempt
from twsim.server.simulator import Simulator

TEXTS = 1000
PHONES = 250  # each phone texts four times, like students re-texting a wrong code


def phone(n: int) -> str:
    return f"+1202555{n % PHONES:04d}"


def counting_app(app: TwilioApp, seen: Counter[str]) -> str:
    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        seen[str(hit.sid)] += 1
        return twiml(reply(f"code {hit.get('Body')} is not valid"))

    return app.route("/sms", sms)


def charges_per_message(sim: Simulator) -> Counter[str]:
    return Counter(str(e.message) for e in sim.events.of_type(Charged))


async def check_every_text_once(sim: Simulator, app: TwilioApp, seen: Counter[str]) -> None:
    await sim.quiet(None)  # pytest-timeout bounds the test
    state = sim.gateway.state
    inbound = [m for m in state.messages.values() if m.direction is MessageDirection.INBOUND]
    replies = [m for m in state.messages.values() if m.direction is MessageDirection.OUTBOUND_REPLY]
    assert len(inbound) == TEXTS
    assert len(app.hits) == TEXTS and all(h.valid for h in app.hits)
    assert set(seen) == {m.sid for m in inbound}
    assert set(seen.values()) == {1}  # each MessageSid delivered exactly once
    assert Counter(m.inbound_sid for m in replies) == Counter({m.sid: 1 for m in inbound})
    assert all(m.status is MessageStatus.DELIVERED for m in replies)
    charge_events = sim.events.of_type(Charged)
    assert all(e.inbound == e.message for e in charge_events if e.message in seen)
    reply_cause = {m.sid: m.inbound_sid for m in replies}
    assert all(
        e.inbound == reply_cause[e.message] for e in charge_events if e.message in reply_cause
    )
    charged = charges_per_message(sim)
    assert all(charged[m.sid] == 1 for m in inbound)
    assert all(charged[m.sid] == 1 for m in replies)
    assert sum(charged.values()) == 2 * TEXTS
    tokens = {h.headers["I-Twilio-Idempotency-Token"] for h in app.hits}
    assert len(tokens) == TEXTS


async def test_a_thousand_concurrent_texts_through_the_gateway(app: TwilioApp, make_sim: Any):
    seen: Counter[str] = Counter()
    sim = await make_sim(config_for(counting_app(app, seen)))

    results = await asyncio.gather(
        *(
            sim.gateway.receive(from_=phone(n), to=sim.number, body=f"C{n}", wait=True)
            for n in range(TEXTS)
        )
    )

    outcomes = [outcome for _, outcome in results]
    assert all(o is not None and o.error_code is None and len(o.replies) == 1 for o in outcomes)
    await check_every_text_once(sim, app, seen)


async def test_a_thousand_concurrent_texts_through_the_control_plane(app: TwilioApp, make_sim: Any):
    seen: Counter[str] = Counter()
    sim = await make_sim(config_for(counting_app(app, seen)))
    connector = aiohttp.TCPConnector(limit=100)

    async with aiohttp.ClientSession(connector=connector) as http:

        async def text(n: int) -> dict[str, Any]:
            form = {"From": phone(n), "To": sim.number, "Body": f"C{n}"}
            async with http.post(sim.url + "/_twsim/inbound?wait=1", data=form) as response:
                assert response.status == 200
                return await response.json()  # type: ignore[no-any-return]

        answers = await asyncio.gather(*(text(n) for n in range(TEXTS)))

    assert all(a["error_code"] is None and len(a["replies"]) == 1 for a in answers)
    assert len({a["inbound"]["sid"] for a in answers}) == TEXTS
    await check_every_text_once(sim, app, seen)


async def test_waiting_for_a_connection_never_eats_into_a_webhooks_time_budget(
    app: TwilioApp, make_sim: Any
):
    """Webhooks queued behind busy connections keep their whole budget (a manual clock
    moves 100 s while they wait; each still has its 30 s once it gets a connection)."""
    clock = ManualClock()
    held = 0
    all_held = asyncio.Event()
    release = asyncio.Event()
    slots, texts = 2, 6

    async def slow(request: web.Request, hit: Hit) -> web.StreamResponse:
        nonlocal held
        held += 1
        if held == slots:
            all_held.set()
        await release.wait()
        return twiml(reply("ok"))

    config = config_for(app.route("/sms", slow))
    config.webhook.total_timeout_s = 30.0
    config.webhook.max_connections_per_app = slots
    sim = await make_sim(config, clock=clock)
    sends = [
        asyncio.ensure_future(
            sim.gateway.receive(from_=phone(n), to=sim.number, body=f"C{n}", wait=True)
        )
        for n in range(texts)
    ]
    await all_held.wait()
    await clock.advance(100.0)  # far beyond the budget, while four webhooks wait
    release.set()
    results = await asyncio.gather(*sends)

    codes = Counter(outcome.error_code for _, outcome in results if outcome is not None)
    assert codes == Counter({None: texts})
    attempts = sim.events.of_type(WebhookAttempt)
    assert len(attempts) == texts
    queued = sorted(e.queued_ms or 0.0 for e in attempts)
    assert queued[:slots] == [0.0] * slots  # the first ones had a connection at once
    assert all(ms >= 100_000 for ms in queued[slots:])  # the others waited, and it shows
    assert all(e.latency_ms is not None and e.latency_ms >= 100_000 for e in attempts)
