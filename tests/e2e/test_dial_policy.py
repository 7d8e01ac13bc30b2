"""The gateway dials only where its egress policy allows: every way it dials, end to end.

Webhooks, their fallbacks, `<Redirect>`, HTTP 3xx hops, status callbacks, an SmsUrl set
through REST and the media it points clients at. Targets outside are IP literals from a
documentation range (203.0.113.0/24, RFC 5737) and the cloud metadata address; the tests
watch the event loop's connection calls to prove that none of them ever gets a socket.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from apps import PHONE, TwilioApp, config_for, reply
from twilio.twiml.messaging_response import MessagingResponse

from twsim.config.models import DEFAULT_AUTH_TOKEN, Config, NumberConfig
from twsim.core.connection import ConnectionSettings
from twsim.core.signature import Signer
from twsim.gateway.egress import EgressPolicy
from twsim.gateway.webhook_client import WebhookClient, WebhookRequest
from twsim.model.clock import SystemClock
from twsim.model.events import CallbackAttempt, WebhookAttempt

OUTSIDE = "203.0.113.5"
METADATA = "169.254.169.254"


class NamesResolver(AbstractResolver):
    """Answers names from a table, as a DNS server would; unknown names fail."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.table.get(host.rstrip("."))
        if addresses is None:
            raise OSError(f"no such name {host}")
        return [
            {
                "hostname": host,
                "host": a,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for a in addresses
        ]

    async def close(self) -> None:
        pass


def _watch(dialled: list[Any]) -> None:
    """Record the address of every socket the running loop connects (aiohttp's connector
    connects its sockets through `loop.sock_connect`)."""
    loop = asyncio.get_running_loop()
    original = loop.sock_connect

    async def sock_connect(sock: socket.socket, address: Any) -> None:
        dialled.append(address[0])
        await original(sock, address)

    loop.sock_connect = sock_connect  # type: ignore[method-assign]


def _redirect_to(location: str) -> Any:
    async def handler(request: web.Request, hit: Any) -> web.StreamResponse:
        raise web.HTTPFound(location)

    return handler


# -- the webhook client: refused targets never get a socket-----------------------------------
async def test_refused_targets_are_failed_attempts_without_a_connection(app: TwilioApp) -> None:
    dialled: list[Any] = []
    _watch(dialled)
    names = NamesResolver({"app.test": ["127.0.0.1"], "evil.test": [OUTSIDE]})
    client = WebhookClient(SystemClock(), egress=EgressPolicy(resolver=lambda: names))
    caller_app = app.answer("/sms", reply("hi"))
    port = caller_app.rsplit(":", 1)[1].split("/")[0]

    def request(url: str) -> WebhookRequest:
        return WebhookRequest(
            url, "POST", [("Body", "x")], Signer(DEFAULT_AUTH_TOKEN), "tok", ConnectionSettings()
        )

    try:
        local = await client.send(request(f"http://app.test:{port}/sms"))
        outside = await client.send(request(f"http://evil.test:{port}/sms"))
        literal = await client.send(request(f"http://{METADATA}/latest/meta-data/"))
    finally:
        await client.close()
    assert local.status == 200  # the name resolves to loopback: dialled, signed for its URL
    assert app.hits and app.hits[-1].path == "/sms"
    for result in (outside, literal):
        assert (result.status, result.error_code, result.attempts) == (None, 11205, 1)
        assert result.error is not None and "webhook.allow_hosts" in result.error
    assert dialled == ["127.0.0.1"]  # only the admitted address was ever connected to


# -- every way the gateway dials ------------------------------------------------------------
async def test_webhooks_redirects_callbacks_and_fallbacks_outside_are_refused(
    app: TwilioApp, make_sim: Any
) -> None:
    dialled: list[Any] = []
    _watch(dialled)
    twiml = MessagingResponse()
    twiml.message("reply", status_callback=f"http://{METADATA}/cb")
    twiml.redirect(f"http://{OUTSIDE}/next")
    sms = app.answer("/sms", str(twiml))
    hop = app.route("/hop", _redirect_to(f"http://{OUTSIDE}/elsewhere"))
    config = Config()
    config.numbers = [
        NumberConfig(phone_number="+15005550006", sms_url=sms),
        NumberConfig(
            phone_number="+15005550010", sms_url=hop, sms_fallback_url=f"http://{METADATA}/fb"
        ),
        NumberConfig(phone_number="+15005550011", sms_url=f"http://{OUTSIDE}/sms"),
    ]
    sim = await make_sim(config)

    first = await sim.send("hello", from_=PHONE, to="+15005550006")
    second = await sim.send("hello", from_=PHONE, to="+15005550010")
    third = await sim.send("hello", from_=PHONE, to="+15005550011")
    await sim.quiet()

    assert [(a.kind, a.error_code) for a in first.attempts] == [
        ("primary", None),
        ("redirect", 11205),
    ]
    assert [(a.kind, a.error_code) for a in second.attempts] == [
        ("primary", 11205),  # the app's 302 pointed outside: that hop was refused
        ("fallback", 11205),
    ]
    assert [(a.kind, a.error_code) for a in third.attempts] == [("primary", 11205)]
    refused = [e for e in sim.events.of_type(WebhookAttempt) if e.error_code == 11205]
    assert len(refused) == 4
    assert all("webhook.allow_hosts" in (e.error or "") for e in refused)
    callbacks = sim.events.of_type(CallbackAttempt)
    assert callbacks and all(c.error_code == 11205 for c in callbacks)
    assert all("webhook.allow_hosts" in (c.error or "") for c in callbacks)
    assert set(dialled) == {"127.0.0.1"}


async def test_sms_url_set_through_rest_is_refused_too(make_sim: Any) -> None:
    sim = await make_sim(config_for(None))
    client = sim.client()
    number = (await asyncio.to_thread(client.incoming_phone_numbers.list))[0]
    await asyncio.to_thread(
        client.incoming_phone_numbers(number.sid).update, sms_url=f"http://{METADATA}/steal"
    )
    outcome = await sim.send("hi", from_=PHONE)
    assert [(a.error_code, a.url) for a in outcome.attempts] == [
        (11205, f"http://{METADATA}/steal")
    ]


async def test_media_is_pointed_at_only_where_twsim_would_dial(make_sim: Any) -> None:
    for allow, status in (([], 403), (["example.com"], 302)):
        sim = await make_sim({"webhook": {"allow_hosts": allow}})
        outcome = await sim.send(
            "look",
            from_=PHONE,
            media_urls=[f"http://{METADATA}/x.png", "https://example.com/c.png"],
        )
        base = f"{sim.url}/2010-04-01/Accounts/{sim.account_sid}/Messages/{outcome.inbound.sid}"
        async with aiohttp.ClientSession() as http:
            answers = []
            for item in outcome.inbound.media:
                async with http.get(f"{base}/Media/{item.sid}", allow_redirects=False) as r:
                    answers.append((r.status, r.headers.get("Location"), await r.text()))
        assert answers[0][0] == 403
        assert "webhook.allow_hosts" in answers[0][2]
        assert answers[1][:2] == (status, "https://example.com/c.png" if status == 302 else None)
