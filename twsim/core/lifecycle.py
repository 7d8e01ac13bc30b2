"""A message's life: statuses, how an outbound message travels, and how fast a sender drains.

Pure rules only. The asynchronous runner that waits between steps and calls status
callbacks lives at the edge and asks this module what to do.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from twsim.core.pricing import NumberType


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    RECEIVING = "receiving"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    READ = "read"
    PARTIALLY_DELIVERED = "partially_delivered"
    CANCELED = "canceled"


class MessageDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND_API = "outbound-api"
    OUTBOUND_CALL = "outbound-call"
    OUTBOUND_REPLY = "outbound-reply"


FINAL_STATUSES = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.RECEIVED,
        MessageStatus.CANCELED,
        MessageStatus.READ,
    }
)

# Statuses that make Twilio call the status callback. The initial status never does, and
# `sending` is an internal step Twilio does not report.
CALLBACK_STATUSES = frozenset(
    {
        MessageStatus.QUEUED,
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.CANCELED,
    }
)

# Twilio's test-credential numbers, used as presets: a REST create with one of these
# fails synchronously with the code given.
MAGIC_TO = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
MAGIC_FROM = {
    "+15005550001": 21212,
    "+15005550007": 21606,
    "+15005550008": 21611,
}

# Sender throughput, segments per second (US defaults from Twilio's rate-limit guidance).
SENDER_RATE: dict[NumberType, float] = {
    NumberType.LOCAL: 1.0,
    NumberType.TOLL_FREE: 3.0,
    NumberType.SHORT_CODE: 100.0,
}
# A sender's queue holds at most this many seconds' worth of segments (10 hours).
MAX_QUEUE_SECONDS = 36_000.0

# Error codes a carrier reports with each final failure status.
UNDELIVERED_CODES = (30003, 30005, 30006, 30007, 30008)
FAILED_CODES = (30001, 30004, 30008)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an outbound message ends."""

    status: MessageStatus
    error_code: int | None = None

    def __post_init__(self) -> None:
        if self.status not in (
            MessageStatus.DELIVERED,
            MessageStatus.UNDELIVERED,
            MessageStatus.FAILED,
        ):
            raise ValueError(f"an outcome is delivered, undelivered or failed, not {self.status}")
        if self.status is MessageStatus.DELIVERED and self.error_code is not None:
            raise ValueError("a delivered message carries no error code")


DELIVERED = Outcome(MessageStatus.DELIVERED)


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """Messages whose `To` matches `to` (a glob like ``+1555*``) end as `outcome`,
    with `probability` (drawn from the run's seeded RNG)."""

    to: str
    outcome: Outcome
    probability: float = 1.0

    def matches(self, to: str) -> bool:
        return fnmatch.fnmatchcase(to, self.to)


class OutcomePolicy:
    """Decides each outbound message's outcome: the first matching rule that fires wins."""

    def __init__(self, rules: Sequence[OutcomeRule] = ()) -> None:
        self.rules = tuple(rules)

    def decide(self, to: str, rng: random.Random) -> Outcome:
        for rule in self.rules:
            if rule.matches(to) and (rule.probability >= 1.0 or rng.random() < rule.probability):
                return rule.outcome
        return DELIVERED


@dataclass(frozen=True, slots=True)
class Step:
    """After `delay` seconds, the message takes `status` (with `error_code`)."""

    delay: float
    status: MessageStatus
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class Timing:
    """How long the carrier takes. Zeros (the default) make every step immediate."""

    send_s: tuple[float, float] = (0.0, 0.0)
    deliver_s: tuple[float, float] = (0.0, 0.0)

    @property
    def instant(self) -> bool:
        return self.send_s == (0.0, 0.0) and self.deliver_s == (0.0, 0.0)


INSTANT = Timing()
REALISTIC = Timing(send_s=(0.05, 0.4), deliver_s=(0.5, 3.0))


def _between(bounds: tuple[float, float], rng: random.Random) -> float:
    low, high = bounds
    return low if high <= low else rng.uniform(low, high)


def delivery_steps(
    outcome: Outcome, timing: Timing, rng: random.Random, queue_delay: float = 0.0
) -> list[Step]:
    """The statuses a queued outbound message goes through, with the wait before each."""
    sending = Step(queue_delay, MessageStatus.SENDING)
    if outcome.status is MessageStatus.FAILED:
        return [
            sending,
            Step(_between(timing.send_s, rng), MessageStatus.FAILED, outcome.error_code),
        ]
    sent = Step(_between(timing.send_s, rng), MessageStatus.SENT)
    final = Step(_between(timing.deliver_s, rng), outcome.status, outcome.error_code)
    return [sending, sent, final]


class SenderQueue:
    """One sender's outgoing queue: segments drain at the sender's rate."""

    __slots__ = ("_free_at", "rate")

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._free_at = 0.0

    def admit(self, now: float, segments: int, max_wait: float = MAX_QUEUE_SECONDS) -> float | None:
        """Queue a message; the seconds until it starts sending, or None when the queue is full."""
        start = max(now, self._free_at)
        wait = start - now
        if wait > max_wait:
            return None
        self._free_at = start + segments / self.rate
        return wait

    def backlog(self, now: float) -> float:
        """Seconds of segments still waiting."""
        return max(0.0, self._free_at - now)
