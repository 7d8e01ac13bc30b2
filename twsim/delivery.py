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
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote_plus, urljoin, urlsplit, urlunsplit

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

USER_AGENT = "TwilioProxy/1.1"
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_HTTP_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

Params = list[tuple[str, str]]

_quote = lru_cache(maxsize=16384)(quote_plus)


def form_encode(params: Params) -> str:
    """``application/x-www-form-urlencoded``, as `urlencode` writes it, several times faster:
    names and the values that repeat across webhooks are quoted once."""
    return "&".join([_quote(name) + "=" + _quote(value) for name, value in params])


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
    latency_s: float = 0.0
    set_cookies: list[str] = field(default_factory=list)
    final_url: str = ""  # where the answer came from, after HTTP redirects

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.status is not None and 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def signing_url(url: str, public_base_url: str | None) -> str:
    """The URL the app will see: the configured one, or its path under the public base URL."""
    if not public_base_url:
        return url
    base = urlsplit(public_base_url)
    target = urlsplit(url)
    path = base.path.rstrip("/") + target.path
    return urlunsplit((base.scheme, base.netloc, path, target.query, ""))


def dialled_url(url: str, public_base_url: str | None, local_url: str) -> str:
    """The URL to dial for `url` taken from the app's answer.

    An app behind `public_base_url` writes absolute URLs under that base; they are dialled
    on the origin of `local_url` (the configured URL), the inverse of `signing_url`.
    """
    if not public_base_url:
        return url
    base = urlsplit(public_base_url)
    target = urlsplit(url)
    prefix = base.path.rstrip("/")
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not (
        target.path == prefix or target.path.startswith(prefix + "/")
    ):
        return url
    local = urlsplit(local_url)
    path = target.path[len(prefix) :] or "/"
    return urlunsplit((local.scheme, local.netloc, path, target.query, target.fragment))


class _Failure(Exception):
    def __init__(self, kind: str, code: int, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class WebhookClient:
    """Sends signed webhook requests over one pooled aiohttp session.

    At most `max_connections` requests are in flight; the others wait for a free slot
    before their clock starts, so a burst never eats into a webhook's time budget (Twilio
    does not make the app's requests queue behind each other).
    """

    def __init__(self, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, force_close=False, ttl_dns_cache=300
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

    async def send(self, request: WebhookRequest) -> WebhookResult:
        async with self._slots:
            return await self._send(request)

    async def _send(self, request: WebhookRequest) -> WebhookResult:
        started = time.perf_counter()
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
            if deadline - time.perf_counter() <= 0:
                break
            try:
                await self._attempt(request, url, settings, deadline, result)
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
        result.latency_s = time.perf_counter() - started
        return result

    async def _attempt(
        self,
        request: WebhookRequest,
        url: str,
        settings: ConnectionSettings,
        deadline: float,
        result: WebhookResult,
    ) -> None:
        """One try of the request, following HTTP redirects (each hop signed for its URL)."""
        method = request.method
        params = request.params
        cookies: dict[str, str] = (
            {name: morsel.coded_value for name, morsel in request.cookies.items()}
            if request.cookies
            else {}
        )
        result.set_cookies = []
        origin = urlsplit(url)[:2]
        for hop in range(MAX_HTTP_REDIRECTS + 1):
            result.final_url = url
            public = (
                signing_url(url, request.public_base_url) if urlsplit(url)[:2] == origin else url
            )
            location = await self._hop(
                request, method, url, public, params, cookies, settings, deadline, result
            )
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

    async def _hop(
        self,
        request: WebhookRequest,
        method: str,
        url: str,
        public: str,
        params: Params,
        cookies: dict[str, str],
        settings: ConnectionSettings,
        deadline: float,
        result: WebhookResult,
    ) -> str | None:
        """Send one HTTP request; the Location to follow when the answer is a redirect."""
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise _Failure(READ, 11205, f"no response within {settings.total_s:g} s")
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "I-Twilio-Idempotency-Token": request.idempotency_token,
            "Cache-Control": "max-age=259200",
        }
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        data: bytes | None = None
        target = url
        if method == "GET":
            query = form_encode(params)
            if query:
                target = f"{url}{'&' if '?' in url else '?'}{query}"
                public = f"{public}{'&' if '?' in public else '?'}{query}"
            headers["X-Twilio-Signature"] = request.signer.sign(public)
        else:
            data = form_encode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-Twilio-Signature"] = request.signer.sign(public, params)
        timeout = aiohttp.ClientTimeout(
            total=remaining, sock_connect=settings.connect_s, sock_read=settings.read_s
        )
        try:
            async with self._get_session().request(
                method,
                URL(target, encoded=True),
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                body = await response.content.read(MAX_RESPONSE_BYTES)
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
        _take_cookies(cookies, set_cookies)
        if response.status in REDIRECT_STATUSES and location:
            return location
        return None


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
