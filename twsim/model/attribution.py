"""Which inbound message caused a REST-created message.

A reply created from TwiML names its inbound directly. A message the app creates through
the REST API carries no such link, so it is attributed to the conversation whose webhook
was in flight when it was created, or that ended at most `window_s` before: the latest
webhook for the same phone, else the latest webhook of the same account still in flight.
"""

from __future__ import annotations

from dataclasses import dataclass

from twsim.model.clock import Clock


@dataclass(frozen=True, slots=True)
class Cause:
    """What caused an event: the inbound at the root, the webhook attempt, and how we know."""

    inbound: str | None = None
    attempt: str | None = None
    how: str | None = None


@dataclass(slots=True)
class _Exchange:
    inbound: str
    attempt: str | None
    account: str
    phone: str
    number: str
    opened: float
    in_flight: int = 1
    closed: float | None = None


class Attribution:
    def __init__(self, clock: Clock, window_s: float) -> None:
        self._clock = clock
        self.window_s = window_s
        self._exchanges: dict[str, _Exchange] = {}

    def opened(
        self, inbound: str, attempt: str | None, *, account: str, phone: str, number: str
    ) -> None:
        """A webhook for `inbound` (from `phone` to `number`) started."""
        now = self._clock.monotonic()
        current = self._exchanges.pop(inbound, None)
        if current is None:
            current = _Exchange(inbound, attempt, account, phone, number, now, in_flight=0)
        current.attempt = attempt
        current.in_flight += 1
        current.opened = now
        current.closed = None
        self._exchanges[inbound] = current  # re-insert: latest opened last

    def closed(self, inbound: str) -> None:
        exchange = self._exchanges.get(inbound)
        if exchange is None:
            return
        exchange.in_flight = max(0, exchange.in_flight - 1)
        if exchange.in_flight == 0:
            exchange.closed = self._clock.monotonic()

    def cause_for(self, account: str, recipient: str) -> Cause | None:
        """The inbound a REST-created message to `recipient` belongs to, if any."""
        now = self._clock.monotonic()
        self._forget_before(now - self.window_s)
        concurrent: _Exchange | None = None
        for exchange in reversed(self._exchanges.values()):
            if exchange.account != account:
                continue
            if exchange.phone == recipient:
                return Cause(exchange.inbound, exchange.attempt, "conversation")
            if concurrent is None and exchange.in_flight > 0:
                concurrent = exchange
        if concurrent is not None:
            return Cause(concurrent.inbound, concurrent.attempt, "concurrent")
        return None

    def _forget_before(self, horizon: float) -> None:
        stale = [
            k
            for k, e in self._exchanges.items()
            if e.in_flight == 0 and e.closed is not None and e.closed < horizon
        ]
        for key in stale:
            del self._exchanges[key]

    def clear(self) -> None:
        self._exchanges.clear()
