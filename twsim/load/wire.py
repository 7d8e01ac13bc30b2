"""A lean keep-alive HTTP/1.1 connection for the load path, parsed by httptools (llhttp).

An aiohttp client costs ~250 µs of CPU per post on the bench machine, which holds a
generator to about 0.65x of `ab -k`; the load path needs much less. A `Connection` writes
pre-built request bytes, one request at a time (no pipelining), parses the answer with
llhttp as it arrives and hands the whole answer (status, content type, body, Location) to
its owner's callbacks, with no task, future or header dictionary per request. Bodies are
kept up to a bound (the rest is read and dropped, so the connection stays usable); gzip and
deflate answers are decompressed within the same bound. Redirects, cookies and retries are
the full webhook client's business (`twsim.gateway.webhook_client`).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import zlib
from dataclasses import dataclass
from typing import Protocol, cast

import httptools

from twsim.load.answers import Failure

try:
    import resource
except ImportError:  # not on Windows: the descriptor budget is then a fixed guess
    resource = None  # type: ignore[assignment]

CLOSED_EARLY = Failure(11206, "the connection closed before the answer was complete")


@dataclass(slots=True)
class Answer:
    """One whole HTTP answer."""

    status: int
    content_type: str  # the media type, lower case, without parameters ("" when absent)
    body: bytes
    location: str | None
    keep_alive: bool


class Owner(Protocol):
    def answered(self, connection: Connection, answer: Answer) -> None: ...

    def failed(self, connection: Connection, failure: Failure) -> None: ...


class Connection(asyncio.Protocol):
    """One keep-alive connection; `send` one request, then wait for `answered`/`failed`."""

    __slots__ = (
        "_body",
        "_encoding",
        "_kept",
        "_length_known",
        "_location",
        "_max_body",
        "_owner",
        "_parser",
        "_type",
        "busy",
        "closed",
        "headers_done",
        "transport",
    )

    def __init__(self, owner: Owner, max_body: int) -> None:
        self._owner = owner
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self._body: list[bytes] = []
        self._kept = 0
        self._type = ""
        self._location: str | None = None
        self._encoding = b""
        self._length_known = False
        self.headers_done = False

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # nothing asked: an app talking out of turn is not to be trusted
            self.abort()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(Failure(11206, "the app switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(Failure(11206, f"not a valid HTTP answer ({exc})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.busy:
            return
        if self.headers_done and not self._length_known:  # an answer delimited by the close
            self.on_message_complete(keep_alive=False)
        else:
            self._fail(CLOSED_EARLY)

    # -- llhttp callbacks --------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        lower = name.lower()
        if lower == b"content-type":
            self._type = value.split(b";", 1)[0].strip().lower().decode("latin-1")
        elif lower == b"location":
            self._location = value.decode("latin-1")
        elif lower == b"content-encoding":
            self._encoding = value.strip().lower()
        elif lower == b"content-length" or (
            lower == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            self._length_known = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        status = self._parser.get_status_code()
        if status in (204, 304) or 100 <= status < 200:
            self._length_known = True

    def on_body(self, body: bytes) -> None:
        room = self._max_body + 1 - self._kept  # one byte over the bound shows it was crossed
        if room > 0:
            chunk = body[:room]
            self._body.append(chunk)
            self._kept += len(chunk)

    def on_message_complete(self, keep_alive: bool | None = None) -> None:
        if not self.busy:
            return
        body = b"".join(self._body)
        if self._encoding in (b"gzip", b"deflate", b"x-gzip"):
            try:
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
                body = inflater.decompress(body, self._max_body + 1)
            except zlib.error:
                self._fail(Failure(11206, "the answer's compressed body is corrupt"))
                return
        if keep_alive is None:
            keep_alive = self._parser.should_keep_alive()
        answer = Answer(
            self._parser.get_status_code(), self._type, body, self._location, keep_alive
        )
        self.busy = False
        self._reset()
        if not keep_alive:
            self.close()
        self._owner.answered(self, answer)

    # -- the owner's side --------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        assert self.transport is not None and not self.busy
        self.busy = True
        self.transport.write(data)

    def _fail(self, failure: Failure) -> None:
        if not self.busy:
            return
        self.busy = False
        self.abort()
        self._owner.failed(self, failure)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now (a timed-out or unreadable answer)."""
        self.busy = False
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def connect_failure(exc: OSError, host: str) -> Failure:
    """Why a connection could not be opened, with Twilio's code."""
    if isinstance(exc, socket.gaierror):
        return Failure(11210, f"bad host name {host!r}")
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return Failure(11205, "connection refused (is the app running on that port?)")
    if isinstance(exc, ssl.SSLError):
        return Failure(11205, f"TLS handshake failed ({exc.reason or exc})")
    return Failure(11205, f"connection failed ({exc.strerror or exc})")


def descriptor_budget() -> int:
    """Connections the open model may hold: the file descriptors this process may open,
    less a margin."""
    if resource is None:
        return 1000
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ValueError, OSError):
        return 1000
    if soft == resource.RLIM_INFINITY:
        return 60_000
    return max(soft - 64, 16)
