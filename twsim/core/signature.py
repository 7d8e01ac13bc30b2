"""`X-Twilio-Signature`: the HMAC Twilio puts on every webhook it sends.

The signed string is the webhook URL exactly as configured (scheme, host, port if given,
path and query string) followed by every POST parameter as ``name + value``: names in
ascending code-point order, each name's values de-duplicated and sorted, no separators.
The digest is HMAC-SHA1 keyed with the account's auth token (UTF-8) over that string
(UTF-8), written in standard base64 with padding.

Two refinements over the bare rule:

- A ``#fragment`` is dropped before signing. Fragments carry Twilio's connection
  overrides (``#ct=2000&rc=3``); they never travel in the HTTP request, so the app could
  not reproduce a signature that covered them.
- GET webhooks carry their parameters in the query string, so they are signed over the
  URL alone (no params).

JSON-bodied webhooks are signed over the URL with ``bodySHA256=<hex sha256 of the raw
body>`` appended to its query (`url_with_body_hash`) and no params.

`Signer` keeps one prepared HMAC per auth token and copies it per call, which keeps
signing a typical 20-parameter webhook at a few microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
from binascii import b2a_base64
from collections.abc import Mapping, Sequence
from typing import TypeAlias

Params: TypeAlias = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]
"""Form parameters: a mapping (a value may be a list of values) or ``(name, value)`` pairs."""

BODY_HASH_PARAM = "bodySHA256"


class Signer:
    """Computes `X-Twilio-Signature` values for one auth token."""

    __slots__ = ("_mac",)

    def __init__(self, auth_token: str) -> None:
        self._mac = hmac.new(auth_token.encode("utf-8"), digestmod=hashlib.sha1)

    def __repr__(self) -> str:
        return "Signer(<auth token hidden>)"

    def sign(self, url: str, params: Params | None = None) -> str:
        """The signature of a request to `url` carrying form `params` (None for GET)."""
        cut = url.find("#")
        if cut >= 0:
            url = url[:cut]
        if params:
            parts = [url]
            append = parts.append
            # dict first: a plain isinstance is much cheaper than the Mapping ABC check
            if isinstance(params, (dict, Mapping)):
                for name in sorted(params):
                    value = params[name]
                    if isinstance(value, str):
                        append(name)
                        append(value)
                    else:
                        for item in sorted(set(value)):
                            append(name)
                            append(item)
            else:
                # Sorting the distinct pairs orders names, then each name's values.
                for name, value in sorted(set(params)):
                    append(name)
                    append(value)
            url = "".join(parts)
        mac = self._mac.copy()
        mac.update(url.encode("utf-8"))
        return b2a_base64(mac.digest(), newline=False).decode("ascii")


def compute_signature(auth_token: str, url: str, params: Params | None = None) -> str:
    """One-off signature; build a `Signer` once per token when signing many requests."""
    return Signer(auth_token).sign(url, params)


def body_sha256(body: bytes) -> str:
    """Lower-case hex SHA-256 of a raw request body."""
    return hashlib.sha256(body).hexdigest()


def url_with_body_hash(url: str, body: bytes) -> str:
    """`url` with ``bodySHA256=<hex>`` appended to its query, for JSON-bodied webhooks.

    A fragment, if any, stays at the end (it is still dropped when signing).
    """
    base, hash_mark, fragment = url.partition("#")
    if "?" not in base:
        separator = "?"
    elif base.endswith("&") or (base.endswith("?") and base.count("?") == 1):
        separator = ""  # the query is empty or already ends with a separator
    else:
        separator = "&"
    return f"{base}{separator}{BODY_HASH_PARAM}={body_sha256(body)}{hash_mark}{fragment}"


Piece: TypeAlias = str | int
"""Part of a signed string: literal text, or the number of a per-request value (a slot)."""


def signed_pieces(
    url: str | Sequence[Piece], params: Sequence[tuple[str, str | Sequence[Piece]]] | None
) -> list[Piece]:
    """What `Signer.sign` signs, with slot numbers where per-request values go.

    `url` and each parameter value are literal text or a sequence of pieces. The names of
    parameters whose value has a slot must be unique (their order then depends on the name
    alone); literal values are ordered as `Signer.sign` orders them.
    """
    pieces: list[Piece] = []
    for piece in [url] if isinstance(url, str) else url:
        if isinstance(piece, str):
            cut = piece.find("#")
            if cut >= 0:
                pieces.append(piece[:cut])
                break
        pieces.append(piece)
    if params:
        names = [name for name, value in params if not isinstance(value, str)]
        if len(set(names)) != len(names) or any(
            name in names for name, value in params if isinstance(value, str)
        ):
            raise ValueError(
                "a parameter with a per-request value must be the only one of its name"
            )
        literal = sorted({(n, v) for n, v in params if isinstance(v, str)})
        slotted = [(n, tuple(v)) for n, v in params if not isinstance(v, str)]
        ordered: list[tuple[str, str | tuple[Piece, ...]]] = [*literal, *slotted]
        ordered.sort(key=lambda pair: pair[0])  # stable: equal names keep their value order
        for name, value in ordered:
            pieces.append(name)
            if isinstance(value, str):
                pieces.append(value)
            else:
                pieces.extend(value)
    return pieces


class SignatureTemplate:
    """Signatures of many requests whose signed strings differ only in a few values.

    The literal text up to the first slot is hashed once; each `sign` copies that state and
    hashes the rest, which keeps a load generator's signing at a couple of microseconds.
    """

    __slots__ = ("_mac", "_rest")

    def __init__(self, signer: Signer, pieces: Sequence[Piece]) -> None:
        merged: list[Piece] = []
        for piece in pieces:  # adjacent literals as one, so each sign does the fewest updates
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + piece
            else:
                merged.append(piece)
        head = ""
        if merged and isinstance(merged[0], str):
            head = str(merged.pop(0))
        self._mac = signer._mac.copy()
        self._mac.update(head.encode("utf-8"))
        self._rest: list[bytes | int] = [
            p.encode("utf-8") if isinstance(p, str) else p for p in merged
        ]

    def sign(self, values: Sequence[bytes]) -> str:
        """The signature with `values[i]` (UTF-8) in slot i."""
        mac = self._mac.copy()
        update = mac.update
        for piece in self._rest:
            update(values[piece] if isinstance(piece, int) else piece)
        return b2a_base64(mac.digest(), newline=False).decode("ascii")
