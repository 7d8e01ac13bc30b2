"""The webhooks of a load run, built once per data row and filled in per request.

Every request `i` is the webhook Twilio would send for one inbound text: the row
`i % len(rows)` (or a plain "test" text), from the row's sender or one of 100 synthetic
phones, with its own MessageSid and idempotency token. Both depend on the seed and `i`
alone, so the same seed gives the same texts however the run is split across workers.

Per row, the model's message factory builds the message once and `inbound_params` gives
its parameters; the per-request values (the message SID wherever it appears, the sender)
become slots. A request is then the row's pre-encoded pieces with the slots filled, and its
signature a copy of a prepared HMAC fed the rest (`SignatureTemplate`), a few microseconds
instead of encoding and signing twenty parameters each time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote_plus, urlsplit

from twsim.core import phone
from twsim.core.ids import Prefix, SidFactory
from twsim.core.lifecycle import MessageDirection, MessageStatus
from twsim.core.pricing import Channel, NumberType
from twsim.core.signature import Piece, SignatureTemplate, Signer, signed_pieces
from twsim.gateway.webhook_client import USER_AGENT
from twsim.gateway.webhook_params import inbound_params
from twsim.load.pricing import PriceCache
from twsim.load.spec import LoadSpec
from twsim.model.records import media_of, new_message

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_STANDARD = {"From", "To", "Body", "MediaUrl", "body"}
MEDIA_BASE_URL = "https://api.twilio.com"
SID, SENDER = 0, 1  # slot numbers
SYNTHETIC_SENDERS = 100

Value = str | tuple[Piece, ...]


@dataclass(slots=True)
class Row:
    """One data row, ready to send: pieces with slots, what it costs, who sends it."""

    params: list[tuple[str, Value]]  # in Twilio's order, for the slow path (redirects)
    head: bytes  # request line and the fixed headers
    body: list[bytes | int]  # the form (POST) or the query (GET), with slots
    signature: SignatureTemplate
    sid_prefix: str
    sender: str | None  # the row's own From, or None for the synthetic phones
    segments: int
    channel: Channel
    country: str
    inbound_cost: Decimal


@dataclass(frozen=True, slots=True)
class Request:
    """One filled-in webhook: the bytes to write, and what the answer is read against."""

    index: int
    data: bytes
    row: Row
    sid: str
    sender: str
    token: str

    def params(self) -> list[tuple[str, str]]:
        """The request's parameters, for the full webhook client."""
        values = (self.sid, self.sender)
        return [
            (n, v if isinstance(v, str) else "".join(_fill(v, values))) for n, v in self.row.params
        ]


def _fill(pieces: tuple[Piece, ...], values: tuple[str, str]) -> list[str]:
    return [p if isinstance(p, str) else values[p] for p in pieces]


def _slotted(value: str, sid: str) -> Value:
    """`value` with each occurrence of `sid` turned into the SID slot."""
    if sid not in value:
        return value
    parts = value.split(sid)
    pieces: list[Piece] = []
    for i, part in enumerate(parts):
        if i:
            pieces.append(SID)
        if part:
            pieces.append(part)
    return tuple(pieces)


def _quoted(value: Value) -> list[bytes | int]:
    """A value form-encoded, slots kept (quoting is per character, so parts quote alone)."""
    if isinstance(value, str):
        return [quote_plus(value).encode("ascii")]
    return [quote_plus(p).encode("ascii") if isinstance(p, str) else p for p in value]


class RequestPlan:
    """Builds request `i` of a run: `plan.request(i)`."""

    def __init__(self, spec: LoadSpec, prices: PriceCache) -> None:
        self.spec = spec
        rng = random.Random(f"{spec.seed}/load")
        self._sid_base = f"{rng.getrandbits(64):016x}"
        a, b, c, d = (rng.getrandbits(bits) for bits in (32, 16, 12, 12))
        self._token_base = f"{a:08x}-{b:04x}-4{c:03x}-{8 | (d >> 10):x}{d & 0x3FF:03x}-"
        self._sids = SidFactory(rng)
        self._signer = Signer(spec.auth_token)
        self.senders = [f"+1555{spec.seed % 1000:03d}{i:04d}" for i in range(SYNTHETIC_SENDERS)]
        self._quoted_senders = [quote_plus(s).encode("ascii") for s in self.senders]
        parts = urlsplit(spec.url)
        self.scheme = parts.scheme or "http"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.url = spec.url.partition("#")[0]
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._host_header = parts.netloc.rpartition("@")[2]
        self.rows = [self._row(row, prices) for row in (spec.rows or [{}])]

    def _row(self, row: dict[str, object], prices: PriceCache) -> Row:
        spec = self.spec
        body = str(row.get("Body", row.get("body", "test")))
        fixed_sender = phone.normalize(str(row.get("From", ""))) or None
        sender = fixed_sender or self.senders[0]
        to = phone.normalize(str(row.get("To", ""))) or spec.to
        media = row.get("MediaUrl") or []
        media_urls = [media] if isinstance(media, str) else [str(m) for m in media]  # type: ignore[attr-defined]
        sid = self._sids.new(Prefix.MMS if media_urls else Prefix.SMS)
        message = new_message(
            sid=sid,
            account_sid=spec.account_sid,
            direction=MessageDirection.INBOUND,
            from_=sender,
            to=to,
            body=body,
            status=MessageStatus.RECEIVED,
            number_type=NumberType.LOCAL,
            country=phone.country_of(to) or "US",
            now=_EPOCH,
        )
        message.media = media_of(message, media_urls, self._sids)
        params: list[tuple[str, Value]] = [
            (n, _slotted(v, sid)) for n, v in inbound_params(message, MEDIA_BASE_URL)
        ]
        extra = [(str(k), str(v)) for k, v in row.items() if k not in _STANDARD]
        if extra:
            names = {k for k, _ in extra}
            params = [p for p in params if p[0] not in names] + list(extra)
        if fixed_sender is None:
            params = [(n, (SENDER,) if n == "From" else v) for n, v in params]
        encoded: list[bytes | int] = []
        for i, (name, value) in enumerate(params):
            encoded.append((("&" if i else "") + quote_plus(name) + "=").encode("ascii"))
            encoded.extend(_quoted(value))
        if spec.method == "GET":
            joiner = "&" if "?" in self.url else "?"
            url_pieces: list[Piece] = [self.url + joiner]
            for i, (name, value) in enumerate(params):
                url_pieces.append(("&" if i else "") + quote_plus(name) + "=")
                url_pieces.extend(
                    quote_plus(p) if isinstance(p, str) else p
                    for p in ((value,) if isinstance(value, str) else value)
                )
            pieces = signed_pieces(url_pieces, None)
            head = (f"GET {self._target}{'&' if '?' in self._target else '?'}").encode("ascii")
        else:
            pieces = signed_pieces(self.url, params)
            head = f"POST {self._target}".encode("ascii")
        head += (
            f" HTTP/1.1\r\nHost: {self._host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\nCache-Control: max-age=259200\r\n"
        ).encode("ascii")
        if spec.method == "POST":
            head += b"Content-Type: application/x-www-form-urlencoded\r\n"
        channel = Channel.MMS if media_urls else Channel.SMS
        return Row(
            params=params,
            head=head,
            body=encoded,
            signature=SignatureTemplate(self._signer, pieces),
            sid_prefix=sid[:2],
            sender=fixed_sender,
            segments=message.num_segments,
            channel=channel,
            country=message.country,
            inbound_cost=prices.inbound(message.country, channel, message.num_segments),
        )

    def parts(self, index: int, sender: str | None = None) -> tuple[Row, str, str, str, bytes, str]:
        """Request `index` filled in: (row, sid, sender, token, form or query, signature).
        `sender` overrides the synthetic phone (a row's own From still wins)."""
        row = self.rows[index % len(self.rows)]
        sid = f"{row.sid_prefix}{self._sid_base}{index:016x}"
        sid_bytes = sid.encode("ascii")
        if row.sender is not None:
            sender = row.sender
            signed = quoted = (sid_bytes, b"")
        elif sender is not None:
            signed = (sid_bytes, sender.encode("utf-8"))
            quoted = (sid_bytes, quote_plus(sender).encode("ascii"))
        else:
            which = index % SYNTHETIC_SENDERS
            sender = self.senders[which]
            signed = (sid_bytes, sender.encode("ascii"))
            quoted = (sid_bytes, self._quoted_senders[which])
        token = f"{self._token_base}{index:012x}"
        body = b"".join([p if isinstance(p, bytes) else quoted[p] for p in row.body])
        # a GET is signed over its URL, so over the quoted values
        signature = row.signature.sign(quoted if self.spec.method == "GET" else signed)
        return row, sid, sender, token, body, signature

    def request(self, index: int) -> Request:
        row, sid, sender, token, body, signature = self.parts(index)
        if self.spec.method == "GET":
            cut = row.head.index(b" HTTP/1.1")
            data = b"".join(
                [
                    row.head[:cut],
                    body,
                    row.head[cut:],
                    b"I-Twilio-Idempotency-Token: ",
                    token.encode("ascii"),
                    b"\r\nX-Twilio-Signature: ",
                    signature.encode("ascii"),
                    b"\r\n\r\n",
                ]
            )
        else:
            data = b"".join(
                [
                    row.head,
                    b"I-Twilio-Idempotency-Token: ",
                    token.encode("ascii"),
                    b"\r\nX-Twilio-Signature: ",
                    signature.encode("ascii"),
                    b"\r\nContent-Length: ",
                    str(len(body)).encode("ascii"),
                    b"\r\n\r\n",
                    body,
                ]
            )
        return Request(index, data, row, sid, sender, token)
