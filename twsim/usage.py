"""Usage Records computed from the bill, with Twilio's messaging categories and periods."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from twsim.core.pricing import Channel, Direction, NumberType
from twsim.state import LedgerEntry

_TYPE_SUFFIX = {
    NumberType.LOCAL: "longcode",
    NumberType.TOLL_FREE: "tollfree",
    NumberType.SHORT_CODE: "shortcode",
}

DESCRIPTIONS = {
    "sms": "SMS",
    "sms-inbound": "Inbound SMS",
    "sms-inbound-longcode": "Inbound Longcode SMS",
    "sms-inbound-shortcode": "Short Code Inbound SMS",
    "sms-inbound-tollfree": "Inbound Toll Free SMS",
    "sms-outbound": "Outbound SMS",
    "sms-outbound-longcode": "Outbound Longcode SMS",
    "sms-outbound-shortcode": "Outbound Short Code SMS",
    "sms-outbound-tollfree": "Outbound Toll Free SMS",
    "sms-messages-carrierfees": "SMS Messages Carrier Fees",
    "mms": "MMS",
    "mms-inbound": "Inbound MMS",
    "mms-inbound-longcode": "Inbound Longcode MMS",
    "mms-inbound-shortcode": "Short Code Inbound MMS",
    "mms-inbound-toll-free": "Inbound Toll Free MMS",
    "mms-outbound": "Outbound MMS",
    "mms-outbound-longcode": "Outbound Longcode MMS",
    "mms-outbound-shortcode": "Outbound Short Code MMS",
    "mms-outbound-tollfree": "Outbound Toll Free MMS",
    "mms-messages-carrierfees": "MMS Messages Carrier Fees",
    "totalprice": "Total Price",
}
CATEGORIES = tuple(DESCRIPTIONS)

SUBRESOURCES = {
    "all_time": "AllTime",
    "daily": "Daily",
    "last_month": "LastMonth",
    "monthly": "Monthly",
    "this_month": "ThisMonth",
    "today": "Today",
    "yearly": "Yearly",
    "yesterday": "Yesterday",
}


def leaf_category(channel: Channel, direction: Direction, number_type: NumberType) -> str:
    suffix = _TYPE_SUFFIX[number_type]
    if (
        channel is Channel.MMS
        and direction is Direction.INBOUND
        and number_type is NumberType.TOLL_FREE
    ):
        suffix = "toll-free"  # Twilio spells this one category with a hyphen
    return f"{channel}-{direction}-{suffix}"


@dataclass(slots=True)
class Tally:
    count: int = 0
    usage: int = 0
    price: Decimal = Decimal(0)


def categorize(entry: LedgerEntry) -> Iterator[tuple[str, int, int, Decimal]]:
    """(category, count, usage, price) rows one charge adds to."""
    charge = entry.charge
    key = charge.key
    leaf = leaf_category(key.channel, key.direction, key.number_type)
    for category in (leaf, f"{key.channel}-{key.direction}", str(key.channel)):
        yield category, 1, charge.units, charge.base
    if charge.carrier_fee:
        yield f"{key.channel}-messages-carrierfees", 1, charge.units, charge.carrier_fee
    yield "totalprice", 0, 0, charge.total


def tally(entries: Iterable[LedgerEntry], start: date, end: date) -> dict[str, Tally]:
    totals = {category: Tally() for category in CATEGORIES}
    for entry in entries:
        if not start <= entry.date.date() <= end:
            continue
        for category, count, usage, price in categorize(entry):
            t = totals[category]
            t.count += count
            t.usage += usage
            t.price += price
    totals["totalprice"].usage = 0
    return totals


def usage_unit(category: str) -> str:
    """Twilio calls every messaging unit a "message", though SMS usage counts segments."""
    return "usd" if category == "totalprice" else "messages"


_OFFSET = re.compile(r"^([+-])(\d+)days?$")


def parse_day(text: str, today: date) -> date:
    """A usage date: YYYY-MM-DD, or an offset from today such as -30days or +1days."""
    match = _OFFSET.match(text.strip())
    if match:
        days = int(match.group(2))
        return today + timedelta(days=days if match.group(1) == "+" else -days)
    return date.fromisoformat(text.strip())


def period_bounds(period: str | None, today: date, created: date) -> tuple[date, date]:
    """The default date range of a Usage Records sub-list."""
    first_of_month = today.replace(day=1)
    if period == "Today":
        return today, today
    if period == "Yesterday":
        day = today - timedelta(days=1)
        return day, day
    if period == "ThisMonth":
        return first_of_month, today
    if period == "LastMonth":
        end = first_of_month - timedelta(days=1)
        return end.replace(day=1), end
    return min(created, today), today


def buckets(period: str | None, start: date, end: date) -> list[tuple[date, date]]:
    """The ranges one list answers with: one per day/month/year, or the whole range."""
    if period not in ("Daily", "Monthly", "Yearly"):
        return [(start, end)]
    out = []
    cursor = start
    while cursor <= end:
        if period == "Daily":
            stop = cursor
        elif period == "Monthly":
            stop = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        else:
            stop = cursor.replace(month=12, day=31)
        stop = min(stop, end)
        out.append((cursor, stop))
        cursor = stop + timedelta(days=1)
    return out


def as_of(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
