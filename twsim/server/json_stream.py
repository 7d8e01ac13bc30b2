"""Large JSON answers written in chunks, so encoding them never holds the event loop long.

A page of up to 10,000 events or 1,000 messages is encoded `CHUNK` items at a time with
orjson; between chunks the response is written (and drained), which lets other requests,
webhooks and timers run. A small page goes out as one ordinary response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from aiohttp import web

from twsim.core.errors import ApiError

T = TypeVar("T")

CHUNK = 500
JSON_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def json_answer(value: Any, *, status: int = 200) -> web.Response:
    """A JSON response encoded with orjson."""
    return web.Response(body=orjson.dumps(value), status=status, content_type=JSON_TYPE)


async def write_list(
    request: web.Request,
    key: str,
    items: Sequence[T],
    encode: Callable[[T], dict[str, Any]],
    tail: dict[str, Any],
) -> web.StreamResponse:
    """Answer `{key: [encode(item)...], **tail}`, chunk by chunk."""
    if len(items) <= CHUNK:
        return json_answer({key: [encode(item) for item in items], **tail})
    response = web.StreamResponse(headers={"Content-Type": JSON_TYPE})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b'{"' + key.encode() + b'":[')
    for start in range(0, len(items), CHUNK):
        chunk = orjson.dumps([encode(item) for item in items[start : start + CHUNK]])
        if start:
            await response.write(b"," + chunk[1:-1])
        else:
            await response.write(chunk[1:-1])
    await response.write(b"]," + orjson.dumps(tail)[1:])
    await response.write_eof()
    return response


def int_param(request: web.Request, name: str, default: int, *, lo: int, hi: int) -> int:
    """A whole-number query parameter between `lo` and `hi` (a 400 otherwise)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(20001, f"{name} must be a whole number, not {raw!r}", status=400) from None
    if not lo <= value <= hi:
        raise ApiError(20001, f"{name} must be between {lo} and {hi}", status=400)
    return value
