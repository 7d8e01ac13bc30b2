"""A hostile app cannot hurt the gateway: bombs, XXE, huge answers, slowloris, cut bodies,
redirect loops, ten thousand verbs.

Each answer is recorded as the failure Twilio would report, the gateway keeps serving,
and the memory one answer can take stays bounded (measured with tracemalloc over the
exchange: twsim reads at most 1 MiB of an answer and parses at most 64 KiB of TwiML).
Everything runs on loopback; the slow answers are cut by the webhook's own timeouts,
shortened with Twilio's `#tt` URL override.
"""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from apps import PHONE, Hit, TwilioApp, config_for

from twsim.model.events import TwimlExecuted
from twsim.server.simulator import Simulator

BOUNDED = 24 * 1024 * 1024  # bytes one hostile answer may cost the gateway, at most


async def _healthy(sim: Simulator) -> None:
    outcome = await sim.send("still there?", from_="+15557770000")
    assert outcome.inbound.sid in sim.gateway.state.messages


async def _send_measured(sim: Simulator) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        outcome = await sim.send("hello", from_=PHONE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return outcome, peak


def _twiml(text: str | bytes) -> Callable[[web.Request, Hit], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request, hit: Hit) -> web.StreamResponse:
        body = text.encode() if isinstance(text, str) else text
        return web.Response(body=body, content_type="text/xml")

    return handler


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]><Response><Message>&lol9;</Message></Response>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<Response><Message>&x;</Message></Response>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">'
    "<Response><Message>hi</Message></Response>"
)
QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
    + "a" * 20_000
    + '">]><Response><Message>'
    + "&a;" * 10_000
    + "</Message></Response>"
)
TEN_THOUSAND_VERBS = "<Response>" + "<Message>hi</Message>" * 10_000 + "</Response>"


@pytest.mark.parametrize(
    ("name", "document"),
    [
        ("billion laughs", LAUGHS),
        ("external entity (XXE)", XXE),
        ("external DTD", EXTERNAL_DTD),
        ("quadratic blowup", QUADRATIC),
        ("ten thousand verbs", TEN_THOUSAND_VERBS),
    ],
)
async def test_xml_attacks_are_12100_and_nothing_is_sent(
    app: TwilioApp, make_sim: Any, name: str, document: str
) -> None:
    sim = await make_sim(config_for(app.route("/sms", _twiml(document))))
    outcome, peak = await _send_measured(sim)
    assert outcome.error_code == 12100, name
    assert outcome.replies == []
    assert not any("root:" in m.body for m in sim.gateway.state.messages.values())
    assert peak < BOUNDED
    await _healthy(sim)


async def test_a_50_mb_answer_is_read_only_in_part(app: TwilioApp, make_sim: Any) -> None:
    sent = 0

    async def huge(request: web.Request, hit: Hit) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "text/xml"})
        response.content_length = 50 * 1024 * 1024
        await response.prepare(request)
        chunk = b"<Response>" + b" " * (1024 * 1024 - 10)
        with contextlib.suppress(ConnectionError):
            for _ in range(50):
                await response.write(chunk)
                sent += len(chunk)
        return response

    sim = await make_sim(config_for(app.route("/sms", huge)))
    outcome, peak = await _send_measured(sim)
    assert outcome.error_code == 12100  # over the 64 KiB TwiML limit: not parsed
    assert peak < BOUNDED
    await _healthy(sim)


async def test_a_gzip_bomb_is_inflated_only_in_part(app: TwilioApp, make_sim: Any) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = b"\0" * (1024 * 1024)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()  # 256 MiB

    async def handler(request: web.Request, hit: Hit) -> web.StreamResponse:
        return web.Response(
            body=bomb, headers={"Content-Type": "text/xml", "Content-Encoding": "gzip"}
        )

    sim = await make_sim(config_for(app.route("/sms", handler)))
    outcome, peak = await _send_measured(sim)
    assert outcome.error_code in (12100, 11200)
    assert peak < BOUNDED
    await _healthy(sim)


class _Dribbler:
    """Answers with headers, then one byte of body every 50 ms: a slowloris answer."""

    def __init__(self, head: bytes, *, dribble: bool = True, cut_after: bytes = b"") -> None:
        self.head = head
        self.dribble = dribble
        self.cut_after = cut_after
        self._server: asyncio.Server | None = None
        self._done = asyncio.Event()

    async def start(self) -> _Dribbler:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/sms"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.head + self.cut_after)
            await writer.drain()
            while self.dribble and not self._done.is_set():
                writer.write(b" ")
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._done.wait(), 0.05)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        self._done.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def dribbler() -> AsyncIterator[Callable[..., Awaitable[_Dribbler]]]:
    started: list[_Dribbler] = []

    async def start(head: bytes, **options: Any) -> _Dribbler:
        server = await _Dribbler(head, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()


async def test_slowloris_answers_are_cut_by_the_total_timeout(make_sim: Any, dribbler: Any) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<Response>"
    server = await dribbler(head)
    sim = await make_sim(config_for(server.url + "#tt=1000&rc=0"))
    outcome = await sim.send("hello", from_=PHONE)
    assert outcome.error_code == 11205
    assert outcome.replies == []
    await _healthy(sim)


async def test_slowloris_headers_are_cut_by_the_total_timeout(make_sim: Any, dribbler: Any) -> None:
    server = await dribbler(b"HTTP/1.1 200 OK\r\nX-Slow: a")  # the headers never end
    sim = await make_sim(config_for(server.url + "#tt=1000&rc=0"))
    outcome = await sim.send("hello", from_=PHONE)
    assert outcome.error_code == 11205
    await _healthy(sim)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<Response>",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<Resp",
    ],
    ids=["short of its Content-Length", "chunks cut off"],
)
async def test_cut_bodies_are_protocol_violations(
    make_sim: Any, dribbler: Any, head: bytes
) -> None:
    server = await dribbler(head, dribble=False)
    sim = await make_sim(config_for(server.url))
    outcome = await sim.send("hello", from_=PHONE)
    assert outcome.error_code == 11206
    assert outcome.replies == []
    await _healthy(sim)


async def test_twiml_redirect_loops_end_at_the_redirect_limit(
    app: TwilioApp, make_sim: Any
) -> None:
    url = app.route("/sms", _twiml("<Response><Redirect>/sms</Redirect></Response>"))
    sim = await make_sim(config_for(url))
    outcome = await sim.send("hello", from_=PHONE)
    assert len(app.hits) == sim.config.webhook.max_redirects + 1
    assert outcome.replies == []
    executed = sim.events.of_type(TwimlExecuted)
    assert len(executed) == len(app.hits)
    await _healthy(sim)


async def test_http_redirect_loops_are_11215(app: TwilioApp, make_sim: Any) -> None:
    async def loop(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect("/sms")

    sim = await make_sim(config_for(app.route("/sms", loop)))
    outcome = await sim.send("hello", from_=PHONE)
    assert outcome.error_code == 11215
    await _healthy(sim)
