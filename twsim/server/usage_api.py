"""Usage Records (`Usage/Records.json` and its period lists), computed from the bill."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from aiohttp import web

from twsim import usage
from twsim.core.errors import ApiError
from twsim.core.pricing import format_money
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
    except ValueError:
        raise ApiError(
            20001, "StartDate and EndDate must be YYYY-MM-DD or offsets like -30days", status=400
        ) from None
    wanted = query.get("Category")
    if wanted is not None and wanted not in usage.DESCRIPTIONS:
        wanted_categories: tuple[str, ...] = ()
    else:
        wanted_categories = (wanted,) if wanted else usage.CATEGORIES
    entries = [e for e in gateway.state.ledger if e.account_sid == account.sid]
    currency = gateway.prices.currency.lower()
    base = account_uri(account.sid) + "/Usage/Records"
    records: list[dict[str, Any]] = []
    for low, high in usage.buckets(period, start, end):
        totals = usage.tally(entries, low, high)
        for category in wanted_categories:
            records.append(
                _record(
                    account.sid,
                    base,
                    name,
                    category,
                    totals[category],
                    low,
                    high,
                    usage.as_of(now),
                    currency,
                )
            )
    return web.json_response(page(records, query, request.path, "usage_records", lambda r: r))


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
