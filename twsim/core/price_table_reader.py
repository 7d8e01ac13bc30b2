"""The checking reader of price-table data: parsed YAML in, a `PriceTable` out.

A price table file is read and parsed by the caller; `read_price_table` takes the resulting
mapping and checks every key on the way down, building the `CountryPrices` entries as it
goes. Anything wrong (an unknown or missing key, a country code that is not two capital
letters or ``"*"``, an amount that is not a non-negative decimal string or integer, a date
that is not ISO) raises `PricingError` naming the table and the key path, with a hint for
the usual YAML slips (unquoted floats, ``NO`` read as a boolean).

`PriceTable.from_dict` is the public way in; it delegates here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from twsim.core.pricing import (
    CATCH_ALL,
    DECIMAL_STRING,
    ZERO,
    Channel,
    CountryPrices,
    Direction,
    NumberType,
    PriceCell,
    PriceTable,
    PricingError,
    key_path,
)

_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_TOP_KEYS = ("name", "taken", "source", "currency", "countries")
_TOP_REQUIRED = ("taken", "source", "currency", "countries")
_COUNTRY_KEYS = ("sms", "mms", "carrier_fees", "failed_fee")
_CHANNELS = tuple(str(member) for member in Channel)
_DIRECTIONS = tuple(str(member) for member in Direction)
_NUMBER_TYPES = tuple(str(member) for member in NumberType)


def read_price_table(data: Mapping[str, Any], *, name: str) -> PriceTable:
    """Check `data` and build the table it describes (see `PriceTable.from_dict`)."""
    return _Reader(name).table(data)


class _Reader:
    """Checks parsed table data, raising `PricingError` with the offending key path."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def fail(self, path: str, detail: str) -> PricingError:
        return PricingError(self._name, path, detail)

    def table(self, data: Mapping[str, Any]) -> PriceTable:
        top = self.mapping(data, "")
        self.keys(top, "", _TOP_KEYS, _TOP_REQUIRED)
        countries = self.mapping(top["countries"], "countries")
        if not countries:
            raise self.fail("countries", "expected at least one country")
        entries: dict[str, CountryPrices] = {}
        for code, value in countries.items():
            code = self.country_code(code)
            entries[code] = self.country(code, value)
        return PriceTable(
            name=self.text(top["name"], "name") if "name" in top else self._name,
            taken=self.taken(top["taken"]),
            source=self.text(top["source"], "source"),
            currency=self.matching(top["currency"], "currency", _CURRENCY, 'a code like "USD"'),
            countries=entries,
        )

    def country(self, code: str, value: Any) -> CountryPrices:
        path = key_path("countries", code)
        body = self.mapping(value, path)
        self.keys(body, path, _COUNTRY_KEYS)
        prices: dict[PriceCell, Decimal] = {}
        for channel in (Channel.SMS, Channel.MMS):
            if channel in body:
                self.cells(body[channel], key_path(path, channel), channel, prices)
        if not prices:
            raise self.fail(path, "expected prices under 'sms' and/or 'mms'")
        fees: dict[PriceCell, Decimal] = {}
        if "carrier_fees" in body:
            fees_path = key_path(path, "carrier_fees")
            fee_body = self.mapping(body["carrier_fees"], fees_path)
            self.keys(fee_body, fees_path, _CHANNELS)
            for channel in (Channel.SMS, Channel.MMS):
                if channel in fee_body:
                    self.cells(fee_body[channel], key_path(fees_path, channel), channel, fees)
        failed = ZERO
        if "failed_fee" in body:
            failed = self.decimal(body["failed_fee"], key_path(path, "failed_fee"))
        return CountryPrices(country=code, prices=prices, carrier_fees=fees, failed_fee=failed)

    def cells(
        self, value: Any, path: str, channel: Channel, into: dict[PriceCell, Decimal]
    ) -> None:
        by_direction = self.mapping(value, path)
        self.keys(by_direction, path, _DIRECTIONS)
        for direction_name, by_type in by_direction.items():
            direction = Direction(direction_name)
            direction_path = key_path(path, direction)
            types = self.mapping(by_type, direction_path)
            self.keys(types, direction_path, _NUMBER_TYPES)
            for type_name, amount in types.items():
                number_type = NumberType(type_name)
                into[channel, direction, number_type] = self.decimal(
                    amount, key_path(direction_path, number_type)
                )

    def mapping(self, value: Any, path: str) -> Mapping[Any, Any]:
        if not isinstance(value, Mapping):
            where = "" if path else " at the top level"
            raise self.fail(path, f"expected a mapping{where}, got {_kind(value)}")
        return value

    def keys(
        self,
        body: Mapping[Any, Any],
        path: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> None:
        allowed = tuple(allowed)
        for key in body:
            if not isinstance(key, str) or key not in allowed:
                raise self.fail(
                    key_path(path, str(key)),
                    f"unknown key {key!r} (expected one of: {', '.join(allowed)})",
                )
        for key in required:
            if key not in body:
                raise self.fail(key_path(path, key), "missing required key")

    def country_code(self, code: Any) -> str:
        if isinstance(code, str) and (code == CATCH_ALL or _COUNTRY.fullmatch(code)):
            return code
        detail = f"expected a country code (two capital letters, or {CATCH_ALL!r}), got {code!r}"
        if isinstance(code, bool):
            detail += "; YAML reads unquoted NO, YES, ON, OFF as booleans, so quote the code"
        raise self.fail(key_path("countries", str(code)), detail)

    def decimal(self, value: Any, path: str) -> Decimal:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return Decimal(value)
        if isinstance(value, str) and DECIMAL_STRING.fullmatch(value):
            return Decimal(value)
        detail = f"expected a decimal string, got {value!r}"
        if isinstance(value, float):
            detail += f'; quote it so it stays exact: "{value}"'
        elif (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.strip().startswith("-")
        ):
            detail += "; amounts are non-negative (a charge is negated only when formatted)"
        raise self.fail(path, detail)

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected a non-empty string, got {value!r}")
        return value

    def matching(self, value: Any, path: str, pattern: re.Pattern[str], like: str) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise self.fail(path, f"expected {like}, got {value!r}")
        return value

    def taken(self, value: Any) -> str:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        like = 'an ISO date like "2026-11-28"'
        text = self.matching(value, "taken", _ISO_DATE, like)
        try:
            date.fromisoformat(text)
        except ValueError:
            raise self.fail("taken", f"expected {like}, got {value!r}") from None
        return text


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
