"""The signed webhook client: how the gateway calls the app, as Twilio's proxy does.

One request = one `WebhookRequest`: the URL as configured (its `#fragment` may override
timeouts and retries), the method, the form parameters, the signer of the owning account,
an idempotency token reused by every retry, and optionally the conversation's cookies.
The outcome is a `WebhookResult`: the response (status, type, body) or the Twilio code of
the transport failure.

HTTP redirects (301, 302, 303, 307, 308) are followed, at most `MAX_HTTP_REDIRECTS` per
try (11215 beyond): each hop is a new request signed for its own URL, keeps the method and
the parameters (a 303 turns a POST into a GET with the parameters in the query; a GET's
Location is fetched as given, since it already carries the query the app wants), and
carries the cookies the earlier hops set. Interpreting a response (TwiML, plain text, 11200 on a
500...) is the caller's business.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urljoin, urlsplit

import aiohttp
from yarl import URL

from twsim.core.connection import (
    CLIENT_ERROR,
    CONNECT,
    READ,
    SERVER_ERROR,
    ConnectionSettings,
    apply_overrides,
)
from twsim.core.errors import WebhookError
from twsim.core.signature import Signer
from twsim.gateway.urls import Params, dialled_url, form_encode, signing_url
from twsim.model.clock import Clock

USER_AGENT = "TwilioProxy/1.1"
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_HTTP_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(slots=True)
class WebhookRequest:
    url: str
    method: str
    params: Params
    signer: Signer
    idempotency_token: str
    settings: ConnectionSettings
    public_base_url: str | None = None
    cookies: SimpleCookie | None = None


@dataclass(slots=True)
class WebhookResult:
    url: str
    method: str
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    error_code: int | None = None
    error: str | None = None
    attempts: int = 0
    latency_s: float = 0.0  # from when the request was due, waiting for a slot included
    queued_s: float = 0.0  # of which, waiting for a free connection slot to its app
    set_cookies: list[str] = field(default_factory=list)
    final_url: str = ""  # where the answer came from, after HTTP redirects

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.status is not None and 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(slots=True)
class Download:
    """What fetching a media URL gave: status, type and size, or why it failed."""

    url: str
    status: int | None = None
    content_type: str = ""
    size: int = 0
    error: str | None = None


class _Failure(Exception):
    def __init__(self, kind: str, code: int, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class WebhookClient:
    """Sends signed webhook requests over one pooled aiohttp session.

    At most `max_connections` requests are in flight to each app origin (scheme, host,
    port), so one hanging app never delays another. A request that finds its origin's
    slots taken waits; that wait counts in its latency (measured from when it was due) and
    is reported apart (`queued_s`), but not in its time budget: Twilio does not make the
    app's requests queue behind each other.
    """

    def __init__(self, clock: Clock, max_connections: int = 100) -> None:
        self._clock = clock
        self._max_connections = max_connections
        self._slots: dict[tuple[str, str], asyncio.Semaphore] = {}
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,  # the per-origin slots below are the limit
                limit_per_host=self._max_connections,
                force_close=False,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _origin_slots(self, url: str) -> asyncio.Semaphore:
        scheme, netloc = urlsplit(url)[:2]
        origin = (scheme.lower(), netloc.lower())
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = asyncio.Semaphore(self._max_connections)
        return slots

    async def fetch(self, url: str, *, max_bytes: int, timeout_s: float) -> Download:
        """GET `url` as Twilio fetches media: its status, type and size (read to at most
        `max_bytes` + 1), or the reason it could not be fetched."""
        download = Download(url)
        try:
            async with (
                self._origin_slots(url),
                self._get_session().get(
                    URL(url, encoded=True),
                    headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
                    timeout=aiohttp.ClientTimeout(total=timeout_s),
                    allow_redirects=True,
                    max_redirects=MAX_HTTP_REDIRECTS,
                ) as response,
            ):
                download.status = response.status
                download.content_type = response.content_type.lower()
                size = 0
                async for chunk in response.content.iter_any():
                    size += len(chunk)
                    if size > max_bytes:
                        break
                download.size = size
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            download.error = str(exc) or type(exc).__name__
        return download

    async def send(self, request: WebhookRequest) -> WebhookResult:
        due = self._clock.monotonic()
        slots = self._origin_slots(request.url)
        async with slots:
            queued = self._clock.monotonic() - due
            result = await self._send(request)
        result.queued_s = queued
        result.latency_s += queued
        return result

    async def _send(self, request: WebhookRequest) -> WebhookResult:
        started = self._clock.monotonic()
        result = WebhookResult(url=request.url, method=request.method)
        try:
            url, settings = apply_overrides(request.url, request.settings)
        except WebhookError as error:
            result.error_code, result.error = error.code, error.message
            return result
        result.url = url
        deadline = started + settings.total_s
        for attempt in range(settings.retries + 1):
            result.attempts = attempt + 1
            if deadline - self._clock.monotonic() <= 0:
                break
            try:
                await self._try(_Try(request, url, settings, deadline, result))
                result.error_code = result.error = None
                if result.status is not None and result.status >= 400:
                    kind = CLIENT_ERROR if result.status < 500 else SERVER_ERROR
                    if attempt < settings.retries and settings.retries_failure(kind):
                        continue
                break
            except _Failure as failure:
                result.status = None
                result.content_type, result.body = "", b""
                result.error_code, result.error = failure.code, str(failure)
                if not (attempt < settings.retries and settings.retries_failure(failure.kind)):
                    break
        result.latency_s = self._clock.monotonic() - started
        return result

    async def _try(self, t: _Try) -> None:
        """One try of the request, following HTTP redirects (each hop signed for its URL)."""
        request, result = t.request, t.result
        method, params, url = request.method, request.params, t.url
        result.set_cookies = []
        origin = urlsplit(url)[:2]
        for hop in range(MAX_HTTP_REDIRECTS + 1):
            result.final_url = url
            public = (
                signing_url(url, request.public_base_url) if urlsplit(url)[:2] == origin else url
            )
            location = await self._hop(t, _Hop(method, url, public, params))
            if location is None:
                return
            if hop == MAX_HTTP_REDIRECTS:
                raise _Failure(
                    READ, 11215, f"more than {MAX_HTTP_REDIRECTS} HTTP redirects, last to {url}"
                )
            if method == "GET":
                params = []  # a GET's Location is fetched as given: the app wrote its query
            elif result.status == 303:
                method = "GET"
            url = dialled_url(urljoin(public, location), request.public_base_url, url)
            url = url.partition("#")[0]

    def _headers(self, t: _Try, hop: _Hop) -> tuple[str, dict[str, str], bytes | None]:
        """The target URL, headers and body of one hop, signed for the URL the app sees."""
        request = t.request
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "I-Twilio-Idempotency-Token": request.idempotency_token,
            "Cache-Control": "max-age=259200",
        }
        if t.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in t.cookies.items())
        if hop.method == "GET":
            target, public = hop.url, hop.public
            query = form_encode(hop.params)
            if query:
                target = f"{target}{'&' if '?' in target else '?'}{query}"
                public = f"{public}{'&' if '?' in public else '?'}{query}"
            headers["X-Twilio-Signature"] = request.signer.sign(public)
            return target, headers, None
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["X-Twilio-Signature"] = request.signer.sign(hop.public, hop.params)
        return hop.url, headers, form_encode(hop.params).encode()

    async def _hop(self, t: _Try, hop: _Hop) -> str | None:
        """Send one HTTP request; the Location to follow when the answer is a redirect."""
        settings, result = t.settings, t.result
        remaining = t.deadline - self._clock.monotonic()
        if remaining <= 0:
            raise _Failure(READ, 11205, f"no response within {settings.total_s:g} s")
        target, headers, data = self._headers(t, hop)
        timeout = aiohttp.ClientTimeout(
            total=remaining, sock_connect=settings.connect_s, sock_read=settings.read_s
        )
        try:
            async with self._get_session().request(
                hop.method,
                URL(target, encoded=True),
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                body = await _read_whole(response)
                result.status = response.status
                result.content_type = (
                    response.content_type.lower() if "Content-Type" in response.headers else ""
                )
                result.body = body
                set_cookies = response.headers.getall("Set-Cookie", [])
                location = response.headers.get("Location")
        except aiohttp.ClientConnectorDNSError as exc:
            raise _Failure(CONNECT, 11210, f"bad host name: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            raise _Failure(CONNECT, 11205, f"connection failure: {exc.os_error or exc}") from None
        except aiohttp.ConnectionTimeoutError:
            raise _Failure(
                CONNECT, 11205, f"connect timeout after {settings.connect_s:g} s"
            ) from None
        except (TimeoutError, aiohttp.SocketTimeoutError):
            raise _Failure(
                READ, 11205, f"no response within {min(settings.read_s, remaining):g} s"
            ) from None
        except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise _Failure(READ, 11206, f"HTTP protocol violation: {exc}") from None
        except aiohttp.ServerDisconnectedError as exc:
            raise _Failure(READ, 11206, f"server disconnected: {exc}") from None
        except aiohttp.ClientError as exc:
            raise _Failure(READ, 11200, f"HTTP retrieval failure: {exc}") from None
        result.set_cookies.extend(set_cookies)
        _take_cookies(t.cookies, set_cookies)
        if response.status in REDIRECT_STATUSES and location:
            return location
        return None


@dataclass(slots=True)
class _Try:
    """One try of a request: its settings, its deadline, the cookies its hops carry."""

    request: WebhookRequest
    url: str
    settings: ConnectionSettings
    deadline: float
    result: WebhookResult
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.request.cookies:
            self.cookies = {name: m.coded_value for name, m in self.request.cookies.items()}


@dataclass(frozen=True, slots=True)
class _Hop:
    """One HTTP request of a try: a try's first URL, or a redirect's Location."""

    method: str
    url: str
    public: str  # the URL as the app sees it, which the signature is for
    params: Params


async def _read_whole(response: aiohttp.ClientResponse) -> bytes:
    """The answer's body to its end, as the app sent it, but never more than
    `MAX_RESPONSE_BYTES` + 1 (enough to tell it is too large; the rest is not read).

    A body cut short (the connection closed mid-answer) raises `ClientPayloadError`.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[: MAX_RESPONSE_BYTES + 1]


def _take_cookies(cookies: dict[str, str], set_cookie_headers: list[str]) -> None:
    """Apply an answer's Set-Cookie headers to the cookies sent on the next hop."""
    for header in set_cookie_headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        for name, morsel in jar.items():
            max_age = morsel["max-age"]
            if max_age and max_age.lstrip("-").isdigit() and int(max_age) <= 0:
                cookies.pop(name, None)
            else:
                cookies[name] = morsel.coded_value
