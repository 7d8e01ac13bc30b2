"""What the report counts per text and per outbound message, and the totals it sums."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from twsim.core.pricing import format_money

ZERO = Decimal(0)


def ratio(part: float | Decimal, whole: int) -> float:
    return round(float(part) / whole, 4) if whole else 0.0


@dataclass(slots=True)
class TextTally:
    """One inbound text and what it caused, as the report counts it."""

    sender: str
    body: str
    position: int
    segments: int
    outbound: int = 0
    outbound_segments: int = 0
    cost: Decimal = ZERO
    answered: bool = False


@dataclass(slots=True)
class OutboundTally:
    """One outbound message as the report counts it."""

    inbound: str | None
    origin: str
    attributed: str | None  # how the inbound was found (twsim.model.attribution)
    segments: int
    status: str
    body: str
    encoding: str
    ucs2_chars: str


@dataclass(slots=True)
class Totals:
    count: int = 0
    segments: int = 0
    cost: Decimal = ZERO

    def add(self, segments: int = 0, cost: Decimal = ZERO, count: int = 1) -> None:
        self.count += count
        self.segments += segments
        self.cost += cost

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "segments": self.segments, "cost": format_money(self.cost)}
