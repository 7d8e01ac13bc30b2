"""Account, Balance and Usage Records through the official client.

The traffic below is priced independently with the gateway's price table, and the usage
records must add up to exactly that: counts in messages, usage in billed units (segments
for SMS, messages for MMS), prices as the sum of what was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from twsim.core.pricing import Channel, Charge, Direction, NumberType, PriceKey
from twsim.model.clock import ManualClock

PHONE = "+15557654321"
LOCAL_NUMBER = "+15005550006"
TOLL_FREE_NUMBER = "+18005550100"
CONFIG: dict[str, Any] = {
    "accounts": [{"sid": "AC" + "1" * 32, "auth_token": "secret1", "balance": "20.00"}],
    "numbers": [
        {"phone_number": LOCAL_NUMBER},
        {"phone_number": TOLL_FREE_NUMBER, "type": "toll-free"},
    ],
}
FEB_27, FEB_28, MAR_1 = date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)


@dataclass(frozen=True)
class Row:
    count: int
    usage: int
    price: Decimal


@dataclass
class Traffic:
    sim: Any
    clock: ManualClock
    feb: list[tuple[str, Charge]]
    mar: list[tuple[str, Charge]]


def _charge(
    sim: Any, number_type: NumberType, direction: Direction, channel: Channel, n: int
) -> Charge:
    return sim.gateway.prices.charge(PriceKey("US", number_type, direction, channel), n)  # type: ignore[no-any-return]


@pytest.fixture
async def traffic(make_sim: Any, sdk: Any) -> Traffic:
    """Feb 27: a 2-segment SMS out, an SMS in, an MMS out. Mar 1: an SMS out from the
    toll-free number, an MMS in. The clock then stays on Mar 1, 12:00."""
    clock = ManualClock(datetime(2026, 2, 27, 12, tzinfo=UTC))
    sim = await make_sim(CONFIG, clock=clock)
    client = sim.client()
    L, TF = NumberType.LOCAL, NumberType.TOLL_FREE
    OUT, IN = Direction.OUTBOUND, Direction.INBOUND
    SMS, MMS = Channel.SMS, Channel.MMS

    await sdk(client.messages.create, to=PHONE, from_=LOCAL_NUMBER, body="x" * 161)
    await sim.gateway.receive(from_=PHONE, to=LOCAL_NUMBER, body="hello", wait=True)
    await sdk(
        client.messages.create,
        to=PHONE,
        from_=LOCAL_NUMBER,
        body="look",
        media_url=["https://example.com/a.png"],
    )
    await sim.quiet()
    await clock.advance(2 * 24 * 3600)
    await sdk(client.messages.create, to=PHONE, from_=TOLL_FREE_NUMBER, body="tf")
    await sim.gateway.receive(
        from_=PHONE, to=LOCAL_NUMBER, body="", media_urls=["https://example.com/b.jpg"], wait=True
    )
    await sim.quiet()
    return Traffic(
        sim,
        clock,
        feb=[
            ("sms-outbound-longcode", _charge(sim, L, OUT, SMS, 2)),
            ("sms-inbound-longcode", _charge(sim, L, IN, SMS, 1)),
            ("mms-outbound-longcode", _charge(sim, L, OUT, MMS, 1)),
        ],
        mar=[
            ("sms-outbound-tollfree", _charge(sim, TF, OUT, SMS, 1)),
            ("mms-inbound-longcode", _charge(sim, L, IN, MMS, 1)),
        ],
    )


def expected(charges: list[tuple[str, Charge]]) -> dict[str, Row]:
    """What Twilio's messaging usage categories hold for these charges."""
    rows: dict[str, Row] = {}

    def add(category: str, count: int, usage: int, price: Decimal) -> None:
        old = rows.get(category, Row(0, 0, Decimal(0)))
        rows[category] = Row(old.count + count, old.usage + usage, old.price + price)

    for leaf, charge in charges:
        channel, direction = leaf.split("-")[:2]
        for category in (leaf, f"{channel}-{direction}", channel):
            add(category, 1, charge.units, charge.base)
        if charge.carrier_fee:
            add(f"{channel}-messages-carrierfees", 1, charge.units, charge.carrier_fee)
        add("totalprice", 0, 0, charge.total)
    return rows


def observed(records: list[Any]) -> dict[str, Row]:
    """Non-empty records by category; totalprice's usage is its price."""
    rows = {}
    for r in records:
        price = Decimal(r.price)
        if r.category == "totalprice":
            assert Decimal(r.usage) == price
            assert r.usage_unit == "usd"
            rows[r.category] = Row(0, 0, price)
        elif int(r.count) or int(r.usage) or price:
            rows[r.category] = Row(int(r.count), int(r.usage), price)
    return rows


def _totals_nonzero(rows: dict[str, Row]) -> dict[str, Row]:
    return {k: v for k, v in rows.items() if k != "totalprice" or v.price}


async def test_records_add_up_to_what_was_billed(traffic: Traffic, sdk: Any) -> None:
    sim = traffic.sim
    records = await sdk(sim.client().usage.records.list)

    got = observed(records)
    want = expected(traffic.feb + traffic.mar)
    assert got == want
    for category in (
        "sms",
        "sms-inbound",
        "sms-outbound",
        "sms-outbound-longcode",
        "sms-messages-carrierfees",
        "mms",
        "mms-outbound",
        "mms-inbound",
        "totalprice",
    ):
        assert category in got, category
    assert got["sms"] == Row(3, 4, got["sms"].price)  # 3 texts, 4 segments
    billed = sum((e.charge.total for e in sim.gateway.state.ledger), Decimal(0))
    assert got["totalprice"].price == billed
    for r in records:
        assert (r.start_date, r.end_date) == (FEB_27, MAR_1)
        assert r.price_unit == "usd"
        assert r.account_sid == sim.account_sid
        if r.category != "totalprice":
            assert r.count_unit == r.usage_unit == "messages"


async def test_balance_drops_by_the_total(traffic: Traffic, sdk: Any) -> None:
    balance = await sdk(traffic.sim.client().balance.fetch)
    spent = sum((c.total for _, c in traffic.feb + traffic.mar), Decimal(0))
    assert balance.currency == "USD"
    assert balance.account_sid == traffic.sim.account_sid
    assert Decimal(balance.balance) == (Decimal("20.00") - spent).quantize(Decimal("0.01"))
    assert Decimal(balance.balance) < Decimal("20.00")


@pytest.mark.parametrize(
    ("period", "days"),
    [
        ("today", "mar"),
        ("this_month", "mar"),
        ("yesterday", "none"),
        ("last_month", "feb"),
        ("all_time", "both"),
        ("yearly", "both"),
    ],
)
async def test_period_lists(traffic: Traffic, sdk: Any, period: str, days: str) -> None:
    charges = {"mar": traffic.mar, "feb": traffic.feb, "both": traffic.feb + traffic.mar}
    records = await sdk(getattr(traffic.sim.client().usage.records, period).list)
    assert _totals_nonzero(observed(records)) == _totals_nonzero(expected(charges.get(days, [])))


@pytest.mark.parametrize(
    ("period", "expected_ranges"),
    [
        ("today", [(MAR_1, MAR_1)]),
        ("yesterday", [(FEB_28, FEB_28)]),
        ("this_month", [(MAR_1, MAR_1)]),
        ("last_month", [(date(2026, 2, 1), FEB_28)]),
        ("all_time", [(FEB_27, MAR_1)]),
        ("monthly", [(FEB_27, FEB_28), (MAR_1, MAR_1)]),
        ("daily", [(FEB_27, FEB_27), (FEB_28, FEB_28), (MAR_1, MAR_1)]),
    ],
)
async def test_period_ranges(
    traffic: Traffic, sdk: Any, period: str, expected_ranges: list[tuple[date, date]]
) -> None:
    records = await sdk(getattr(traffic.sim.client().usage.records, period).list, category="sms")
    assert {r.category for r in records} == {"sms"}
    assert [(r.start_date, r.end_date) for r in records] == expected_ranges


async def test_daily_buckets_split_the_traffic(traffic: Traffic, sdk: Any) -> None:
    records = await sdk(traffic.sim.client().usage.records.daily.list)
    by_day: dict[date, list[Any]] = {}
    for r in records:
        by_day.setdefault(r.start_date, []).append(r)
    assert _totals_nonzero(observed(by_day[FEB_27])) == _totals_nonzero(expected(traffic.feb))
    assert _totals_nonzero(observed(by_day[FEB_28])) == {}
    assert _totals_nonzero(observed(by_day[MAR_1])) == _totals_nonzero(expected(traffic.mar))


@pytest.mark.parametrize(
    ("filters", "days"),
    [
        ({"start_date": FEB_27, "end_date": FEB_27}, "feb"),
        ({"start_date": FEB_28}, "mar"),
        ({"end_date": FEB_28}, "feb"),
        ({"start_date": "-1days"}, "mar"),
        ({"start_date": "-2days", "end_date": "-2days"}, "feb"),
    ],
)
async def test_start_and_end_dates(
    traffic: Traffic, sdk: Any, filters: dict[str, Any], days: str
) -> None:
    charges = traffic.feb if days == "feb" else traffic.mar
    records = await sdk(traffic.sim.client().usage.records.list, **filters)
    assert _totals_nonzero(observed(records)) == _totals_nonzero(expected(charges))


@pytest.mark.parametrize(
    "category",
    ["sms", "sms-inbound", "sms-outbound", "sms-outbound-longcode", "mms-outbound", "totalprice"],
)
async def test_category_filter(traffic: Traffic, sdk: Any, category: str) -> None:
    records = await sdk(traffic.sim.client().usage.records.list, category=category)
    assert [r.category for r in records] == [category]
    want = expected(traffic.feb + traffic.mar)[category]
    assert observed(records)[category] == want
    uri = records[0].uri
    assert uri.startswith(f"/2010-04-01/Accounts/{traffic.sim.account_sid}/Usage/Records")
    assert f"Category={category}" in uri


async def test_unknown_category_is_an_empty_list(traffic: Traffic, sdk: Any) -> None:
    assert await sdk(traffic.sim.client().usage.records.list, category="calls") == []


async def test_usage_pages(traffic: Traffic, sdk: Any) -> None:
    client = traffic.sim.client()
    everything = await sdk(client.usage.records.list)
    paged = await sdk(lambda: [r.category for r in client.usage.records.stream(page_size=4)])
    assert paged == [r.category for r in everything]
    assert len(paged) > 4


async def test_bad_dates_are_rejected(traffic: Traffic, sdk_list_error: Any) -> None:
    status, code = await sdk_list_error(
        traffic.sim.client().usage.records.list, start_date="yesterday-ish"
    )
    assert (status, code) == (400, 20001)


async def test_account_fetch(make_sim: Any, sdk: Any) -> None:
    sim = await make_sim(CONFIG)
    account = await sdk(sim.client().api.accounts(sim.account_sid).fetch)
    assert account.sid == sim.account_sid
    assert (account.status, account.type) == ("active", "Full")
    assert account.owner_account_sid == sim.account_sid
    assert account.friendly_name == "twsim account"


async def test_account_list_holds_only_the_callers_account(make_sim: Any, sdk: Any) -> None:
    sim = await make_sim(
        {
            "accounts": [
                {"sid": "AC" + "1" * 32, "auth_token": "secret1"},
                {"sid": "AC" + "2" * 32, "auth_token": "secret2", "friendly_name": "other"},
            ]
        }
    )
    accounts = await sdk(sim.client().api.accounts.list)
    named = await sdk(sim.client().api.accounts.list, friendly_name="other")
    assert [a.sid for a in accounts] == [sim.account_sid]
    assert named == []


@pytest.mark.parametrize(
    ("period", "total", "last"),
    [
        ("Daily", (date(9999, 12, 31) - date(1, 1, 1)).days + 1, (date(9999, 12, 31),) * 2),
        ("Monthly", 9999 * 12, (date(9999, 12, 1), date(9999, 12, 31))),
        ("Yearly", 9999, (date(9999, 1, 1), date(9999, 12, 31))),
    ],
)
async def test_the_widest_ranges_page_like_any_other(
    traffic: Traffic, http: Any, paths: Any, period: str, total: int, last: tuple[date, date]
) -> None:
    base = paths(traffic.sim, f"/Usage/Records/{period}.json")
    query = "Category=sms&StartDate=0001-01-01&EndDate=9999-12-31&PageSize=1000"
    first = (await http(traffic.sim, "GET", f"{base}?{query}")).json()
    final_page = (total - 1) // 1000
    tail = (await http(traffic.sim, "GET", f"{base}?{query}&Page={final_page}")).json()

    assert first["usage_records"][0]["start_date"] == "0001-01-01"
    assert len(first["usage_records"]) == 1000
    assert first["next_page_uri"] is not None
    assert tail["next_page_uri"] is None
    assert tail["end"] == total - 1
    end_record = tail["usage_records"][-1]
    assert (end_record["start_date"], end_record["end_date"]) == tuple(d.isoformat() for d in last)
    used = [r for r in tail["usage_records"] + first["usage_records"] if r["count"] != "0"]
    assert used == []  # the traffic (2026) is on neither page


@pytest.mark.parametrize("bad", ["+99999999days", "-99999999days", "2026-02-30", "tomorrow"])
async def test_impossible_dates_are_400(traffic: Traffic, http: Any, paths: Any, bad: str) -> None:
    answer = await http(
        traffic.sim, "GET", paths(traffic.sim, "/Usage/Records/Daily.json"), params={"EndDate": bad}
    )
    assert answer.status == 400
    assert answer.json()["code"] == 20001


async def test_daily_over_a_range_finds_the_traffic_in_it(
    traffic: Traffic, http: Any, paths: Any
) -> None:
    query = "Category=sms&StartDate=2025-01-01&EndDate=2026-12-31&PageSize=1000"
    page = (
        await http(traffic.sim, "GET", paths(traffic.sim, f"/Usage/Records/Daily.json?{query}"))
    ).json()
    busy = {
        r["start_date"]: (r["count"], r["usage"])
        for r in page["usage_records"]
        if r["count"] != "0"
    }
    assert busy == {"2026-02-27": ("2", "3"), "2026-03-01": ("1", "1")}
    assert len(page["usage_records"]) == 365 + 365
