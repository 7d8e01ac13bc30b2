"""Which inbound text caused a message the app sent through the REST API.

A reply created from TwiML names its inbound directly (`twiml`). A REST send carries no
such link, so it is attributed by this rule:

1. While webhooks of the sender's account are in flight, the send belongs to one of them
   (`in-flight`).
2. Only when none is in flight, it belongs to a webhook that finished at most `window_s`
   seconds before (`conversation` when that webhook's texter is the send's recipient,
   else `window`).
3. Otherwise it is unattributed: it counts in the totals, never in any text's figures.

Among several candidates the preferred one is, in order: the webhook on the number the
send goes out from (or on a number of its Messaging Service); then the one whose texter
is the send's recipient; then the one that has caused the fewest REST sends so far (so
concurrent webhooks that each send one notification get one each); then the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

from twsim.model.clock import Clock

TWIML = "twiml"
IN_FLIGHT = "in-flight"
WINDOW = "window"
CONVERSATION = "conversation"
METHODS = (TWIML, IN_FLIGHT, WINDOW, CONVERSATION)


@dataclass(frozen=True, slots=True)
class Cause:
    """What caused an event: the inbound at the root, the webhook attempt, and how we know."""

    inbound: str | None = None
    attempt: str | None = None
    how: str | None = None


@dataclass(frozen=True, slots=True)
class Send:
    """What a REST send says about itself: account, recipient, and where it goes out from."""

    account: str
    to: str
    from_: str | None = None
    service: str | None = None


@dataclass(slots=True)
class _Exchange:
    """One inbound text's webhooks: where the text came from and went, and their state."""

    inbound: str
    attempt: str | None
    account: str
    phone: str
    number: str
    service: str | None
    opened: float
    order: int
    in_flight: int = 0
    closed: float | None = None
    sends: int = 0


class Attribution:
    def __init__(self, clock: Clock, window_s: float) -> None:
        self._clock = clock
        self.window_s = window_s
        self._exchanges: dict[str, _Exchange] = {}
        self._opened = 0

    def opened(
        self,
        inbound: str,
        attempt: str | None,
        *,
        account: str,
        phone: str,
        number: str,
        service: str | None = None,
    ) -> None:
        """A webhook for `inbound` (from `phone` to `number`) started."""
        now = self._clock.monotonic()
        self._opened += 1
        exchange = self._exchanges.get(inbound)
        if exchange is None:
            exchange = _Exchange(
                inbound, attempt, account, phone, number, service, now, self._opened
            )
            self._exchanges[inbound] = exchange
        exchange.attempt = attempt
        exchange.in_flight += 1
        exchange.opened = now
        exchange.order = self._opened
        exchange.closed = None

    def closed(self, inbound: str) -> None:
        exchange = self._exchanges.get(inbound)
        if exchange is None:
            return
        exchange.in_flight = max(0, exchange.in_flight - 1)
        if exchange.in_flight == 0:
            exchange.closed = self._clock.monotonic()

    def cause_for(self, send: Send) -> Cause:
        """The inbound a REST send belongs to, and how; an empty Cause when none."""
        now = self._clock.monotonic()
        self._forget_before(now - self.window_s)
        mine = [e for e in self._exchanges.values() if e.account == send.account]
        in_flight = [e for e in mine if e.in_flight > 0]
        if in_flight:
            chosen = max(in_flight, key=lambda e: self._preference(e, send))
            how = IN_FLIGHT
        else:
            recent = [e for e in mine if e.closed is not None]
            if not recent:
                return Cause()
            chosen = max(recent, key=lambda e: self._preference(e, send))
            how = CONVERSATION if chosen.phone == send.to else WINDOW
        chosen.sends += 1
        return Cause(chosen.inbound, chosen.attempt, how)

    @staticmethod
    def _preference(e: _Exchange, send: Send) -> tuple[bool, bool, int, int]:
        same_sender = e.number == send.from_ or (
            send.service is not None and e.service == send.service
        )
        return (same_sender, e.phone == send.to, -e.sends, e.order)

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
