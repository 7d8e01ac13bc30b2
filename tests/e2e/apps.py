"""A loopback app under test, as a Twilio customer would write it.

`TwilioApp` checks the `X-Twilio-Signature` of every request with the official
`twilio.request_validator.RequestValidator`, over the URL rebuilt from what it received
(or from its public base URL when it sits behind one), and answers 403 when the signature
is wrong. Every request is recorded as a `Hit`; routes answer with whatever the test wants:
TwiML, plain text, redirects, cookies, errors, slowness.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy, MultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from twsim.config.models import DEFAULT_AUTH_TOKEN, Config, NumberConfig

XML = "text/xml"
PHONE = "+15551230001"
OTHER_PHONE = "+15551230002"


def config_for(sms_url: str | None, **number_fields: Any) -> Config:
    """The default gateway with its one number pointed at `sms_url`."""
    config = Config()
    config.numbers = [NumberConfig(sms_url=sms_url, **number_fields)]
    return config


@dataclass(slots=True)
class Hit:
    """One request the app received."""

    method: str
    path: str
    url: str
    params: MultiDict[str]
    headers: CIMultiDictProxy[str]
    valid: bool

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    @property
    def sid(self) -> str | None:
        return self.params.get("MessageSid")


Handler = Callable[[web.Request, Hit], Awaitable[web.StreamResponse]]
ServeApp = Callable[[web.Application], Awaitable[TestServer]]


class TwilioApp:
    """An aiohttp app that validates every request like a careful Twilio customer."""

    def __init__(
        self, auth_token: str = DEFAULT_AUTH_TOKEN, *, public_base_url: str | None = None
    ) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url
        self.hits: list[Hit] = []
        self.routes: dict[str, Handler] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # public files: media, no signature
        self.file_hits: list[str] = []
        self.server: TestServer | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)

    async def start(self, serve_app: ServeApp) -> TwilioApp:
        self.server = await serve_app(self.app)
        return self

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, handler: Handler) -> str:
        """Answer requests to `path` with `handler`; returns the route's full URL."""
        self.routes[path] = handler
        return self.url(path)

    def answer(self, path: str, body: str = "", content_type: str = XML, status: int = 200) -> str:
        """A route that always answers the same."""

        async def handler(request: web.Request, hit: Hit) -> web.StreamResponse:
            return web.Response(status=status, text=body, content_type=content_type)

        return self.route(path, handler)

    def file(self, path: str, data: bytes, content_type: str) -> str:
        """Serve `data` at `path` to anyone, as apps serve their media; returns its URL."""
        self.files[path] = (data, content_type)
        return self.url(path)

    def hits_to(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def received_url(self, request: web.Request) -> str:
        """The URL Twilio signed, rebuilt from the request as received."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/") + request.raw_path
        return f"{request.scheme}://{request.host}{request.raw_path}"

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path in self.files:
            self.file_hits.append(request.path)
            data, content_type = self.files[request.path]
            return web.Response(body=data, content_type=content_type)
        url = self.received_url(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if request.method == "POST":
            form = await request.post()
            params: MultiDict[str] = MultiDict((k, str(v)) for k, v in form.items())
            valid = self.validator.validate(url, params, signature)
        else:
            params = MultiDict(request.query)
            valid = self.validator.validate(url, {}, signature)
        hit = Hit(request.method, request.path, url, params, request.headers, valid)
        self.hits.append(hit)
        if not valid:
            return web.Response(status=403, text="invalid signature")
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such route")
        return await handler(request, hit)


def twiml(response: MessagingResponse | str, *, status: int = 200) -> web.Response:
    """A TwiML answer, built with the official generator or given as text."""
    return web.Response(status=status, text=str(response), content_type=XML)


def reply(*bodies: str, **attributes: Any) -> str:
    """TwiML with one `<Message>` per body, made by the official twilio generator."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body, **attributes)
    return str(response)


class Gate:
    """Holds a slow app's requests until the test releases them (the fixture releases it at
    the end of every test, so nothing hangs past it). It never opens by itself: a busy
    machine cannot make a held request arrive early."""

    def __init__(self) -> None:
        self._open = asyncio.Event()

    async def wait(self) -> None:
        await self._open.wait()

    def release(self) -> None:
        self._open.set()


def unused_port() -> int:
    """A loopback port nothing listens on (bound then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Unaccepting:
    """A server that listens but never accepts: once its backlog is full, connecting hangs."""

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(0)
        self.port = int(self._server.getsockname()[1])
        self._fillers: list[socket.socket] = []
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)

    def close(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._server.close()


class RawServer:
    """A loopback server that answers every request with the same raw bytes, then closes:
    for answers no web framework would produce (no Content-Type, broken HTTP). With
    `more`, the answer goes out in parts, `pause_s` apart (a slow, chunked answer)."""

    def __init__(self, answer: bytes, *more: bytes, pause_s: float = 0.0) -> None:
        self.answer = answer
        self.more = more
        self.pause_s = pause_s
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/sms"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.answer)
            await writer.drain()
            for part in self.more:
                await asyncio.sleep(self.pause_s)  # the app being slow, not the test waiting
                writer.write(part)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
