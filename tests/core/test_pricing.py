from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from twsim.config.shipped import DATA
from twsim.core.price_table_reader import read_price_table
from twsim.core.pricing import (
    CATCH_ALL,
    Channel,
    Charge,
    ChargeKind,
    Direction,
    NumberType,
    PriceKey,
    PriceTable,
    PricingError,
    billing_units,
    format_money,
    format_price,
)

SHIPPED = DATA.joinpath("prices", "us.yaml")

IN, OUT = Direction.INBOUND, Direction.OUTBOUND
SMS, MMS = Channel.SMS, Channel.MMS
LOCAL, TOLL_FREE, SHORT_CODE = NumberType.LOCAL, NumberType.TOLL_FREE, NumberType.SHORT_CODE
D = Decimal


@pytest.fixture(scope="module")
def shipped() -> PriceTable:
    with SHIPPED.open(encoding="utf-8") as handle:
        return read_price_table(yaml.safe_load(handle), name="us")


def key(
    country: str = "US",
    number_type: NumberType = LOCAL,
    direction: Direction = OUT,
    channel: Channel = SMS,
) -> PriceKey:
    return PriceKey(country, number_type, direction, channel)


def minimal() -> dict[str, Any]:
    return {
        "taken": "2026-11-28",
        "source": "test",
        "currency": "USD",
        "countries": {
            "US": {
                "sms": {
                    "inbound": {"local": "0.0083"},
                    "outbound": {"local": "0.0083", "toll-free": "0.0083"},
                },
                "mms": {"outbound": {"local": "0.0220"}},
                "carrier_fees": {"sms": {"outbound": {"local": "0.0042"}}},
                "failed_fee": "0.001",
            }
        },
    }


def with_value(path: str, value: Any) -> dict[str, Any]:
    data = minimal()
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def without(path: str) -> dict[str, Any]:
    data = minimal()
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    del node[last]
    return data


# --- the shipped table ------------------------------------------------------------------


def test_shipped_header(shipped: PriceTable) -> None:
    assert shipped.name == "us"
    assert shipped.taken == "2026-11-28"
    assert "twilio.com/en-us/sms/pricing/us" in shipped.source
    assert shipped.currency == "USD"
    assert set(shipped.countries) == {"US", "CA"}


# (country, channel, direction, number type) -> (unit price, carrier fee per unit)
SHIPPED_CELLS: dict[tuple[str, Channel, Direction, NumberType], tuple[str, str]] = {
    ("US", SMS, IN, LOCAL): ("0.0083", "0"),
    ("US", SMS, IN, TOLL_FREE): ("0.0083", "0"),
    ("US", SMS, IN, SHORT_CODE): ("0.0083", "0"),
    ("US", SMS, OUT, LOCAL): ("0.0083", "0.0042"),
    ("US", SMS, OUT, TOLL_FREE): ("0.0083", "0.0025"),
    ("US", SMS, OUT, SHORT_CODE): ("0.0083", "0.0030"),
    ("US", MMS, IN, LOCAL): ("0.0165", "0"),
    ("US", MMS, IN, TOLL_FREE): ("0.0165", "0"),
    ("US", MMS, IN, SHORT_CODE): ("0.0165", "0"),
    ("US", MMS, OUT, LOCAL): ("0.0220", "0.0050"),
    ("US", MMS, OUT, TOLL_FREE): ("0.0220", "0.0100"),
    ("US", MMS, OUT, SHORT_CODE): ("0.0220", "0.0050"),
    ("CA", SMS, IN, LOCAL): ("0.0075", "0"),
    ("CA", SMS, IN, TOLL_FREE): ("0.0075", "0"),
    ("CA", SMS, IN, SHORT_CODE): ("0.0075", "0"),
    ("CA", SMS, OUT, LOCAL): ("0.0090", "0.0030"),
    ("CA", SMS, OUT, TOLL_FREE): ("0.0090", "0.0030"),
    ("CA", SMS, OUT, SHORT_CODE): ("0.0090", "0.0030"),
    ("CA", MMS, IN, LOCAL): ("0.0100", "0"),
    ("CA", MMS, IN, TOLL_FREE): ("0.0100", "0"),
    ("CA", MMS, IN, SHORT_CODE): ("0.0100", "0"),
    ("CA", MMS, OUT, LOCAL): ("0.0200", "0.0050"),
    ("CA", MMS, OUT, TOLL_FREE): ("0.0200", "0.0050"),
    ("CA", MMS, OUT, SHORT_CODE): ("0.0200", "0.0050"),
}


def test_shipped_cells_cover_everything() -> None:
    expected = {
        (country, channel, direction, number_type)
        for country in ("US", "CA")
        for channel in Channel
        for direction in Direction
        for number_type in NumberType
    }
    assert set(SHIPPED_CELLS) == expected


@pytest.mark.parametrize(
    ("cell", "figures"), list(SHIPPED_CELLS.items()), ids=lambda v: "-".join(map(str, v))
)
def test_shipped_single_unit_charge(
    shipped: PriceTable,
    cell: tuple[str, Channel, Direction, NumberType],
    figures: tuple[str, str],
) -> None:
    country, channel, direction, number_type = cell
    price, fee = figures
    k = key(country, number_type, direction, channel)
    charge = shipped.charge(k, 1)
    assert charge == Charge(key=k, units=1, unit_price=D(price), carrier_fee=D(fee))
    assert charge.base == D(price)
    assert charge.total == D(price) + D(fee)
    assert charge.kind is ChargeKind.MESSAGE


@pytest.mark.parametrize(
    ("number_type", "segments", "base", "fees", "total"),
    [
        (LOCAL, 1, "0.0083", "0.0042", "0.0125"),
        (LOCAL, 2, "0.0166", "0.0084", "0.0250"),
        (LOCAL, 3, "0.0249", "0.0126", "0.0375"),
        (LOCAL, 10, "0.0830", "0.0420", "0.1250"),
        (TOLL_FREE, 4, "0.0332", "0.0100", "0.0432"),
        (SHORT_CODE, 7, "0.0581", "0.0210", "0.0791"),
    ],
)
def test_sms_is_billed_per_segment(
    shipped: PriceTable, number_type: NumberType, segments: int, base: str, fees: str, total: str
) -> None:
    charge = shipped.charge(key(number_type=number_type), segments)
    assert charge.units == segments
    assert charge.base == D(base)
    assert charge.carrier_fee == D(fees)
    assert charge.total == D(total)


@pytest.mark.parametrize("segments", [0, 1, 3, 12])
@pytest.mark.parametrize("direction", list(Direction))
def test_mms_is_billed_per_message(
    shipped: PriceTable, segments: int, direction: Direction
) -> None:
    charge = shipped.charge(key(direction=direction, channel=MMS), segments)
    assert charge.units == 1
    assert charge.base == charge.unit_price


def test_decimal_exactness(shipped: PriceTable) -> None:
    charge = shipped.charge(key(direction=IN), 3)
    assert charge.base == D("0.0249")
    assert str(charge.base) == "0.0249"
    for amount in (charge.unit_price, charge.carrier_fee, charge.base, charge.total):
        assert type(amount) is Decimal


def test_many_charges_sum_exactly(shipped: PriceTable) -> None:
    total = sum((shipped.charge(key(direction=IN), 1).total for _ in range(1000)), D(0))
    assert total == D("8.3000")
    # The same sum in binary floating point drifts.
    assert sum([0.0083] * 1000) != 8.3


@pytest.mark.parametrize(
    ("channel", "segments", "units"),
    [(SMS, 1, 1), (SMS, 5, 5), (MMS, 0, 1), (MMS, 1, 1), (MMS, 9, 1)],
)
def test_billing_units(channel: Channel, segments: int, units: int) -> None:
    assert billing_units(channel, segments) == units


@pytest.mark.parametrize(("channel", "segments"), [(SMS, 0), (SMS, -1), (MMS, -1)])
def test_billing_units_rejects_impossible_segments(channel: Channel, segments: int) -> None:
    with pytest.raises(ValueError, match="segment"):
        billing_units(channel, segments)


# --- lookups that fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "path", "words"),
    [
        (key(country="FR"), "countries.FR", ["'FR'", "CA, US", "'*'"]),
        (key(country="us"), "countries.us", ["'us'", "upper case"]),
        (key(country=""), "countries", ["''"]),
    ],
)
def test_unknown_country(shipped: PriceTable, k: PriceKey, path: str, words: list[str]) -> None:
    with pytest.raises(PricingError) as caught:
        shipped.charge(k, 1)
    assert caught.value.table == "us"
    assert caught.value.path == path
    message = str(caught.value)
    assert message.startswith("price table 'us': ")
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("k", "path", "words"),
    [
        (
            key(number_type="mobile"),  # type: ignore[arg-type]
            "countries.US.sms.outbound.mobile",
            ["unknown number type 'mobile'", "local, toll-free, short-code"],
        ),
        (
            key(channel="rcs"),  # type: ignore[arg-type]
            "countries.US.rcs",
            ["unknown channel 'rcs'"],
        ),
        (
            key(direction="outbound-api"),  # type: ignore[arg-type]
            "countries.US.sms.outbound-api",
            ["unknown direction 'outbound-api'"],
        ),
    ],
)
def test_unknown_key_parts(shipped: PriceTable, k: PriceKey, path: str, words: list[str]) -> None:
    with pytest.raises(PricingError) as caught:
        shipped.charge(k, 1)
    assert caught.value.path == path
    for word in words:
        assert word in str(caught.value)


def test_plain_strings_work_like_members(shipped: PriceTable) -> None:
    k = PriceKey("US", "toll-free", "outbound", "sms")  # type: ignore[arg-type]
    assert shipped.charge(k, 2).total == D("0.0216")


@pytest.mark.parametrize(
    ("k", "path", "words"),
    [
        (key(number_type=SHORT_CODE), "countries.US.sms.outbound.short-code", ["short-code", "US"]),
        (key(direction=IN, channel=MMS), "countries.US.mms.inbound.local", ["mms inbound"]),
        (key(number_type=TOLL_FREE, direction=IN), "countries.US.sms.inbound.toll-free", []),
    ],
)
def test_missing_price_entry(k: PriceKey, path: str, words: list[str]) -> None:
    table = read_price_table(minimal(), name="small")
    with pytest.raises(PricingError) as caught:
        table.charge(k, 1)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"price table 'small': {path}: no ")
    for word in words:
        assert word in str(caught.value)


def test_pricing_error_is_a_value_error() -> None:
    assert issubclass(PricingError, ValueError)


def test_missing_carrier_fee_means_no_fee() -> None:
    table = read_price_table(minimal(), name="small")
    charge = table.charge(key(number_type=TOLL_FREE), 2)
    assert charge.carrier_fee == D(0)
    assert charge.total == D("0.0166")


# --- catch-all country ------------------------------------------------------------------------


def catch_all_table() -> PriceTable:
    data = minimal()
    data["countries"][CATCH_ALL] = {"sms": {"outbound": {"local": "0.0500"}}}
    return read_price_table(data, name="world")


def test_catch_all_prices_unlisted_countries() -> None:
    table = catch_all_table()
    assert table.charge(key(country="FR"), 2).base == D("0.1000")
    assert table.charge(key(country="US"), 2).base == D("0.0166")


def test_catch_all_missing_entry_names_it() -> None:
    with pytest.raises(PricingError) as caught:
        catch_all_table().charge(key(country="FR", channel=MMS), 1)
    assert caught.value.path == "countries.*.mms.outbound.local"
    assert "FR (via the '*' entry)" in str(caught.value)


# --- failed-message processing fee -------------------------------------------------------------


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("country", ["US", "CA"])
def test_failed_fee(shipped: PriceTable, channel: Channel, country: str) -> None:
    k = key(country=country, channel=channel)
    charge = shipped.failed_fee(k)
    assert charge == Charge(k, 1, D("0.001"), D(0), ChargeKind.FAILED)
    assert charge.total == D("0.001")


def test_failed_fee_defaults_to_zero() -> None:
    table = read_price_table(without("countries.US.failed_fee"), name="small")
    assert table.failed_fee(key()).total == D(0)


def test_failed_fee_is_outbound_only(shipped: PriceTable) -> None:
    with pytest.raises(ValueError, match="outbound"):
        shipped.failed_fee(key(direction=IN))


def test_failed_fee_unknown_country(shipped: PriceTable) -> None:
    with pytest.raises(PricingError, match="'FR'"):
        shipped.failed_fee(key(country="FR"))


# --- what-if repricing -----------------------------------------------------------------------


def older_table() -> PriceTable:
    return read_price_table(
        {
            "name": "us-2024",
            "taken": "2024-06-01",
            "source": "test",
            "currency": "USD",
            "countries": {
                "US": {
                    "sms": {"outbound": {"local": "0.0079"}, "inbound": {"local": "0.0079"}},
                    "mms": {"outbound": {"local": "0.0200"}},
                    "carrier_fees": {"sms": {"outbound": {"local": "0.0030"}}},
                    "failed_fee": "0.0005",
                }
            },
        },
        name="ignored",
    )


@pytest.mark.parametrize(
    ("k", "segments", "before", "after"),
    [
        (key(), 3, "0.0375", "0.0327"),
        (key(direction=IN), 2, "0.0166", "0.0158"),
        (key(channel=MMS), 4, "0.0270", "0.0200"),
    ],
)
def test_reprice(shipped: PriceTable, k: PriceKey, segments: int, before: str, after: str) -> None:
    charge = shipped.charge(k, segments)
    repriced = older_table().reprice(charge)
    assert charge.total == D(before)
    assert repriced.total == D(after)
    assert (repriced.key, repriced.units, repriced.kind) == (charge.key, charge.units, charge.kind)
    assert shipped.reprice(repriced) == charge


def test_reprice_failed_fee(shipped: PriceTable) -> None:
    repriced = older_table().reprice(shipped.failed_fee(key()))
    assert repriced == Charge(key(), 1, D("0.0005"), D(0), ChargeKind.FAILED)


def test_reprice_uses_the_charge_units(shipped: PriceTable) -> None:
    charge = Charge(key(), units=5, unit_price=D(0), carrier_fee=D(0))
    assert shipped.reprice(charge).total == D("0.0625")


def test_reprice_with_table_lacking_the_key(shipped: PriceTable) -> None:
    charge = shipped.charge(key(country="CA"), 1)
    with pytest.raises(PricingError) as caught:
        older_table().reprice(charge)
    assert caught.value.table == "us-2024"
    assert caught.value.path == "countries.CA"


def test_table_name_from_data_overrides_argument() -> None:
    assert older_table().name == "us-2024"
    assert read_price_table(minimal(), name="fallback").name == "fallback"


# --- charges as data ---------------------------------------------------------------------------


def test_charge_round_trips_through_dict(shipped: PriceTable) -> None:
    charge = shipped.charge(key(number_type=TOLL_FREE), 3)
    data = charge.to_dict()
    assert data == {
        "country": "US",
        "number_type": "toll-free",
        "direction": "outbound",
        "channel": "sms",
        "kind": "message",
        "units": 3,
        "unit_price": "0.0083",
        "carrier_fee": "0.0075",
    }
    assert Charge.from_dict(data) == charge
    failed = shipped.failed_fee(key())
    assert Charge.from_dict(failed.to_dict()) == failed


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"units": "3"}, "units"),
        ({"units": True}, "units"),
        ({"unit_price": 0.0083}, "decimal string"),
        ({"number_type": "mobile"}, "mobile"),
    ],
)
def test_charge_from_bad_dict(change: dict[str, Any], words: str) -> None:
    data: dict[str, Any] = {**Charge(key(), 1, D("0.0083"), D(0)).to_dict(), **change}
    with pytest.raises(ValueError, match=words):
        Charge.from_dict(data)


def test_charge_from_dict_missing_key() -> None:
    data = Charge(key(), 1, D("0.0083"), D(0)).to_dict()
    del data["channel"]
    with pytest.raises(ValueError, match="'channel'"):
        Charge.from_dict(data)


# --- validation ------------------------------------------------------------------------------

S = "countries.US.sms"


@pytest.mark.parametrize(
    ("data", "path", "detail"),
    [
        # top level
        ([], "", "expected a mapping at the top level, got list"),
        (None, "", "expected a mapping at the top level, got null"),
        (with_value("extra", 1), "extra", "unknown key 'extra'"),
        (without("taken"), "taken", "missing required key"),
        (without("source"), "source", "missing required key"),
        (without("currency"), "currency", "missing required key"),
        (without("countries"), "countries", "missing required key"),
        (with_value("name", ""), "name", "expected a non-empty string, got ''"),
        (with_value("source", 7), "source", "expected a non-empty string, got 7"),
        (with_value("currency", "usd"), "currency", "expected a code like \"USD\", got 'usd'"),
        (with_value("taken", "28/11/2026"), "taken", "expected an ISO date"),
        (with_value("taken", "2026-13-01"), "taken", "got '2026-13-01'"),
        (with_value("taken", 20261128), "taken", "expected an ISO date"),
        (with_value("countries", {}), "countries", "expected at least one country"),
        (with_value("countries", ["US"]), "countries", "expected a mapping, got list"),
        # country keys
        (with_value("countries.usa", {}), "countries.usa", "expected a country code"),
        (with_value("countries.Us", {}), "countries.Us", "two capital letters"),
        (with_value("countries.US", "0.0083"), "countries.US", "expected a mapping, got str"),
        (with_value("countries.US", {}), "countries.US", "expected prices under 'sms'"),
        (
            with_value("countries.US.rcs", {}),
            "countries.US.rcs",
            "unknown key 'rcs' (expected one of: sms, mms, carrier_fees, failed_fee)",
        ),
        # price cells
        (with_value(f"{S}.outbound", None), f"{S}.outbound", "expected a mapping, got null"),
        (
            with_value(f"{S}.outbound-api", {}),
            f"{S}.outbound-api",
            "unknown key 'outbound-api' (expected one of: inbound, outbound)",
        ),
        (
            with_value(f"{S}.outbound.tollfree", "0.0083"),
            f"{S}.outbound.tollfree",
            "unknown key 'tollfree' (expected one of: local, toll-free, short-code)",
        ),
        (
            with_value(f"{S}.outbound.toll-free", "abc"),
            f"{S}.outbound.toll-free",
            "expected a decimal string, got 'abc'",
        ),
        (with_value(f"{S}.outbound.local", 0.0083), f"{S}.outbound.local", "quote it"),
        (with_value(f"{S}.outbound.local", "-0.0083"), f"{S}.outbound.local", "non-negative"),
        (with_value(f"{S}.outbound.local", -1), f"{S}.outbound.local", "non-negative"),
        (with_value(f"{S}.outbound.local", "1e-3"), f"{S}.outbound.local", "got '1e-3'"),
        (with_value(f"{S}.outbound.local", "NaN"), f"{S}.outbound.local", "got 'NaN'"),
        (with_value(f"{S}.outbound.local", ".5"), f"{S}.outbound.local", "got '.5'"),
        (with_value(f"{S}.outbound.local", True), f"{S}.outbound.local", "got True"),
        (with_value(f"{S}.outbound.local", None), f"{S}.outbound.local", "got None"),
        (
            with_value("countries.US.mms.inbound", {"local": "x"}),
            "countries.US.mms.inbound.local",
            "expected a decimal string, got 'x'",
        ),
        # carrier fees and the failed fee
        (
            with_value("countries.US.carrier_fees", "0.003"),
            "countries.US.carrier_fees",
            "expected a mapping, got str",
        ),
        (
            with_value("countries.US.carrier_fees.rcs", {}),
            "countries.US.carrier_fees.rcs",
            "unknown key 'rcs' (expected one of: sms, mms)",
        ),
        (
            with_value("countries.US.carrier_fees.sms.outbound.local", "0,0042"),
            "countries.US.carrier_fees.sms.outbound.local",
            "expected a decimal string, got '0,0042'",
        ),
        (
            with_value("countries.US.carrier_fees.mms", {"outbound": {"pager": "1"}}),
            "countries.US.carrier_fees.mms.outbound.pager",
            "unknown key 'pager'",
        ),
        (
            with_value("countries.US.failed_fee", "free"),
            "countries.US.failed_fee",
            "expected a decimal string, got 'free'",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_validation_errors_name_the_key_path(data: Any, path: str, detail: str) -> None:
    with pytest.raises(PricingError) as caught:
        read_price_table(data, name="bad")
    assert caught.value.table == "bad"
    assert caught.value.path == path
    prefix = f"price table 'bad': {path}: " if path else "price table 'bad': "
    assert str(caught.value).startswith(prefix)
    assert detail in str(caught.value)


def test_validation_error_example_wording() -> None:
    data = with_value(f"{S}.outbound.toll-free", "abc")
    with pytest.raises(PricingError) as caught:
        read_price_table(data, name="us")
    assert str(caught.value) == (
        "price table 'us': countries.US.sms.outbound.toll-free: "
        "expected a decimal string, got 'abc'"
    )


def test_boolean_country_key_from_yaml() -> None:
    data = yaml.safe_load('taken: "2026-11-28"\nsource: s\ncurrency: USD\ncountries: {NO: {}}\n')
    with pytest.raises(PricingError, match="quote the code"):
        read_price_table(data, name="bad")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("taken", "2026-02-28", "2026-02-28"),
        ("taken", yaml.safe_load("d: 2026-02-28")["d"], "2026-02-28"),
        (f"{S}.outbound.local", 0, D(0)),
        (f"{S}.outbound.local", 2, D(2)),
        (f"{S}.outbound.local", "0.00830", D("0.00830")),
    ],
)
def test_accepted_forms(field: str, value: Any, expected: Any) -> None:
    table = read_price_table(with_value(field, value), name="ok")
    if field == "taken":
        assert table.taken == expected
    else:
        assert table.unit_price(key()) == expected


def test_from_dict_does_not_keep_the_input() -> None:
    data = minimal()
    table = read_price_table(data, name="t")
    data["countries"]["US"]["sms"]["outbound"]["local"] = "9"
    assert table.unit_price(key()) == D("0.0083")


# --- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.0083", "-0.00830"),
        ("0.0249", "-0.02490"),
        ("0.0375", "-0.03750"),
        ("0.022", "-0.02200"),
        ("1.5", "-1.50000"),
        ("12", "-12.00000"),
        ("0.000004", "0.00000"),
        ("0.000005", "-0.00001"),
        ("0.123456", "-0.12346"),
        ("0.123455", "-0.12346"),
        ("0", "0.00000"),
        ("0.00", "0.00000"),
    ],
)
def test_format_price(amount: str, text: str) -> None:
    assert format_price(D(amount)) == text


@pytest.mark.parametrize("amount", ["-0.0083", "NaN", "Infinity"])
def test_format_price_rejects(amount: str) -> None:
    with pytest.raises(ValueError):
        format_price(D(amount))


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.0083", "0.0083"),
        ("0.0249", "0.0249"),
        ("0.02490", "0.0249"),
        ("0.001", "0.001"),
        ("0.1", "0.10"),
        ("1.5", "1.50"),
        ("12", "12.00"),
        ("1234.5", "1234.50"),
        ("0", "0.00"),
        ("0.000004", "0.00"),
        ("-0.000004", "0.00"),
        ("0.123456", "0.12346"),
        ("-0.0004", "-0.0004"),
        ("1E+2", "100.00"),
    ],
)
def test_format_money(amount: str, text: str) -> None:
    assert format_money(D(amount)) == text


def test_format_money_rejects_nan() -> None:
    with pytest.raises(ValueError):
        format_money(D("NaN"))
