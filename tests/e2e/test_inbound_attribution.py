"""REST sends are attributed by the stated rule, checked against hand counts with real apps.

Three app shapes, each an ordinary Twilio app on loopback that validates signatures and
sends with the official client: a relay (strangers' texts are forwarded to the owner; the
owner answers a stranger by texting the app), a notifier (every text notifies a professor),
and a broadcaster (an admin action texts everyone, no text in sight). Bursts hold many
webhooks in flight at once: each webhook waits until all of its burst have arrived.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from apps import Hit, TwilioApp, config_for, reply, twiml
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from twsim.analysis.report import build
from twsim.model.events import MessageCreated
from twsim.server.simulator import Simulator

OWNER = "+12025550100"
PROFESSOR = "+12025550199"
STRANGERS = [f"+1202555{n:04d}" for n in range(1, 9)]


class Barrier:
    """Holds each webhook until `size` have arrived, and again until all have sent, so every
    webhook of a burst is in flight while any of them sends."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._in = 0
        self._sent = 0
        self._all_in = asyncio.Event()
        self._all_sent = asyncio.Event()

    async def arrive(self) -> None:
        self._in += 1
        if self._in >= self.size:
            self._all_in.set()
        await self._all_in.wait()

    async def sent(self) -> None:
        self._sent += 1
        if self._sent >= self.size:
            self._all_sent.set()
        await self._all_sent.wait()


def gateway_config(url: str, **settings: Any) -> Any:
    config = config_for(url)
    config.webhook.total_timeout_s = 120.0  # the barrier holds webhooks; never the limit here
    for name, value in settings.items():
        setattr(config, name, value)
    return config


async def burst(sim: Simulator, senders: list[str], body: str) -> list[Any]:
    """Every sender texts at once; the outcomes once all webhooks are answered."""
    outcomes = await asyncio.gather(*(sim.send(body, from_=phone) for phone in senders))
    await sim.quiet(60)
    return list(outcomes)


async def test_relay_answers_belong_to_the_owners_webhook_in_flight(
    app: TwilioApp, make_sim: Any
) -> None:
    clients: list[Client] = []
    gate: list[Barrier] = []

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        sender, number, body = str(hit.get("From")), str(hit.get("To")), str(hit.get("Body"))
        barrier = gate[0]
        await barrier.arrive()
        if sender == OWNER:  # "+1202...: text" answers that stranger
            to, _, text = body.partition(": ")
            await asyncio.to_thread(clients[0].messages.create, to=to, from_=number, body=text)
        else:
            await asyncio.to_thread(
                clients[0].messages.create, to=OWNER, from_=number, body=f"{sender}: {body}"
            )
        await barrier.sent()
        return twiml(MessagingResponse())

    sim = await make_sim(gateway_config(app.route("/sms", sms)))
    clients.append(sim.client())
    strangers = STRANGERS[:6]

    gate.append(Barrier(len(strangers)))
    asked = await burst(sim, strangers, "is this the bike seller?")
    # the owner answers each stranger right away, inside the attribution window of their texts
    gate[0] = Barrier(len(strangers))
    answered = await asyncio.gather(
        *(sim.send(f"{phone}: yes, still for sale", from_=OWNER) for phone in strangers)
    )
    await sim.quiet(60)

    created = {e.to: e for e in sim.events.of_type(MessageCreated) if e.to != OWNER}
    owner_texts = {o.inbound.sid for o in answered}
    assert {e.inbound for e in created.values()} == owner_texts
    assert {e.attributed for e in created.values()} == {"in-flight"}
    # by hand: each stranger's text caused one forward; the owner's six texts, six answers
    report = build(sim.events)
    assert len(asked) == 6
    assert all_senders(report, sim) == {OWNER: (6, 6), **{phone: (1, 1) for phone in strangers}}
    assert report.amplification["messages"] == 1.0
    assert report.unattributed.count == 0


def all_senders(report: Any, sim: Simulator) -> dict[str, tuple[int, int]]:
    """(texts, outbound caused) for every sender, counted from the stored messages."""
    texts: dict[str, int] = {}
    caused: dict[str, int] = {}
    sender_of: dict[str, str] = {}
    for message in sim.gateway.state.messages.values():
        if message.direction == "inbound":
            phone = message.from_ or ""
            sender_of[message.sid] = phone
            texts[phone] = texts.get(phone, 0) + 1
    for message in sim.gateway.state.messages.values():
        if message.direction != "inbound" and message.inbound_sid in sender_of:
            phone = sender_of[message.inbound_sid]
            caused[phone] = caused.get(phone, 0) + 1
    assert sum(caused.values()) == round(report.amplification["messages"] * sum(texts.values()))
    return {phone: (n, caused.get(phone, 0)) for phone, n in texts.items()}


async def test_notifications_from_a_burst_in_flight_count_once_per_text(
    app: TwilioApp, make_sim: Any
) -> None:
    clients: list[Client] = []
    gate: list[Barrier] = []

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        barrier = gate[0]
        await barrier.arrive()
        await asyncio.to_thread(
            clients[0].messages.create,
            to=PROFESSOR,
            from_=str(hit.get("To")),
            body=f"{hit.get('From')} sent a wrong code",
        )
        await barrier.sent()
        return twiml(reply("Invalid code, try again"))

    sim = await make_sim(gateway_config(app.route("/sms", sms)))
    clients.append(sim.client())
    gate.append(Barrier(len(STRANGERS)))
    await burst(sim, STRANGERS, "CS1O1")
    # half of them try again, together
    gate[0] = Barrier(4)
    await burst(sim, STRANGERS[:4], "CS1O1")

    report = build(sim.events)
    hand = {phone: (2, 4) for phone in STRANGERS[:4]} | {p: (1, 2) for p in STRANGERS[4:]}
    assert all_senders(report, sim) == hand
    assert report.amplification["messages"] == 2.0
    assert report.amplification["api"] == 1.0
    assert report.attribution["in-flight"] == 12 and report.attribution["twiml"] == 12
    assert [row["amplification"] for row in report.by_position] == [2.0, 2.0]


async def test_a_broadcast_no_text_caused_is_unattributed(app: TwilioApp, make_sim: Any) -> None:
    clients: list[Client] = []

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        return twiml(reply("subscribed"))

    # no window after a webhook: only a webhook in flight could claim a send
    sim = await make_sim(gateway_config(app.route("/sms", sms), attribution_window_s=0.0))
    clients.append(sim.client())
    await burst(sim, STRANGERS[:3], "JOIN")

    def broadcast() -> None:  # the admin's "text everyone" button
        for phone in STRANGERS[:3]:
            clients[0].messages.create(to=phone, from_=sim.number, body="Sale today!")

    await asyncio.to_thread(broadcast)
    await sim.quiet(60)

    report = build(sim.events)
    broadcasts = [e for e in sim.events.of_type(MessageCreated) if e.body == "Sale today!"]
    assert [(e.inbound, e.attributed) for e in broadcasts] == [(None, None)] * 3
    assert report.unattributed.count == 3
    assert report.attribution["unattributed"] == 3
    assert report.amplification["messages"] == 1.0  # the three replies, one per text
    assert report.outbound.count == 6  # the totals still hold everything sent
