"""Inbound handling on its own: a received text's webhook, its answer carried out, and
what the app sent meanwhile, against a real loopback app."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from parts import wire
from twilio.request_validator import RequestValidator

from twsim.config.models import DEFAULT_AUTH_TOKEN, Config
from twsim.model.clock import ManualClock
from twsim.model.state import OutboundRequest

PHONE = "+12025550123"
PROFESSOR = "+12025550199"


async def test_the_answer_is_carried_out_and_sends_in_flight_are_collected(
    serve_app: Any,
) -> None:
    config = Config()
    parts = wire(config, ManualClock())
    state = parts.state
    account = state.accounts[config.accounts[0].sid]
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    valid: list[bool] = []

    async def sms(request: web.Request) -> web.Response:
        form = dict(await request.post())
        url = f"http://{request.host}{request.path}"
        valid.append(validator.validate(url, form, request.headers["X-Twilio-Signature"]))
        # the app notifies the professor through the gateway while the webhook is in flight
        state.create_message(
            account, OutboundRequest(to=PROFESSOR, from_=str(form["To"]), body="a text came")
        )
        messages = "".join(f"<Message>answer {n}</Message>" for n in range(11))
        return web.Response(text=f"<Response>{messages}</Response>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/sms", sms)
    server = await serve_app(app)
    state.numbers[config.numbers[0].phone_number].sms_url = f"http://127.0.0.1:{server.port}/sms"
    received = state.receive_inbound(from_=PHONE, to=config.numbers[0].phone_number, body="hi")
    try:
        outcome = await parts.inbound.handle(received)
    finally:
        await parts.close()

    assert valid == [True]
    assert [m.body for m in outcome.replies] == [f"answer {n}" for n in range(10)]
    assert [(m.to, m.inbound_sid) for m in outcome.sends] == [(PROFESSOR, received.message.sid)]
    assert outcome.warnings == [14109]
    assert outcome.problems[0].message.startswith("Reply message limit exceeded")


async def test_a_number_without_a_webhook_is_stored_only() -> None:
    config = Config()
    parts = wire(config, ManualClock())
    received = parts.state.receive_inbound(
        from_=PHONE, to=config.numbers[0].phone_number, body="hi"
    )
    try:
        outcome = await parts.inbound.handle(received)
    finally:
        await parts.close()
    assert (outcome.attempts, outcome.replies, outcome.error_code) == ([], [], None)
