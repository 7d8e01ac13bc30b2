"""HTTP errors aiohttp answers before any handler runs, as Twilio-shaped JSON.

A request line over 8 KiB, a NUL in a header, broken chunking: aiohttp's parser refuses
these itself and would answer with plain text. `Runner` serves the application with a
request handler whose error answer is Twilio's `{code, message, more_info, status}`, like
every other error twsim gives. It also closes idle keep-alive connections sooner than
aiohttp's hour.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from twsim.core.errors import ApiError

KEEPALIVE_TIMEOUT_S = 75.0  # idle keep-alive connections are closed after this long


class _TwilioShapedHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        plain = super().handle_error(request, status, exc, message)  # logs, checks, closes
        reason = (message or getattr(exc, "message", None) or plain.reason or "").strip()
        error = ApiError(
            20001 if status < 500 else 20500,
            f"Bad HTTP request: {reason[:200]}" if status < 500 else "Internal Server Error",
            status=status,
        )
        response = web.json_response(error.to_json(), status=status)
        response.force_close()
        return response


class _TwilioShapedServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _TwilioShapedHandler(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """An `AppRunner` whose connections answer protocol errors as Twilio-shaped JSON."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_TIMEOUT_S)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Same state, one method different: aiohttp builds the server from private parts
        # of the application, so it is re-classed rather than rebuilt.
        server.__class__ = _TwilioShapedServer
        return server
