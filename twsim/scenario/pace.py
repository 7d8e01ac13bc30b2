"""A plan's pace: how many texts it wanted sent by a given time, for live progress.

Planned times are counted in tenths of a second as they are planned, in any order; asking
how many were due by `t` only ever moves forwards, so both cost O(1) amortised, however
long the run.
"""

from __future__ import annotations

from collections import Counter

_STEP = 10  # buckets per planned second


class Pace:
    def __init__(self) -> None:
        self.planned = 0
        self.last_s = 0.0
        self._buckets: Counter[int] = Counter()
        self._counted_to = 0  # buckets below this are in `_due`
        self._due = 0

    def plan(self, at_s: float) -> None:
        """One more text planned at `at_s` (planned seconds from the start)."""
        self.planned += 1
        self.last_s = max(self.last_s, at_s)
        bucket = int(at_s * _STEP)
        if bucket < self._counted_to:
            self._due += 1
        else:
            self._buckets[bucket] += 1

    def due(self, at_s: float) -> int:
        """How many of the texts planned so far were due by `at_s` (planned seconds)."""
        upto = int(at_s * _STEP) + 1
        if upto - self._counted_to > len(self._buckets):  # a long jump: walk the buckets
            for bucket in [b for b in self._buckets if b < upto]:
                self._due += self._buckets.pop(bucket)
        else:
            for bucket in range(self._counted_to, upto):
                self._due += self._buckets.pop(bucket, 0)
        self._counted_to = max(self._counted_to, upto)
        return self._due
