"""What the report counts per text, per outbound message, per sender and per text position,
the totals it sums, and the bounds that keep those tables small however long the run."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from twsim.core.pricing import format_money

ZERO = Decimal(0)

K = TypeVar("K")
V = TypeVar("V")


def ratio(part: float | Decimal, whole: int) -> float:
    return round(float(part) / whole, 4) if whole else 0.0


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """How much a report builder keeps one by one. Totals, amplification, histograms,
    errors and status counts are exact whatever these are; the per-text and per-sender
    tables are exact while a run stays within them.

    - `texts`, `messages`: the latest inbound texts and outbound messages looked up when
      what they caused (replies, charges, status changes) arrives; those come within
      seconds, so only a run that answers texts this far behind loses any.
    - `senders`: distinct senders counted for positions, worst senders and repeated
      answers; texts from further senders count in the totals only.
    - `positions`: a sender's texts beyond this position count in the last row.
    - `answers`: (sender, body) pairs remembered for repeated answers; past it, pairs
      answered only once are forgotten first.
    - `chars`: distinct characters counted for the UCS-2 table.
    """

    texts: int = 20_000
    messages: int = 20_000
    senders: int = 100_000
    positions: int = 1_000
    answers: int = 100_000
    chars: int = 10_000
    answer_chars: int = 160  # of a body, to tell repeated answers apart


class Recent(OrderedDict[K, V], Generic[K, V]):
    """A mapping that keeps only its latest `limit` insertions."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.dropped = 0

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        if len(self) > self.limit:
            self.popitem(last=False)
            self.dropped += 1


@dataclass(slots=True)
class TextTally:
    """One inbound text and what it caused, as the report counts it."""

    sender: str
    answer_key: str  # its body as repeated answers compare it
    position: int
    segments: int
    tracked: bool  # its sender is in the per-sender tables
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
    caused: bool  # its inbound is one of the run's texts
    extra_segments: int = 0  # segments UCS-2 added over GSM-7


@dataclass(slots=True)
class GroupTally:
    """Texts of one sender or one text position, and what they caused."""

    inbound: int = 0
    outbound: int = 0
    cost: Decimal = ZERO


@dataclass(slots=True)
class Ucs2Tally:
    """Outbound messages sent as UCS-2: how many, which characters, what they added."""

    messages: int = 0
    extra_segments: int = 0
    extra_cost: Decimal = ZERO


@dataclass(slots=True)
class Totals:
    count: int = 0
    segments: int = 0
    cost: Decimal = ZERO

    def add(self, segments: int = 0, cost: Decimal = ZERO, count: int = 1) -> None:
        self.count += count
        self.segments += segments
        self.cost += cost

    def copy(self) -> Totals:
        return Totals(self.count, self.segments, self.cost)

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "segments": self.segments, "cost": format_money(self.cost)}
