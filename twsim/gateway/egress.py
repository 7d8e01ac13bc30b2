"""Where the gateway may dial: loopback addresses only, unless `webhook.allow_hosts` says more.

Every URL twsim fetches (webhooks, their fallbacks, `<Redirect>` targets, HTTP 3xx hops,
status callbacks) and every media URL it points a client at passes this policy first:

- only `http://` and `https://` URLs (anything else is Twilio's 11100, invalid URL);
- a host matching a `webhook.allow_hosts` pattern is dialled as the system resolves it;
- any other host must be a loopback address (127.0.0.0/8, ::1) or a name that resolves to
  one; the addresses a name resolves to are checked, and only admitted ones are dialled,
  so a name pointing outside (or rebinding there) is refused too.

A refused target never gets a socket: it is recorded as a failed attempt with Twilio's
code (11205, connection failure; 11100 for a scheme) and a reason that names
`webhook.allow_hosts`, the setting that widens the policy.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientHandlerType, ClientRequest, ClientResponse, ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult

from twsim.core.hosts import Address, HostPatterns, address, is_loopback, normalize

SETTING = "webhook.allow_hosts"
SCHEMES = frozenset({"http", "https"})
REFUSED = "refused"  # the failure kind: never retried, whatever the retry policy says
INVALID_URL = 11100
CONNECTION_FAILURE = 11205
BAD_HOST_NAME = 11210


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a URL is not dialled, with the Twilio code the attempt is recorded with."""

    code: int
    reason: str


class EgressRefused(OSError):
    """Raised by the policy's resolver: the name resolves to no admitted address."""


class EgressRefusedError(ClientError):
    """Raised by the policy's client middleware: the request's URL is refused."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


class EgressPolicy:
    """Loopback plus the allowed host patterns; checks URLs and filters resolved addresses."""

    def __init__(
        self,
        allow_hosts: list[str] | None = None,
        *,
        resolver: Callable[[], AbstractResolver] | None = None,
    ) -> None:
        self.allow_hosts = list(allow_hosts or [])
        self.patterns = HostPatterns.parse(self.allow_hosts)
        self._make_resolver = resolver or ThreadedResolver  # how names are looked up

    @classmethod
    def naming(cls, url: str) -> EgressPolicy:
        """Loopback plus the host of `url`: for a URL the user named on the command line."""
        host = urlsplit(url).hostname
        return cls([host] if host else [])

    def allows(self, url: str) -> bool:
        """Whether `url` names a host allowed as written: a loopback address or name, or one
        matching `webhook.allow_hosts` (what may be fetched without asking a resolver)."""
        if self.refusal(url) is not None:
            return False
        host = urlsplit(url).hostname or ""
        return is_loopback(host) or self.patterns.matches_name(host)

    def middleware(self) -> Callable[[ClientRequest, ClientHandlerType], Awaitable[ClientResponse]]:
        """An aiohttp client middleware refusing every request (each redirect hop too) to a
        URL this policy refuses; names are checked again as they resolve."""

        async def egress(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            refusal = self.refusal(str(request.url))
            if refusal is not None:
                raise EgressRefusedError(refusal)
            return await handler(request)

        return egress

    def admits_address(self, literal: Address) -> bool:
        return literal.is_loopback or self.patterns.matches_address(literal)

    def refusal(self, url: str) -> Refusal | None:
        """What is wrong with dialling `url`, as far as can be told without resolving it."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return Refusal(INVALID_URL, f"not a valid URL: {url[:200]}")
        if parts.scheme.lower() not in SCHEMES:
            return Refusal(
                INVALID_URL,
                f"twsim dials only http:// and https:// URLs, not {parts.scheme or '(none)'}:",
            )
        if not host:
            return Refusal(INVALID_URL, f"no host in URL {url[:200]}")
        if self.patterns.matches_name(host):
            return None
        literal = address(host)
        if literal is not None and not self.admits_address(literal):
            return self.outside(host)
        return None  # a loopback literal, or a name: its addresses are checked when resolved

    async def check(self, url: str) -> Refusal | None:
        """`refusal`, plus the addresses a name resolves to (for URLs handed to others)."""
        refusal = self.refusal(url)
        if refusal is not None:
            return refusal
        host = urlsplit(url).hostname or ""
        if self.patterns.matches_name(host) or address(host) is not None:
            return None
        inner = self._make_resolver()
        try:
            results = await inner.resolve(host, 0, socket.AF_UNSPEC)
        except OSError:
            return Refusal(
                BAD_HOST_NAME,
                f"cannot resolve {host}; twsim dials only loopback unless {SETTING} allows it",
            )
        finally:
            await inner.close()
        resolved = {r["host"] for r in results}
        if not resolved or not all(self.admits(a) for a in resolved):
            return self.outside(host, sorted(resolved))
        return None

    def admits(self, text: str) -> bool:
        """True when the address written `text` may be dialled."""
        literal = address(text)
        return literal is not None and self.admits_address(literal)

    def outside(self, host: str, resolved: list[str] | None = None) -> Refusal:
        where = f"{host} (resolves to {', '.join(resolved)})" if resolved else host
        return Refusal(
            CONNECTION_FAILURE,
            f"refused to dial {where}: not a loopback address; "
            f"add the host to {SETTING} in the config to allow it",
        )

    def resolver(self) -> AbstractResolver:
        """An aiohttp resolver that hands out only the addresses this policy admits."""
        return _PolicyResolver(self, self._make_resolver)


class _PolicyResolver(AbstractResolver):
    """Resolves with the system's resolver, then drops every address the policy refuses."""

    def __init__(self, policy: EgressPolicy, make: Callable[[], AbstractResolver]) -> None:
        self._policy = policy
        self._make = make
        self._inner: AbstractResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = self._make()
        name = normalize(host)
        results = await self._inner.resolve(host, port, family)
        if self._policy.patterns.matches_name(name):
            return results
        admitted = [r for r in results if self._policy.admits(r["host"])]
        if not admitted:
            refusal = self._policy.outside(name, sorted({r["host"] for r in results}))
            raise EgressRefused(refusal.reason)
        return admitted

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def refused_reason(error: BaseException | None) -> str | None:
    """The policy's reason when `error` (an aiohttp connector's OS error) is a refusal."""
    return str(error) if isinstance(error, EgressRefused) else None
