"""Usage Records (`Usage/Records.json` and its period lists), computed from the bill."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date
from typing import Any, overload
from urllib.parse import quote

from aiohttp import web

from twsim.core.errors import ApiError
from twsim.core.pricing import format_money
from twsim.model import usage
from twsim.model.state import LedgerEntry
from twsim.server.auth import authenticated
from twsim.server.keys import GATEWAY
from twsim.server.paging import page
from twsim.server.render import API_VERSION, account_uri

PERIODS = ("AllTime", "Daily", "LastMonth", "Monthly", "ThisMonth", "Today", "Yearly", "Yesterday")


def add_routes(router: web.UrlDispatcher, account_path: str) -> None:
    router.add_get(account_path + "/Usage/Records.json", list_records)
    for period in PERIODS:
        router.add_get(account_path + f"/Usage/Records/{period}.json", list_records)


async def list_records(request: web.Request) -> web.Response:
    account = await authenticated(request)
    gateway = request.app[GATEWAY]
    now = gateway.clock.now()
    today = now.date()
    name = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    period = None if name == "Records" else name
    start, end = usage.period_bounds(period, today, account.date_created.date())
    query = request.query
    try:
        if query.get("StartDate"):
            start = usage.parse_day(query["StartDate"], today)
        if query.get("EndDate"):
            end = usage.parse_day(query["EndDate"], today)
    except (ValueError, OverflowError):
        raise ApiError(
            20001, "StartDate and EndDate must be YYYY-MM-DD or offsets like -30days", status=400
        ) from None
    wanted = query.get("Category")
    if wanted is not None and wanted not in usage.DESCRIPTIONS:
        wanted_categories: tuple[str, ...] = ()
    else:
        wanted_categories = (wanted,) if wanted else usage.CATEGORIES
    records = _Records(
        account_sid=account.sid,
        list_name=name,
        buckets=usage.buckets(period, start, end),
        categories=wanted_categories,
        entries=[e for e in gateway.state.ledger if e.account_sid == account.sid],
        as_of=usage.as_of(now),
        currency=gateway.prices.currency.lower(),
    )
    return web.json_response(page(records, query, request.path, "usage_records", lambda r: r))


class _Records(Sequence[dict[str, Any]]):
    """Every (bucket, category) record of one list, built only when a page reads it."""

    def __init__(
        self,
        *,
        account_sid: str,
        list_name: str,
        buckets: usage.Buckets,
        categories: tuple[str, ...],
        entries: list[LedgerEntry],
        as_of: str,
        currency: str,
    ) -> None:
        self.account_sid = account_sid
        self.list_name = list_name
        self.buckets = buckets
        self.categories = categories
        self.entries = sorted(entries, key=lambda e: e.date)
        self._days = [e.date.date() for e in self.entries]
        self.as_of = as_of
        self.currency = currency
        self.base = account_uri(account_sid) + "/Usage/Records"
        self._tallies: dict[int, dict[str, usage.Tally]] = {}

    def __len__(self) -> int:
        return len(self.buckets) * len(self.categories)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._record(i) for i in range(len(self))[index]]
        return self._record(range(len(self))[index])

    def _tally(self, bucket: int) -> dict[str, usage.Tally]:
        totals = self._tallies.get(bucket)
        if totals is None:
            low, high = self.buckets[bucket]
            first = bisect_left(self._days, low)
            last = bisect_right(self._days, high)
            totals = self._tallies[bucket] = usage.tally(self.entries[first:last], low, high)
        return totals

    def _record(self, i: int) -> dict[str, Any]:
        bucket, which = divmod(i, len(self.categories))
        category = self.categories[which]
        low, high = self.buckets[bucket]
        return _record(
            self.account_sid,
            self.base,
            self.list_name,
            category,
            self._tally(bucket)[category],
            low,
            high,
            self.as_of,
            self.currency,
        )


def _record(
    account_sid: str,
    base: str,
    list_name: str,
    category: str,
    t: usage.Tally,
    start: date,
    end: date,
    as_of: str,
    currency: str,
) -> dict[str, Any]:
    c = quote(category)
    price = format_money(t.price) if t.price else "0"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "as_of": as_of,
        "category": category,
        "count": str(t.count),
        "count_unit": "messages" if category != "totalprice" else "",
        "description": usage.DESCRIPTIONS[category],
        "end_date": end.isoformat(),
        "price": price,
        "price_unit": currency,
        "start_date": start.isoformat(),
        "subresource_uris": {
            key: f"{base}/{value}.json?Category={c}" for key, value in usage.SUBRESOURCES.items()
        },
        "uri": f"{base}/{list_name}.json?Category={c}&StartDate={start.isoformat()}&EndDate={end.isoformat()}",
        "usage": price if category == "totalprice" else str(t.usage),
        "usage_unit": currency if category == "totalprice" else usage.usage_unit(category),
    }
