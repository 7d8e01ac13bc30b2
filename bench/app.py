"""The trivial loopback app the benchmarks measure against (in its own process).

    python -m bench.app [--cpu N]
      POST /sms                                   reads the form, answers one <Message>
      POST /2010-04-01/Accounts/AC.../Messages.json   answers a canned 201 JSON body

Its handlers do the least an HTTP handler can do, so the figures measure twsim, not the app.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from bench import serving

TWIML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b"<Response><Message>Checked in. See you in class!</Message></Response>"
)

# What Twilio answers to a message create, with fixed values.
CANNED_MESSAGE = json.dumps(
    {
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "api_version": "2010-04-01",
        "body": "Your class moved to room 204.",
        "date_created": "Thu, 01 Jan 2026 12:00:00 +0000",
        "date_sent": None,
        "date_updated": "Thu, 01 Jan 2026 12:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": "+15005550006",
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "SM00000000000000000000000000000000",
        "status": "queued",
        "subresource_uris": {
            "media": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM00000000000000000000000000000000/Media.json"
        },
        "to": "+12125550100",
        "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM00000000000000000000000000000000.json",
    }
).encode()


async def sms(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=TWIML, content_type="text/xml")


async def create_message(request: web.Request) -> web.Response:
    await request.read()
    if "Authorization" not in request.headers:
        return web.Response(status=401)
    return web.Response(status=201, body=CANNED_MESSAGE, content_type="application/json")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/sms", sms)
    app.router.add_post("/2010-04-01/Accounts/{account_sid}/Messages.json", create_message)
    return app


async def start() -> tuple[str, Callable[[], Awaitable[None]]]:
    runner = web.AppRunner(make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}", runner.cleanup


if __name__ == "__main__":
    parser = serving.arguments("A trivial loopback app for the benchmarks.")
    serving.main(start, parser.parse_args())
