"""The one place an exception becomes an HTTP answer: Twilio's JSON error body, never HTML.

The middleware also appends an `api.request` event for every call to the Twilio REST API,
rejected calls included, so the report can show what the app tried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from twsim.core.errors import ApiError, TwilioError, twilio_error
from twsim.model.events import ApiRequest
from twsim.server.auth import ACCOUNT_KEY
from twsim.server.keys import GATEWAY, REQUEST_IDS
from twsim.server.render import ROOT

log = logging.getLogger("twsim.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HIDDEN_PARAMS = frozenset({"AuthToken", "Password", "Secret"})
# A message body is at most 1,600 characters; anything much longer is kept only in part.
MAX_PARAM_CHARS = 2000


def error_response(error: TwilioError) -> web.Response:
    response = web.json_response(error.to_json(), status=error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _from_http(request: web.Request, exc: web.HTTPException) -> TwilioError:
    if exc.status == 404:
        return twilio_error(20404, path=request.path)
    if exc.status == 405:
        return ApiError(20004, f"Method {request.method} not allowed on {request.path}", status=405)
    if exc.status == 413:
        return ApiError(20001, "Request body too large", status=413)
    return ApiError(exc.status, exc.reason or "HTTP error", status=exc.status)


def _clip(text: str) -> str:
    """A parameter as the event keeps it: long values (garbage, mostly) are cut short."""
    if len(text) <= MAX_PARAM_CHARS:
        return text
    return f"{text[:MAX_PARAM_CHARS]}... ({len(text) - MAX_PARAM_CHARS} more characters)"


@web.middleware
async def twilio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    clock = request.app[GATEWAY].clock
    started = clock.monotonic()
    error: TwilioError | None = None
    try:
        response = await handler(request)
    except TwilioError as exc:
        error = exc
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect (media content): record it, let aiohttp send it
            if request.path.startswith(ROOT):
                await _record(request, exc.status, None, clock.monotonic() - started)
            raise
        error = _from_http(request, exc)
    except Exception:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        error = ApiError(20500, "Internal Server Error", status=500)
    if error is not None:
        response = error_response(error)
    if request.path.startswith(ROOT):
        response.headers["Twilio-Request-Id"] = request.app[REQUEST_IDS].new("RQ")
        await _record(request, response.status, error, clock.monotonic() - started)
    return response


async def _record(
    request: web.Request, status: int, error: TwilioError | None, elapsed: float
) -> None:
    params: dict[str, str | list[str]] = {}
    if (
        request.method == "POST"
        and request.content_type == "application/x-www-form-urlencoded"
        and status != 413  # the body was never read whole; reading on would give garbage
    ):
        try:
            form = await request.post()
        except Exception:
            form = None
        if form is not None:
            for key in form:
                if key not in _HIDDEN_PARAMS:
                    values = [_clip(str(v)) for v in form.getall(key)]
                    params[_clip(key)] = values if len(values) > 1 else values[0]
    query = {k: v for k, v in request.query.items()}
    request.app[GATEWAY].events.emit(
        ApiRequest(
            method=request.method,
            path=request.path,
            query=query,
            params=params,
            account=request.get(ACCOUNT_KEY),
            status=status,
            code=error.code if error else None,
            error=error.message if error else None,
            latency_ms=round(elapsed * 1000, 3),
        )
    )
