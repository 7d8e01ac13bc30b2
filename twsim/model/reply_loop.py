"""Twilio's reply-loop guard: at most N replies between two numbers in a window (14107)."""

from __future__ import annotations

from collections import deque


class ReplyLoopGuard:
    def __init__(self, limit: int = 30, window_s: float = 30.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._sent: dict[tuple[str, str], deque[float]] = {}

    def allow(self, sender: str, recipient: str, now: float) -> bool:
        """Count one reply from `sender` to `recipient`; False once the pair is over the limit."""
        times = self._sent.setdefault((sender, recipient), deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def clear(self) -> None:
        self._sent.clear()
