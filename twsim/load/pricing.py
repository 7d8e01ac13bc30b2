"""Prices of a load run's traffic, looked up once per price key and segment count."""

from __future__ import annotations

from decimal import Decimal

from twsim.core.pricing import Channel, Direction, NumberType, PriceKey, PriceTable, PricingError


class PriceCache:
    """`PriceTable.charge` memoised by (country, direction, channel, segments); a country
    the table does not price costs 0 (the load mode only estimates)."""

    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        self._cache: dict[tuple[str, Direction, Channel, int], Decimal] = {}

    def price(self, country: str, direction: Direction, channel: Channel, segments: int) -> Decimal:
        key = (country, direction, channel, segments)
        cost = self._cache.get(key)
        if cost is None:
            try:
                cost = self.prices.charge(
                    PriceKey(country, NumberType.LOCAL, direction, channel), segments
                ).total
            except PricingError:
                cost = Decimal(0)
            self._cache[key] = cost
        return cost

    def inbound(self, country: str, channel: Channel, segments: int) -> Decimal:
        return self.price(country, Direction.INBOUND, channel, segments)

    def outbound(self, country: str, channel: Channel, segments: int) -> Decimal:
        return self.price(country, Direction.OUTBOUND, channel, segments)
