"""REST calls the app makes with the official twilio client while it handles a webhook are
attributed to the inbound that caused them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from apps import PHONE, Hit, TwilioApp, config_for, reply, twiml
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from twsim.core.lifecycle import MessageDirection
from twsim.model.events import Charged, MessageCreated
from twsim.server.simulator import Simulator

PROFESSOR = "+12025550199"


def created(sim: Simulator, direction: str) -> list[Any]:
    return [e for e in sim.events.of_type(MessageCreated) if e.direction == direction]


async def test_rest_reply_during_the_webhook_belongs_to_the_conversation(
    app: TwilioApp, make_sim: Any
):
    clients: list[Client] = []

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        sent = await asyncio.to_thread(
            clients[0].messages.create,
            to=str(hit.get("From")),
            from_=str(hit.get("To")),
            body=f"REST answer to {hit.get('Body')}",
        )
        assert sent.direction == "outbound-api"
        return twiml(MessagingResponse())

    url = app.route("/sms", sms)
    sim = await make_sim(config_for(url))
    clients.append(sim.client())

    outcome = await sim.send("code 42", from_=PHONE)
    await sim.quiet(60)

    assert outcome.error_code is None and outcome.replies == []
    [event] = created(sim, "outbound-api")
    assert event.inbound == outcome.inbound.sid
    assert event.attempt == outcome.attempts[0].sid
    assert event.attributed == "in-flight"
    message = sim.gateway.state.messages[event.message]
    assert message.direction is MessageDirection.OUTBOUND_API
    assert message.inbound_sid == outcome.inbound.sid
    assert message.body == "REST answer to code 42"
    charges = [e for e in sim.events.of_type(Charged) if e.message == message.sid]
    assert [e.inbound for e in charges] == [outcome.inbound.sid]
    async with (
        aiohttp.ClientSession() as http,
        http.get(sim.url + "/_twsim/messages", params={"inbound": outcome.inbound.sid}) as got,
    ):
        listed = (await got.json())["messages"]
    assert {m["sid"]: m["inbound_sid"] for m in listed if m["direction"] == "outbound-api"} == {
        message.sid: outcome.inbound.sid
    }


# twilio's async HTTP client still uses aiohttp APIs that aiohttp has deprecated
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
async def test_async_twilio_client_and_twiml_reply_in_the_same_webhook(
    app: TwilioApp, make_sim: Any
):
    clients: list[Client] = []

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        await clients[0].messages.create_async(
            to=PROFESSOR, from_=str(hit.get("To")), body=f"student {hit.get('From')} texted"
        )
        await clients[0].messages.create_async(
            to=str(hit.get("From")), from_=str(hit.get("To")), body="noted (REST)"
        )
        return twiml(reply("noted (TwiML)"))

    url = app.route("/sms", sms)
    sim = await make_sim(config_for(url))
    client = Client(sim.account_sid, sim.auth_token, http_client=AsyncTwilioHttpClient())
    client.api.base_url = sim.url
    clients.append(client)
    try:
        outcome = await sim.send("here", from_=PHONE)
    finally:
        await client.http_client.close()

    rest = created(sim, "outbound-api")
    assert [(e.to, e.inbound, e.attributed) for e in rest] == [
        (PROFESSOR, outcome.inbound.sid, "in-flight"),
        (PHONE, outcome.inbound.sid, "in-flight"),
    ]
    [twiml_reply] = outcome.replies
    assert twiml_reply.inbound_sid == outcome.inbound.sid
    per_inbound = [
        m for m in sim.gateway.state.messages.values() if m.inbound_sid == outcome.inbound.sid
    ]
    assert len(per_inbound) == 3


async def test_rest_reply_sent_just_after_answering_is_still_attributed(
    app: TwilioApp, make_sim: Any
):
    clients: list[Client] = []
    answered = asyncio.Event()
    later: list[asyncio.Task[Any]] = []

    async def send_once_answered(to: str, from_: str) -> None:
        await answered.wait()  # the gateway has the webhook's answer: it is no longer in flight
        await asyncio.to_thread(clients[0].messages.create, to=to, from_=from_, body="later")

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        to, from_ = str(hit.get("From")), str(hit.get("To"))
        later.append(asyncio.create_task(send_once_answered(to, from_)))
        return web.Response(status=204)

    url = app.route("/sms", sms)
    sim = await make_sim(config_for(url))
    clients.append(sim.client())

    outcome = await sim.send("hi", from_=PHONE)
    answered.set()
    await asyncio.wait_for(asyncio.gather(*later), 30)

    [event] = created(sim, "outbound-api")
    assert event.inbound == outcome.inbound.sid
    assert event.attributed == "conversation"  # in the window, back to the texter


async def test_rest_message_with_no_webhook_in_flight_has_no_inbound(sim: Simulator):
    message = await asyncio.to_thread(
        sim.client().messages.create, to=PHONE, from_=sim.number, body="cold"
    )

    [event] = created(sim, "outbound-api")
    assert event.message == message.sid
    assert event.inbound is None
    assert event.attributed is None
