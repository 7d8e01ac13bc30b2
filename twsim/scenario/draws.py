"""Repeatable random draws that do not depend on the order they are asked for.

Each draw is a pure function of the seed and a few integer keys (student, text number,
purpose), so two runs with one seed draw the same values even when concurrency changes
which student acts first, and no student needs a `random.Random` of its own.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence

_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def stable_seed(seed: int | str) -> int:
    if isinstance(seed, int):
        return seed & _MASK
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")


class Draws:
    __slots__ = ("seed",)

    def __init__(self, seed: int | str) -> None:
        self.seed = _mix(stable_seed(seed))

    def bits(self, *keys: int) -> int:
        x = self.seed
        for key in keys:
            x = _mix(x ^ (key & _MASK))
        return x

    def unit(self, *keys: int) -> float:
        """A float in [0, 1)."""
        return (self.bits(*keys) >> 11) * (1.0 / (1 << 53))

    def uniform(self, low: float, high: float, *keys: int) -> float:
        return low + (high - low) * self.unit(*keys)

    def chance(self, probability: float, *keys: int) -> bool:
        return probability >= 1.0 or (probability > 0.0 and self.unit(*keys) < probability)

    def integer(self, low: int, high: int, *keys: int) -> int:
        """An int in [low, high]."""
        return low + self.bits(*keys) % (high - low + 1)

    def weighted(self, cumulative: Sequence[float], *keys: int) -> int:
        """An index drawn with the weights whose running totals are `cumulative`."""
        return bisect.bisect_right(cumulative, self.unit(*keys) * cumulative[-1])
