"""Opt-out keywords and the reply-loop guard, driven by texts to a real app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from apps import OTHER_PHONE, PHONE, Hit, TwilioApp, config_for, reply, twiml
from twilio.base.exceptions import TwilioRestException

from twsim.config.models import NumberConfig, ServiceConfig
from twsim.core.keywords import Keyword, auto_reply
from twsim.core.lifecycle import MessageStatus
from twsim.core.pricing import NumberType
from twsim.model.clock import ManualClock
from twsim.model.events import AutoReply, Charged, MessageRejected, MessageStatusChanged
from twsim.server.simulator import Simulator

STOP_REPLY = auto_reply(Keyword.STOP, NumberType.LOCAL, opted_out=False)
START_REPLY = auto_reply(Keyword.START, NumberType.LOCAL, opted_out=True)
HELP_REPLY = auto_reply(Keyword.HELP, NumberType.LOCAL, opted_out=False)
SIBLING = "+12025550100"


async def echo(request: web.Request, hit: Hit) -> web.StreamResponse:
    return twiml(reply(f"app got {hit.get('Body')}"))


async def rest_send(sim: Simulator, to: str) -> str:
    message = await asyncio.to_thread(
        sim.client().messages.create, to=to, from_=sim.number, body="news"
    )
    return str(message.sid)


def auto_replies(sim: Simulator, inbound: str) -> list[str]:
    return [e.body for e in sim.events.of_type(AutoReply) if e.inbound == inbound]


@pytest.mark.parametrize("word", ["STOP", "stop", "sToP", "Unsubscribe", "cancel", "QUIT"])
async def test_stop_opts_out_yet_the_webhook_is_still_delivered(
    app: TwilioApp, make_sim: Any, word: str
):
    sim = await make_sim(config_for(app.route("/sms", echo)))

    outcome = await sim.send(word, from_=PHONE)

    [hit] = app.hits
    assert hit.valid and hit.get("Body") == word
    assert "OptOutType" not in hit.params  # only with Advanced Opt-Out on a service
    assert auto_replies(sim, outcome.inbound.sid) == [STOP_REPLY]
    assert outcome.replies == []  # the app's TwiML reply to an opted-out phone is not sent
    assert 21610 in outcome.warnings
    [rejected] = sim.events.of_type(MessageRejected)
    assert (rejected.inbound, rejected.code) == (outcome.inbound.sid, 21610)
    charges = [e for e in sim.events.of_type(Charged) if e.inbound == outcome.inbound.sid]
    assert [e.message for e in charges] == [outcome.inbound.sid]  # auto replies are free
    with pytest.raises(TwilioRestException) as refused:
        await rest_send(sim, PHONE)
    assert (refused.value.status, refused.value.code) == (400, 21610)
    assert await rest_send(sim, OTHER_PHONE)  # only that phone opted out


async def test_stop_inside_a_sentence_is_an_ordinary_text(app: TwilioApp, make_sim: Any):
    sim = await make_sim(config_for(app.route("/sms", echo)))

    outcome = await sim.send("stop please", from_=PHONE)

    assert auto_replies(sim, outcome.inbound.sid) == []
    assert [m.body for m in outcome.replies] == ["app got stop please"]
    assert await rest_send(sim, PHONE)


@pytest.mark.parametrize("word", ["START", "yes", "Unstop"])
async def test_start_words_opt_back_in(app: TwilioApp, make_sim: Any, word: str):
    sim = await make_sim(config_for(app.route("/sms", echo)))
    await sim.send("STOP", from_=PHONE)

    outcome = await sim.send(word, from_=PHONE)

    assert auto_replies(sim, outcome.inbound.sid) == [START_REPLY]
    assert [m.body for m in outcome.replies] == [f"app got {word}"]
    assert outcome.warnings == []
    assert await rest_send(sim, PHONE)
    assert [h.get("Body") for h in app.hits] == ["STOP", word]


@pytest.mark.parametrize("word", ["HELP", "info"])
async def test_help_words_get_the_help_text_and_change_nothing(
    app: TwilioApp, make_sim: Any, word: str
):
    sim = await make_sim(config_for(app.route("/sms", echo)))

    outcome = await sim.send(word, from_=PHONE)

    assert auto_replies(sim, outcome.inbound.sid) == [HELP_REPLY]
    assert [m.body for m in outcome.replies] == [f"app got {word}"]
    assert await rest_send(sim, PHONE)


async def test_reply_loop_is_cut_at_thirty_replies_in_thirty_seconds(app: TwilioApp, make_sim: Any):
    clock = ManualClock()
    sim = await make_sim(config_for(app.route("/sms", echo)), clock=clock)

    outcomes = [await sim.send(f"auto {n}", from_=PHONE) for n in range(31)]
    other = await sim.send("different pair", from_=OTHER_PHONE)
    await sim.quiet(60)

    replies = [o.replies[0] for o in outcomes]
    assert all(m.status is MessageStatus.DELIVERED for m in replies[:30])
    looped = replies[30]
    assert looped.sid in sim.gateway.state.messages  # created, then failed
    assert (looped.status, looped.error_code) == (MessageStatus.FAILED, 14107)
    assert other.replies[0].status is MessageStatus.DELIVERED
    statuses = [
        e.status for e in sim.events.of_type(MessageStatusChanged) if e.message == looped.sid
    ]
    assert statuses[-1] == "failed"

    await clock.advance(30)
    after = await sim.send("after the window", from_=PHONE)
    await sim.quiet(60)
    assert after.replies[0].status is MessageStatus.DELIVERED


async def test_stop_to_a_service_number_opts_out_of_the_whole_service(
    app: TwilioApp, make_sim: Any
):
    url = app.route("/sms", echo)
    config = config_for(url)
    config.numbers.append(NumberConfig(phone_number=SIBLING, sms_url=url))
    config.services = [
        ServiceConfig(sid="MG" + "2" * 32, numbers=[config.numbers[0].phone_number, SIBLING])
    ]
    sim = await make_sim(config)

    await sim.send("STOP", from_=PHONE)

    with pytest.raises(TwilioRestException) as refused:
        await asyncio.to_thread(
            sim.client().messages.create, to=PHONE, from_=SIBLING, body="from the sibling"
        )
    assert refused.value.code == 21610


async def test_short_codes_leave_keywords_to_the_app(app: TwilioApp, make_sim: Any):
    config = config_for(app.route("/sms", echo), phone_number="55555", type=NumberType.SHORT_CODE)
    sim = await make_sim(config)

    outcome = await sim.send("STOP", from_=PHONE, to="55555")

    assert auto_replies(sim, outcome.inbound.sid) == []
    assert [m.body for m in outcome.replies] == ["app got STOP"]
    assert outcome.warnings == []
