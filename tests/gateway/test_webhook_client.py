"""The webhook client on its own: signed requests as Twilio sends them, retries, and the
wait for a connection counted apart, on a manual clock against real loopback servers."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator

from twsim.core.connection import ConnectionSettings
from twsim.core.ids import SidFactory
from twsim.core.signature import Signer
from twsim.gateway.webhook_client import WebhookClient, WebhookRequest
from twsim.model.clock import ManualClock

TOKEN = "fedcba9876543210fedcba9876543210"
PARAMS = [("Body", "hi there"), ("From", "+12025550123"), ("MediaUrl0", "https://x.test/a?b=c")]


def request(url: str, method: str = "POST", settings: ConnectionSettings | None = None) -> Any:
    return WebhookRequest(
        url=url,
        method=method,
        params=PARAMS,
        signer=Signer(TOKEN),
        idempotency_token=SidFactory(random.Random(1)).token(),
        settings=settings or ConnectionSettings(),
    )


async def test_post_and_get_are_signed_as_the_official_validator_expects(serve_app: Any) -> None:
    validator = RequestValidator(TOKEN)
    checked: list[tuple[str, bool, str]] = []

    async def hook(request: web.Request) -> web.Response:
        url = f"http://{request.host}{request.path_qs}"
        form = dict(await request.post()) if request.method == "POST" else {}
        signature = request.headers["X-Twilio-Signature"]
        checked.append(
            (
                request.method,
                validator.validate(url, form, signature),
                request.headers["User-Agent"],
            )
        )
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.router.add_route("*", "/hook", hook)
    server = await serve_app(app)
    client = WebhookClient(ManualClock())
    try:
        for method in ("POST", "GET"):
            result = await client.send(request(f"http://127.0.0.1:{server.port}/hook", method))
            assert (result.status, result.error_code, result.attempts) == (200, None, 1)
    finally:
        await client.close()
    assert checked == [("POST", True, "TwilioProxy/1.1"), ("GET", True, "TwilioProxy/1.1")]


async def test_a_refused_connection_is_retried_then_11205() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WebhookClient(ManualClock())
    try:
        result = await client.send(request(f"http://127.0.0.1:{port}/hook"))
    finally:
        await client.close()
    assert (result.status, result.error_code, result.attempts) == (None, 11205, 2)
    assert "connection failure" in (result.error or "")


async def test_waiting_for_a_connection_is_latency_not_budget(serve_app: Any) -> None:
    clock = ManualClock()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await serve_app(app)
    client = WebhookClient(clock, max_connections=1)
    url = f"http://127.0.0.1:{server.port}/hook"
    budget = ConnectionSettings(total_s=5.0, read_s=5.0)
    try:
        first = asyncio.ensure_future(client.send(request(url, settings=budget)))
        await entered.wait()
        second = asyncio.ensure_future(client.send(request(url, settings=budget)))
        await asyncio.sleep(0)  # let it reach the wait for the one connection
        await clock.advance(60.0)  # far past the 5 s budget, while the second waits
        release.set()
        one, two = await asyncio.gather(first, second)
    finally:
        await client.close()
    assert (one.status, two.status) == (204, 204)
    assert (one.queued_s, two.queued_s) == (0.0, 60.0)
    assert two.latency_s >= 60.0
