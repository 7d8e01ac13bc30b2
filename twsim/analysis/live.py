"""A run's figures at one moment, for live progress: what was sent, answered and spent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from twsim.analysis.report import ReportBuilder


@dataclass(slots=True)
class Snapshot:
    """What a run has done so far; None where a figure does not apply to the run."""

    sent: int
    planned: int | None = None  # texts (requests, messages) planned so far
    due: int | None = None  # how many of them the plan wanted sent by now
    remaining_s: float | None = None  # seconds of the plan still to come
    answered: int | None = None  # webhooks answered (or failed)
    replies: int | None = None
    rest_sends: int | None = None
    errors: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    cost: Decimal = Decimal(0)
    currency: str = "USD"
    unit: str = "texts"
    phase: str = ""  # what the run is doing, when it is not sending (say, waiting for answers)


def snapshot(
    live: ReportBuilder,
    sent: int,
    *,
    planned: int | None = None,
    due: int | None = None,
    remaining_s: float | None = None,
    phase: str = "",
) -> Snapshot:
    """The figures the gateway's events give (answers, replies, errors, latency, cost)."""
    latency = live.webhook_latency
    measured = latency.get_total_count() > 0
    return Snapshot(
        sent=sent,
        answered=live.webhooks,
        replies=live.replies + live.auto_replies,
        rest_sends=live.api_sends,
        errors=sum(live.errors.values()),
        p50_ms=latency.get_value_at_percentile(50) / 1000 if measured else None,
        p99_ms=latency.get_value_at_percentile(99) / 1000 if measured else None,
        cost=live.cost_so_far,
        currency=live.currency,
        planned=planned,
        due=due,
        remaining_s=remaining_s,
        phase=phase,
    )
