"""Twilio's v2010 paging: PageSize, Page and PageToken in, the paging envelope out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from multidict import MultiMapping

from twsim.core.errors import ApiError

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_PAGING_KEYS = frozenset({"PageSize", "Page", "PageToken"})


def _int(query: MultiMapping[str], key: str, default: int) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(20001, f"Invalid {key}: {raw!r} is not an integer", status=400) from None
    if value < 0:
        raise ApiError(20001, f"Invalid {key}: must not be negative", status=400)
    return value


def page(
    items: Sequence[T],
    query: MultiMapping[str],
    path: str,
    key: str,
    render: Callable[[T], dict[str, Any]],
    token_of: Callable[[T], str] | None = None,
) -> dict[str, Any]:
    """One page of `items` in Twilio's envelope; URIs keep the caller's filters."""
    size = min(max(_int(query, "PageSize", DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
    number = _int(query, "Page", 0)
    start = number * size
    token = query.get("PageToken")
    if token and token_of is not None and token.startswith("PA"):
        after = token[2:]
        for index, item in enumerate(items):
            if token_of(item) == after:
                start = index + 1
                break
    chunk = items[start : start + size]
    filters = [(k, v) for k, v in query.items() if k not in _PAGING_KEYS]

    def uri(page_number: int, page_token: str | None = None) -> str:
        params = [*filters, ("PageSize", str(size)), ("Page", str(page_number))]
        if page_token:
            params.append(("PageToken", page_token))
        return f"{path}?{urlencode(params, quote_via=quote, safe='')}"

    has_next = start + size < len(items)
    next_token = f"PA{token_of(chunk[-1])}" if has_next and chunk and token_of else None
    return {
        "end": start + len(chunk) - 1 if chunk else 0,
        "first_page_uri": uri(0),
        "next_page_uri": uri(number + 1, next_token) if has_next else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1) if number > 0 else None,
        "start": start if chunk else 0,
        "uri": uri(number, token),
        key: [render(item) for item in chunk],
    }
