"""Price tables and charges: what a message costs, in exact decimal money.

A price table gives, per country, the price of one billing unit for each channel (SMS, MMS),
direction (inbound, outbound) and sender number type (local, toll-free, short code), the
carriers' pass-through fees for the same cells, and an optional failed-message processing
fee. Tables are plain data (see ``fixtures/prices/us.yaml``); the caller reads the file and
hands the parsed mapping to `PriceTable.from_dict`, which checks the whole structure and
names the key path of anything wrong (the checks live in `twsim.core.price_table_reader`).

Billing rules, as Twilio bills:

- SMS is billed per segment, MMS per message (`billing_units`). Carrier fees use the same
  unit, so a 3-segment SMS pays three carrier fees.
- Prices and fees are `Decimal`; nothing is rounded until it is formatted.
- Country lookup: the exact ISO code, else the table's ``"*"`` entry when it has one, else
  `PricingError`. There is no silent default: a table covers only what it lists.
- A price cell the country does not list (say, MMS from a short code) is a `PricingError`
  naming the missing key path. A carrier-fee cell that is not listed means no carrier fee.
- The failed-message processing fee (``failed_fee``, per country, zero when absent) is
  charged per outbound message that ends ``failed``, instead of its usual price:
  `PriceTable.failed_fee` makes that charge. Charges carry a `ChargeKind` so `reprice`
  knows which figure to look up.

`format_price` renders a Message resource's ``price`` (negative, five decimals);
`format_money` renders amounts in reports (trimmed, at least two decimals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Channel(StrEnum):
    SMS = "sms"
    MMS = "mms"


class NumberType(StrEnum):
    LOCAL = "local"
    TOLL_FREE = "toll-free"
    SHORT_CODE = "short-code"


class ChargeKind(StrEnum):
    """What a charge pays for: a message's usual price, or the failed-message fee."""

    MESSAGE = "message"
    FAILED = "failed"


CATCH_ALL = "*"
"""The country key a table may use for every country it does not list."""

ZERO = Decimal(0)

PriceCell = tuple[Channel, Direction, NumberType]
"""One cell of a country's prices: channel, direction and sender number type."""

DECIMAL_STRING = re.compile(r"[0-9]+(\.[0-9]+)?")
"""How a table writes an amount: digits, optionally a point and more digits; no sign."""

_E = TypeVar("_E", bound=StrEnum)


class PricingError(ValueError):
    """A price table is malformed, or has no figure for what was asked.

    The message names the table and the key path (``countries.US.sms.outbound.local``).
    """

    def __init__(self, table: str, path: str, detail: str) -> None:
        self.table = table
        self.path = path
        self.detail = detail
        where = f"{path}: " if path else ""
        super().__init__(f"price table {table!r}: {where}{detail}")


@dataclass(frozen=True, slots=True)
class PriceKey:
    """Everything that selects a price: enough to price the same traffic with another table."""

    country: str
    number_type: NumberType
    direction: Direction
    channel: Channel


@dataclass(frozen=True, slots=True)
class Charge:
    """The cost of one message (or of its failure), in its table's currency.

    `carrier_fee` is the total of the carrier fees for this charge (per-unit fee * units).
    """

    key: PriceKey
    units: int
    unit_price: Decimal
    carrier_fee: Decimal
    kind: ChargeKind = ChargeKind.MESSAGE

    @property
    def base(self) -> Decimal:
        return self.unit_price * self.units

    @property
    def total(self) -> Decimal:
        return self.base + self.carrier_fee

    def to_dict(self) -> dict[str, str | int]:
        """A JSON-ready form: enums by value, money as decimal strings."""
        return {
            "country": self.key.country,
            "number_type": str(self.key.number_type),
            "direction": str(self.key.direction),
            "channel": str(self.key.channel),
            "kind": str(self.kind),
            "units": self.units,
            "unit_price": f"{self.unit_price:f}",
            "carrier_fee": f"{self.carrier_fee:f}",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Charge:
        """The inverse of `to_dict`; raises ValueError on a malformed mapping."""
        try:
            key = PriceKey(
                country=str(data["country"]),
                number_type=NumberType(data["number_type"]),
                direction=Direction(data["direction"]),
                channel=Channel(data["channel"]),
            )
            units = data["units"]
            if isinstance(units, bool) or not isinstance(units, int):
                raise ValueError(f"units must be an integer, got {units!r}")
            return cls(
                key=key,
                units=units,
                unit_price=_plain_decimal(data["unit_price"]),
                carrier_fee=_plain_decimal(data["carrier_fee"]),
                kind=ChargeKind(data.get("kind", ChargeKind.MESSAGE)),
            )
        except KeyError as missing:
            raise ValueError(f"charge is missing {missing.args[0]!r}") from None


@dataclass(frozen=True, slots=True)
class CountryPrices:
    """One country's entry in a price table. `prices` and `carrier_fees` are per unit."""

    country: str
    prices: Mapping[PriceCell, Decimal]
    carrier_fees: Mapping[PriceCell, Decimal] = field(default_factory=dict)
    failed_fee: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PriceTable:
    """A named, dated price table. Build it with `from_dict`."""

    name: str
    taken: str  # ISO date the figures were taken
    source: str
    currency: str  # ISO 4217, e.g. "USD"
    countries: Mapping[str, CountryPrices]
    _charges: dict[tuple[PriceKey, int], Charge] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def country_prices(self, country: str) -> CountryPrices:
        """The entry for `country`: its own, else the catch-all, else `PricingError`."""
        found = self.countries.get(country)
        if found is None:
            found = self.countries.get(CATCH_ALL)
        if found is not None:
            return found
        hint = ""
        if isinstance(country, str) and country.upper() in self.countries:
            hint = "; country codes are upper case"
        listed = ", ".join(sorted(self.countries))
        raise PricingError(
            self.name,
            key_path("countries", str(country)),
            f"no prices for country {country!r} (the table lists {listed} and has no "
            f"{CATCH_ALL!r} catch-all entry{hint})",
        )

    def unit_price(self, key: PriceKey) -> Decimal:
        """The price of one billing unit for `key`."""
        entry, cell = self._resolve(key)
        price = entry.prices.get(cell)
        if price is None:
            channel, direction, number_type = cell
            raise PricingError(
                self.name,
                key_path("countries", entry.country, channel, direction, number_type),
                f"no {channel} {direction} price for {number_type} numbers in "
                f"{_country_label(key.country, entry)}",
            )
        return price

    def carrier_fee(self, key: PriceKey) -> Decimal:
        """The carrier fee per billing unit for `key` (zero when the table lists none)."""
        entry, cell = self._resolve(key)
        return entry.carrier_fees.get(cell, ZERO)

    def charge(self, key: PriceKey, segments: int) -> Charge:
        """The charge for one message of `segments` segments (SMS per segment, MMS per message).

        Charges are values, so each (key, segments) is priced once and then reused.
        """
        cached = self._charges.get((key, segments))
        if cached is not None:
            return cached
        units = billing_units(key.channel, segments)
        charge = Charge(
            key=key,
            units=units,
            unit_price=self.unit_price(key),
            carrier_fee=self.carrier_fee(key) * units,
        )
        self._charges[(key, segments)] = charge
        return charge

    def failed_fee(self, key: PriceKey) -> Charge:
        """The failed-message processing fee for an outbound message that ended ``failed``.

        It replaces the message's usual charge: one unit, no carrier fee.
        """
        if key.direction != Direction.OUTBOUND:
            raise ValueError("the failed-message processing fee applies to outbound messages")
        entry, _ = self._resolve(key)
        return Charge(
            key=key, units=1, unit_price=entry.failed_fee, carrier_fee=ZERO, kind=ChargeKind.FAILED
        )

    def reprice(self, charge: Charge) -> Charge:
        """The same key, units and kind priced with this table (for what-if reports)."""
        if charge.kind == ChargeKind.FAILED:
            return self.failed_fee(charge.key)
        return Charge(
            key=charge.key,
            units=charge.units,
            unit_price=self.unit_price(charge.key),
            carrier_fee=self.carrier_fee(charge.key) * charge.units,
        )

    def _resolve(self, key: PriceKey) -> tuple[CountryPrices, PriceCell]:
        entry = self.country_prices(key.country)
        path = key_path("countries", entry.country)
        channel = _member(Channel, key.channel, self.name, path, "channel")
        path = key_path(path, channel)
        direction = _member(Direction, key.direction, self.name, path, "direction")
        path = key_path(path, direction)
        number_type = _member(NumberType, key.number_type, self.name, path, "number type")
        return entry, (channel, direction, number_type)


def billing_units(channel: Channel, segments: int) -> int:
    """How many units a message is billed for: its segments for SMS, one for MMS."""
    if channel == Channel.MMS:
        if segments < 0:
            raise ValueError(f"segments must not be negative, got {segments}")
        return 1
    if segments < 1:
        raise ValueError(f"an SMS has at least one segment, got {segments}")
    return segments


_PLACES = Decimal("0.00001")


def format_price(amount: Decimal) -> str:
    """A Message resource's ``price``: the charge negated, five decimals (half-up).

    ``Decimal("0.0083")`` gives ``"-0.00830"``; a zero charge gives ``"0.00000"``.
    """
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"a charge is a finite, non-negative amount, got {amount}")
    rounded = amount.quantize(_PLACES, rounding=ROUND_HALF_UP)
    if rounded == 0:
        return f"{ZERO.quantize(_PLACES):f}"
    return f"{-rounded:f}"


def format_money(amount: Decimal) -> str:
    """An amount for reports: rounded half-up to five decimals, trailing zeros trimmed to
    at least two decimals, sign kept (differences can be negative), no grouping.

    ``0.0083`` -> ``"0.0083"``, ``0.0249`` -> ``"0.0249"``, ``1.5`` -> ``"1.50"``,
    ``12`` -> ``"12.00"``, ``-0.0004`` -> ``"-0.0004"``.
    """
    if not amount.is_finite():
        raise ValueError(f"an amount is finite, got {amount}")
    rounded = amount.quantize(_PLACES, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    whole, _, fraction = f"{rounded:f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def key_path(*parts: str) -> str:
    """The dotted key path a `PricingError` names (``countries.US.sms``); empty parts skipped."""
    return ".".join(part for part in parts if part)


def _country_label(asked: str, entry: CountryPrices) -> str:
    if entry.country == asked:
        return asked
    return f"{asked} (via the {CATCH_ALL!r} entry)"


def _member(enum: type[_E], value: Any, table: str, path: str, what: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(str(member) for member in enum)
        raise PricingError(
            table,
            key_path(path, str(value)),
            f"unknown {what} {value!r} (expected one of: {allowed})",
        ) from None


def _plain_decimal(value: Any) -> Decimal:
    if isinstance(value, str) and DECIMAL_STRING.fullmatch(value):
        return Decimal(value)
    raise ValueError(f"expected a decimal string, got {value!r}")
