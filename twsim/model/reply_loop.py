"""Twilio's reply-loop guard: at most N replies between two numbers in a window (14107)."""

from __future__ import annotations

from collections import deque

# Pairs are swept for ones with no reply in the window every this many replies, so a run
# with many distinct phones keeps only the pairs that are still counting.
_SWEEP_EVERY = 4096


class ReplyLoopGuard:
    def __init__(self, limit: int = 30, window_s: float = 30.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._calls = 0

    def allow(self, sender: str, recipient: str, now: float) -> bool:
        """Count one reply from `sender` to `recipient`; False once the pair is over the limit."""
        self._calls += 1
        if self._calls % _SWEEP_EVERY == 0:
            self._sweep(now)
        times = self._sent.setdefault((sender, recipient), deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def _sweep(self, now: float) -> None:
        stale = [
            k for k, times in self._sent.items() if not times or now - times[-1] >= self.window_s
        ]
        for key in stale:
            del self._sent[key]

    def clear(self) -> None:
        self._sent.clear()
