"""An outbound MMS's media are fetched before it is sent, as Twilio does: types come from
the answers, and media that cannot be fetched fail the message (63019, 63045)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from apps import PHONE, TwilioApp, config_for, reply

from twsim.model.events import MessageStatusChanged

TINY_GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


async def send_mms(sim: Any, *urls: str) -> Any:
    client = sim.client()
    message = await asyncio.to_thread(
        client.messages.create, to=PHONE, from_=sim.number, body="look", media_url=list(urls)
    )
    await sim.quiet(30)
    return sim.gateway.state.messages[message.sid]


async def test_media_types_come_from_the_fetched_answers(app: TwilioApp, make_sim: Any) -> None:
    sim = await make_sim(config_for(app.answer("/sms", reply("hi"))))
    url = app.file("/media/cat", TINY_GIF, "image/gif")  # no extension to guess from

    message = await send_mms(sim, url)

    assert str(message.status) == "delivered"
    assert [m.content_type for m in message.media] == ["image/gif"]
    assert app.file_hits == ["/media/cat"]


async def test_media_that_cannot_be_fetched_fail_the_message(
    app: TwilioApp, serve_app: Any, make_sim: Any
) -> None:
    sim = await make_sim(config_for(app.answer("/sms", reply("hi"))))
    empty = app.file("/media/empty.png", b"", "image/png")
    missing = app.url("/media/gone.png")  # the app answers 404 for it

    refused = web.Application()
    server = await serve_app(refused)
    closed_port = server.port
    await server.close()  # nothing listens there any more

    cases = {
        "empty": (empty, 63019),
        "missing": (missing, 63045),
        "unreachable": (f"http://127.0.0.1:{closed_port}/x.png", 63019),
    }
    for name, (url, code) in cases.items():
        message = await send_mms(sim, url)
        assert (str(message.status), message.error_code) == ("failed", code), name
        statuses = [
            e.status for e in sim.events.of_type(MessageStatusChanged) if e.message == message.sid
        ]
        assert statuses[-1] == "failed" and "delivered" not in statuses, name
