"""The carrier on its own: statuses at their times on a manual clock, and signed status
callbacks to a real loopback app."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from parts import wire
from twilio.request_validator import RequestValidator

from twsim.config.models import DEFAULT_AUTH_TOKEN, Config
from twsim.core.lifecycle import MessageStatus, Timing
from twsim.model.clock import ManualClock
from twsim.model.state import OutboundRequest

PHONE = "+12025550123"


async def test_a_message_moves_through_its_statuses_at_their_times(serve_app: Any) -> None:
    seen: list[tuple[str, bool]] = []
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)

    async def status(request: web.Request) -> web.Response:
        form = dict(await request.post())
        url = f"http://{request.host}{request.path}"
        signature = request.headers["X-Twilio-Signature"]
        seen.append((str(form["MessageStatus"]), validator.validate(url, form, signature)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/status", status)
    server = await serve_app(app)
    config = Config()
    config.delivery.timing = Timing(send_s=(1.0, 1.0), deliver_s=(2.0, 2.0))
    clock = ManualClock()
    parts = wire(config, clock)
    state = parts.state
    account = state.accounts[config.accounts[0].sid]
    callback = f"http://127.0.0.1:{server.port}/status"
    request = OutboundRequest(to=PHONE, from_=config.numbers[0].phone_number, body="hi")
    request.status_callback = callback
    try:
        message = state.create_message(account, request)
        await clock.advance(0.0)
        assert message.status is MessageStatus.SENDING
        await clock.advance(0.9)
        assert message.status is MessageStatus.SENDING
        await clock.advance(0.1)
        assert message.status is MessageStatus.SENT and message.date_updated == clock.now()
        await clock.advance(2.0)
        assert message.status is MessageStatus.DELIVERED
        await parts.background.quiet(30)
        assert seen == [("sent", True), ("delivered", True)]
        assert message.charge is not None  # billed when sent
    finally:
        await parts.close()
