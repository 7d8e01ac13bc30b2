"""The front door: who may talk to the gateway, and how long a request may take to arrive.

twsim runs next to a developer's browser, so every request passes these checks before a
handler sees it:

- **Host**: only names twsim serves are answered: the bound address, 127.0.0.1,
  localhost, [::1] (any loopback address), the `server.allowed_hosts` patterns, and the
  names of Twilio's REST API (api.twilio.com and its edges), which `twsim exec` routes
  here. A page that rebinds its own name to 127.0.0.1 sends its own name, and is refused.
- **Origin**: a state-changing request (anything but GET, HEAD, OPTIONS) whose `Origin`
  (or, without one, `Referer`) names a host outside that list, an opaque `null` origin,
  or `Sec-Fetch-Site: cross-site` is refused, so no other site's page can post a form to
  it. No CORS header is ever sent, so other sites' scripts cannot read its answers.
- **Control token**: with `server.control_token` set, every control-plane request
  (`/_twsim/...`, apart from `health` and `openapi.json`) must carry it in the
  `X-Twsim-Token` header (or `Authorization: Bearer ...`, or a `twsim_token` cookie).
- **Bodies**: a request body is read whole before the handler runs (a multipart one as it
  is parsed); one that has not arrived after `server.body_timeout_s` is answered 408 and
  the connection closed, one that cannot be read (bad chunking, a bad `Content-Encoding`)
  400, one over the size limit 413.

Refusals are Twilio-shaped errors, raised for the error middleware to answer.
"""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web

from twsim.config.models import ServerConfig
from twsim.core.errors import ApiError
from twsim.core.hosts import HostPatterns, host_of, is_loopback, normalize

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

CONTROL_PREFIX = "/_twsim/"
TOKEN_HEADER = "X-Twsim-Token"
TOKEN_COOKIE = "twsim_token"
TOKEN_ENV = "TWSIM_CONTROL_TOKEN"
OPEN_PATHS = frozenset({"/_twsim/health", "/_twsim/openapi.json"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HOSTS_KEPT = 256


@dataclass(frozen=True, slots=True)
class Guard:
    """The checks' settings: the host names answered, the control token, the body timeout."""

    hosts: HostPatterns
    token: str | None = None
    body_timeout_s: float = 10.0
    # `Host` headers already judged: a client sends the same one every time, and parsing it
    # is a tenth of a REST call's cost (measured with cProfile); at most `_HOSTS_KEPT` kept
    _answered: dict[str, bool] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, config: ServerConfig, bound_host: str) -> Guard:
        patterns = [*config.allowed_hosts]
        if bound_host and normalize(bound_host) not in ("0.0.0.0", "::", ""):
            patterns.append(bound_host)
        return cls(HostPatterns.parse(patterns), config.control_token, config.body_timeout_s)

    def serves(self, host: str | None) -> bool:
        """True for a host name this gateway answers to."""
        return host is not None and (is_loopback(host) or self.hosts.matches_name(host))

    def answers(self, host: str | None) -> bool:
        """`serves`, or a name of Twilio's REST API, which `twsim exec` routes here."""
        return self.serves(host) or (host is not None and _is_twilio_api(host))


def _is_twilio_api(host: str) -> bool:
    """api.twilio.com, api.REGION.twilio.com or api.EDGE.REGION.twilio.com: names no page
    can be served from, so rebinding cannot reach the gateway through them."""
    labels = host.split(".")
    return 3 <= len(labels) <= 5 and labels[0] == "api" and labels[-2:] == ["twilio", "com"]


GUARD = web.AppKey("guard", Guard)
BODY_READ = web.RequestKey("twsim_body_read", bool) if hasattr(web, "RequestKey") else "twsim.body"


def control_headers() -> dict[str, str]:
    """Headers a twsim client sends to a gateway's control plane: the token, when
    `TWSIM_CONTROL_TOKEN` is set in the environment."""
    token = os.environ.get(TOKEN_ENV)
    return {TOKEN_HEADER: token} if token else {}


def _refuse(message: str) -> ApiError:
    return ApiError(20403, message, status=403)


def _check_host(guard: Guard, request: web.Request) -> None:
    raw = request.headers.get("Host")
    if raw is None:
        return  # HTTP/1.0 without a Host: no browser sends that
    answered = guard._answered.get(raw)
    if answered is None:
        answered = guard.answers(host_of(raw))
        if len(guard._answered) < _HOSTS_KEPT:
            guard._answered[raw] = answered
    if not answered:
        raise _refuse(
            f"Host {raw[:100]!r} is not served here; twsim answers its bound address, "
            "127.0.0.1, localhost and [::1] (add names to server.allowed_hosts)"
        )


def _check_origin(guard: Guard, request: web.Request) -> None:
    headers = request.headers
    if headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise _refuse("Cross-site requests may not change twsim's state")
    origin = headers.get("Origin")
    if origin is not None:
        if origin.strip().lower() == "null" or not guard.serves(host_of(origin)):
            raise _refuse(
                f"Origin {origin[:100]!r} may not change twsim's state "
                "(add its host to server.allowed_hosts to allow it)"
            )
        return
    referer = headers.get("Referer")
    if referer is not None and not guard.serves(host_of(referer)):
        raise _refuse(
            "A page on another site may not change twsim's state "
            "(add its host to server.allowed_hosts to allow it)"
        )


def _presented_token(request: web.Request) -> str | None:
    token = request.headers.get(TOKEN_HEADER)
    if token is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    if token is None:
        token = request.cookies.get(TOKEN_COOKIE)
    return token


def _check_token(guard: Guard, request: web.Request) -> None:
    if guard.token is None or not request.path.startswith(CONTROL_PREFIX):
        return
    if request.path in OPEN_PATHS:
        return
    presented = _presented_token(request)
    if presented is None or not hmac.compare_digest(presented.encode(), guard.token.encode()):
        raise ApiError(
            20003,
            f"The control plane needs the {TOKEN_HEADER} header (server.control_token)",
            status=401,
        )


async def in_time(request: web.Request, reading: Awaitable[T]) -> T:
    """Await `reading` (of the request's body) within `server.body_timeout_s`: 408 after."""
    limit = request.app[GUARD].body_timeout_s
    try:
        async with asyncio.timeout(limit):
            return await reading
    except TimeoutError:
        raise ApiError(
            20001, f"The request body did not arrive within {limit:g} s", status=408
        ) from None


async def _read_body(request: web.Request) -> None:
    try:
        if request.content.is_eof():  # all of it has arrived: nothing can stall
            await request.read()
        else:
            await in_time(request, request.read())
    except (ApiError, web.HTTPRequestEntityTooLarge):
        raise
    except Exception as exc:  # bad chunking, a bad Content-Encoding, a cut connection
        reason = str(exc).strip()[:200] or type(exc).__name__
        raise ApiError(20001, f"The request body could not be read: {reason}", status=400) from None
    request[BODY_READ] = True


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[GUARD]
    _check_host(settings, request)
    if request.method not in SAFE_METHODS:
        _check_origin(settings, request)
    _check_token(settings, request)
    # a multipart body is read as it is parsed (forms.read, within the same time limit)
    if request.body_exists and request.content_type != "multipart/form-data":
        await _read_body(request)
    return await handler(request)
