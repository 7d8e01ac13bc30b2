"""What the gateway does with the app's answer: TwiML replies, plain text, nothing at all."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from apps import PHONE, Gate, Hit, TwilioApp, config_for, reply
from twilio.twiml.messaging_response import Body, Media, Message, MessagingResponse

from twsim.analysis.report import build
from twsim.core.lifecycle import MessageDirection, MessageStatus, Outcome, OutcomeRule
from twsim.model.events import CallbackAttempt, Charged, MessageCreated, TwimlWarning

OWNED = "+12025550100"


async def test_twiml_messages_become_outbound_replies_from_the_number_to_the_sender(
    app: TwilioApp, make_sim: Any
):
    response = MessagingResponse()
    response.message("first")
    second = Message()
    second.append(Body("second"))
    second.append(Media("https://example.com/a.png"))
    response.append(second)
    url = app.answer("/sms", str(response))
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(60)

    assert outcome.error_code is None and outcome.warnings == []
    assert [m.body for m in outcome.replies] == ["first", "second"]
    for message in outcome.replies:
        assert message.direction is MessageDirection.OUTBOUND_REPLY
        assert message.from_ == sim.number
        assert message.to == PHONE
        assert message.inbound_sid == outcome.inbound.sid
        assert message.attempt_sid == outcome.attempts[0].sid
        assert message.status is MessageStatus.DELIVERED
    assert outcome.replies[0].sid.startswith("SM")
    assert outcome.replies[1].sid.startswith("MM")
    assert [m.url for m in outcome.replies[1].media] == ["https://example.com/a.png"]
    created = sim.events.of_type(MessageCreated)
    assert [(e.inbound, e.attributed) for e in created] == [
        (outcome.inbound.sid, "twiml"),
        (outcome.inbound.sid, "twiml"),
    ]


async def test_message_to_and_from_attributes_override_the_defaults(app: TwilioApp, make_sim: Any):
    response = MessagingResponse()
    response.message("to the teacher", to="+12025550123", from_=OWNED)
    url = app.answer("/sms", str(response))
    config = config_for(url)
    config.numbers.append(type(config.numbers[0])(phone_number=OWNED))
    sim = await make_sim(config)

    outcome = await sim.send("hi", from_=PHONE)

    [message] = outcome.replies
    assert (message.from_, message.to) == (OWNED, "+12025550123")
    assert outcome.warnings == []


async def test_plain_text_answer_is_sent_back_as_the_reply(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", "  Thanks, see you in class!\n", content_type="text/plain")
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)

    [message] = outcome.replies
    assert message.body == "Thanks, see you in class!"
    assert (message.from_, message.to) == (sim.number, PHONE)
    assert outcome.attempts[0].answer == "text"


async def test_html_answer_is_read_as_twiml(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", "<Response><Message>html</Message></Response>", "text/html")
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)

    assert [m.body for m in outcome.replies] == ["html"]


async def test_empty_answers_send_no_reply_and_record_no_error(app: TwilioApp, make_sim: Any):
    async def no_content(request: web.Request, hit: Hit) -> web.StreamResponse:
        return web.Response(status=204)

    urls = [
        app.answer("/empty-response", str(MessagingResponse())),
        app.answer("/empty-200", "", content_type="text/plain"),
        app.route("/no-content", no_content),
    ]
    for url in urls:
        sim = await make_sim(config_for(url))
        outcome = await sim.send("hi", from_=PHONE)
        assert outcome.replies == [], url
        assert outcome.error_code is None, url
        assert outcome.attempts[0].error_code is None, url
        assert sim.events.of_type(MessageCreated) == [], url
    assert all(h.valid for h in app.hits) and len(app.hits) == 3


async def test_action_gets_signed_status_callbacks_and_stops_later_verbs(
    app: TwilioApp, make_sim: Any
):
    response = MessagingResponse()
    response.message("tracked", action="/status")
    response.message("unreachable")
    response.redirect("/next")
    url = app.answer("/sms", str(response))
    status_url = app.answer("/status", "", status=204)
    app.answer("/next", str(MessagingResponse()))
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(60)

    [message] = outcome.replies
    assert message.body == "tracked"
    assert message.status_callback == status_url
    assert app.hits_to("/next") == []
    callbacks = app.hits_to("/status")
    assert [h.get("MessageStatus") for h in callbacks] == ["sent", "delivered"]
    for hit in callbacks:
        assert hit.valid and hit.method == "POST"
        assert hit.get("SmsStatus") == hit.get("MessageStatus")
        assert hit.get("MessageSid") == hit.get("SmsSid") == message.sid
        assert hit.get("AccountSid") == sim.account_sid
        assert (hit.get("From"), hit.get("To")) == (sim.number, PHONE)
        assert hit.get("ApiVersion") == "2010-04-01"
        assert "ErrorCode" not in hit.params
    assert "RawDlrDoneDate" not in callbacks[0].params
    assert len(str(callbacks[1].get("RawDlrDoneDate"))) == 10
    recorded = sim.events.of_type(CallbackAttempt)
    assert [(e.inbound, e.status, e.http_status) for e in recorded] == [
        (outcome.inbound.sid, "sent", 204),
        (outcome.inbound.sid, "delivered", 204),
    ]


async def test_status_callback_reports_error_code_for_undelivered_with_get_method(
    app: TwilioApp, make_sim: Any
):
    response = MessagingResponse()
    response.message("lost", status_callback="/cb?src=twiml", method="GET")
    url = app.answer("/sms", str(response))
    app.answer("/cb", "")
    config = config_for(url)
    config.delivery.outcomes = [
        OutcomeRule(to=PHONE, outcome=Outcome(MessageStatus.UNDELIVERED, 30003))
    ]
    sim = await make_sim(config)

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(60)

    [message] = outcome.replies
    assert message.status is MessageStatus.UNDELIVERED and message.error_code == 30003
    callbacks = app.hits_to("/cb")
    assert [h.get("MessageStatus") for h in callbacks] == ["sent", "undelivered"]
    assert all(h.valid and h.method == "GET" and h.get("src") == "twiml" for h in callbacks)
    assert callbacks[1].get("ErrorCode") == "30003"
    assert callbacks[1].get("RawDlrDoneDate")
    assert "ErrorCode" not in callbacks[0].params


async def test_unknown_verbs_and_bad_attributes_are_warnings_and_the_rest_runs(
    app: TwilioApp, make_sim: Any
):
    document = (
        "<Response>"
        "<Say>not messaging</Say>"
        '<Message to="">empty to</Message>'
        '<Message from="+19998887777">not our number</Message>'
        "<Message></Message>"
        '<Message method="PUT">bad method</Message>'
        '<Message statusCallback="ftp://x/y">bad callback</Message>'
        '<Message to="+1555">bad number</Message>'
        '<Message colour="blue">kept</Message>'
        "</Response>"
    )
    url = app.answer("/sms", document)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code is None
    assert [m.body for m in outcome.replies] == ["bad method", "bad callback", "kept"]
    assert sorted(outcome.warnings) == [12200, 14101, 14101, 14102, 14103, 14104, 14105, 14110]
    warnings = sim.events.of_type(TwimlWarning)
    assert len(warnings) == 8
    assert all(e.inbound == outcome.inbound.sid and e.fatal is False for e in warnings)


async def test_a_hanging_status_callback_does_not_hold_the_message_back(
    app: TwilioApp, make_sim: Any, gate: Gate
):
    sent_callback_arrived = asyncio.Event()

    async def status(request: web.Request, hit: Hit) -> web.StreamResponse:
        if hit.get("MessageStatus") == "sent":
            sent_callback_arrived.set()
            await gate.wait()
        return web.Response(status=204)

    url = app.answer("/sms", reply("tracked", action="/status"))
    app.route("/status", status)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    [message] = outcome.replies
    await sent_callback_arrived.wait()
    await sim.events.wait_for(lambda: message.status is MessageStatus.DELIVERED)

    assert [h.get("MessageStatus") for h in app.hits_to("/status")] == ["sent"]
    gate.release()
    await sim.quiet(60)
    assert [h.get("MessageStatus") for h in app.hits_to("/status")] == ["sent", "delivered"]


async def test_at_most_ten_replies_per_text_the_rest_is_warning_14109(
    app: TwilioApp, make_sim: Any
):
    url = app.answer("/sms", reply(*(f"reply {n}" for n in range(12))))
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(30)

    assert [m.body for m in outcome.replies] == [f"reply {n}" for n in range(10)]
    assert outcome.warnings == [14109]
    [warning] = sim.events.of_type(TwimlWarning)
    assert (
        warning.code == 14109 and warning.fatal is False and "2 <Message>" in (warning.error or "")
    )
    outbound_charges = [
        e for e in sim.events.of_type(Charged) if e.charge and e.charge["direction"] == "outbound"
    ]
    assert len(outbound_charges) == 10


async def test_the_reply_limit_holds_across_redirects_and_thousands_of_verbs(
    app: TwilioApp, make_sim: Any
):
    first = reply(*(f"a{n}" for n in range(6))).replace(
        "</Response>", "<Redirect>/more</Redirect></Response>"
    )
    app.answer("/more", "<Response>" + "<Message>b</Message>" * 3000 + "</Response>")
    url = app.answer("/sms", first)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(30)

    assert [m.body for m in outcome.replies] == [f"a{n}" for n in range(6)] + ["b"] * 4
    assert outcome.warnings == [14109]
    assert "2996 <Message>" in (sim.events.of_type(TwimlWarning)[0].error or "")
    assert build(sim.events).outbound.count == 10
