"""Usage Records computed from the bill, with Twilio's messaging categories and periods."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import overload

from twsim.core.pricing import Channel, Direction, NumberType
from twsim.model.state import LedgerEntry

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
        yield category, entry.count, charge.units, charge.base
    if charge.carrier_fee:
        yield f"{key.channel}-messages-carrierfees", entry.count, charge.units, charge.carrier_fee
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


class Buckets(Sequence[tuple[date, date]]):
    """The ranges one list answers with: one per day/month/year, or the whole range.

    Computed on demand, so a list over centuries costs only the page that is read.
    """

    __slots__ = ("end", "period", "start")

    def __init__(self, period: str | None, start: date, end: date) -> None:
        self.period = period
        self.start = start
        self.end = end

    def __len__(self) -> int:
        start, end = self.start, self.end
        if self.period not in ("Daily", "Monthly", "Yearly"):
            return 1
        if start > end:
            return 0
        if self.period == "Daily":
            return (end - start).days + 1
        if self.period == "Monthly":
            return (end.year - start.year) * 12 + end.month - start.month + 1
        return end.year - start.year + 1

    @overload
    def __getitem__(self, index: int) -> tuple[date, date]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[date, date]]: ...

    def __getitem__(self, index: int | slice) -> tuple[date, date] | list[tuple[date, date]]:
        if isinstance(index, slice):
            return [self._bucket(i) for i in range(len(self))[index]]
        return self._bucket(range(len(self))[index])

    def _bucket(self, i: int) -> tuple[date, date]:
        start, end = self.start, self.end
        if self.period == "Daily":
            day = start + timedelta(days=i)
            return day, day
        if self.period == "Monthly":
            years, month = divmod(start.month - 1 + i, 12)
            first = date(start.year + years, month + 1, 1)
            last = date(first.year, 12, 31) if month == 11 else _day_before(first, month)
            return max(first, start), min(last, end)
        if self.period == "Yearly":
            year = start.year + i
            return max(date(year, 1, 1), start), min(date(year, 12, 31), end)
        return start, end


def _day_before(first: date, month: int) -> date:
    """The last day of `first`'s month (month 0-10, so the next month is in the same year)."""
    return date(first.year, month + 2, 1) - timedelta(days=1)


def buckets(period: str | None, start: date, end: date) -> Buckets:
    return Buckets(period, start, end)


def as_of(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
