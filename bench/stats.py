"""Median and range of a few repeats, and percentiles of a sample."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    low: float
    high: float
    values: tuple[float, ...]

    def to_json(self, digits: int = 4) -> dict[str, object]:
        return {
            "median": round(self.median, digits),
            "low": round(self.low, digits),
            "high": round(self.high, digits),
            "values": [round(v, digits) for v in self.values],
        }


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("no values")
    return Spread(statistics.median(values), min(values), max(values), tuple(values))


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sample."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
