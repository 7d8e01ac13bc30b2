"""Comparing two runs: amplification, cost, latency, errors, and what the app answered.

Conversations are matched by (sender, n-th text of that sender), so a replay of a
recording lines up text for text with the original run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from twsim.analysis.report import Report, build
from twsim.analysis.text import side_by_side
from twsim.core.pricing import PriceTable, format_money
from twsim.model.events import Event, InboundReceived, MessageCreated


@dataclass(frozen=True, slots=True)
class Exchange:
    """One inbound text and the bodies of the messages its sender got back."""

    body: str
    answers: tuple[str, ...]


def conversations(events: Iterable[Event]) -> dict[tuple[str, int], Exchange]:
    texts: dict[str, tuple[str, int, str]] = {}
    answers: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        if isinstance(event, InboundReceived) and event.inbound:
            sender = event.from_
            texts[event.inbound] = (sender, counts[sender], event.body)
            counts[sender] += 1
        elif (
            isinstance(event, MessageCreated)
            and event.inbound in texts
            and event.to == texts[event.inbound][0]  # what the sender got back
        ):
            answers[event.inbound].append(event.body)
    return {
        (sender, n): Exchange(body, tuple(answers.get(sid, ())))
        for sid, (sender, n, body) in texts.items()
    }


@dataclass(slots=True)
class Diff:
    before: Report
    after: Report
    changed: list[dict[str, Any]] = field(default_factory=list)
    changed_count: int = 0
    only_before: int = 0
    only_after: int = 0

    @property
    def amplification_increase(self) -> float:
        return round(
            self.after.amplification["messages"] - self.before.amplification["messages"], 4
        )

    @property
    def cost_increase(self) -> Decimal:
        return self.after.total_cost - self.before.total_cost

    @property
    def p99_increase_ms(self) -> float | None:
        a, b = self.before.webhook["latency_ms"]["p99"], self.after.webhook["latency_ms"]["p99"]
        return None if a is None or b is None else round(b - a, 3)

    @property
    def new_errors(self) -> int:
        return sum(
            max(0, n - self.before.errors.get(code, 0)) for code, n in self.after.errors.items()
        )

    @property
    def side_effects(self) -> dict[str, Any] | None:
        """Per-text side effects before and after, and the rise (None: neither observed any)."""
        b, a = self.before.side_effects, self.after.side_effects
        before = b.per_text if b is not None and b.observed else None
        after = a.per_text if a is not None and a.observed else None
        if before is None and after is None:
            return None
        rise = (
            {k: round(after[k] - before[k], 4) for k in after}
            if before is not None and after is not None
            else None
        )
        return {"before": before, "after": after, "increase": rise}

    def to_json(self) -> dict[str, Any]:
        b, a = self.before, self.after
        side_effects = self.side_effects
        return {
            "before": {
                "inbound": b.inbound.count,
                "outbound": b.outbound.count,
                "amplification": b.amplification,
                "total_cost": format_money(b.total_cost),
                "webhook_p99_ms": b.webhook["latency_ms"]["p99"],
                "errors": {str(k): v for k, v in b.errors.items()},
            },
            "after": {
                "inbound": a.inbound.count,
                "outbound": a.outbound.count,
                "amplification": a.amplification,
                "total_cost": format_money(a.total_cost),
                "webhook_p99_ms": a.webhook["latency_ms"]["p99"],
                "errors": {str(k): v for k, v in a.errors.items()},
            },
            "amplification_increase": self.amplification_increase,
            "cost_increase": format_money(self.cost_increase),
            "p99_increase_ms": self.p99_increase_ms,
            "new_errors": self.new_errors,
            "conversations_changed": self.changed_count,
            "only_before": self.only_before,
            "only_after": self.only_after,
            "changed": self.changed,
            **({"side_effects": side_effects} if side_effects is not None else {}),
        }


def compare(
    before: list[Event], after: list[Event], *, prices: PriceTable | None = None, examples: int = 10
) -> Diff:
    diff = Diff(build(before, prices=prices), build(after, prices=prices))
    old, new = conversations(before), conversations(after)
    diff.only_before = len(old.keys() - new.keys())
    diff.only_after = len(new.keys() - old.keys())
    for key in sorted(old.keys() & new.keys()):
        if old[key].answers != new[key].answers:
            diff.changed_count += 1
            if len(diff.changed) < examples:
                sender, n = key
                diff.changed.append(
                    {
                        "sender": sender,
                        "text": n + 1,
                        "body": new[key].body,
                        "before": list(old[key].answers),
                        "after": list(new[key].answers),
                    }
                )
    return diff


def render(diff: Diff, names: tuple[str, str] = ("before", "after")) -> str:
    lines = [
        f"twsim diff: {names[0]} -> {names[1]}",
        side_by_side(diff.before, diff.after, names),
        "",
    ]
    lines.append(
        f"amplification {diff.amplification_increase:+.2f} messages per inbound, cost {'+' if diff.cost_increase >= 0 else ''}{format_money(diff.cost_increase)}, "
        f"webhook p99 {_p99_change(diff)}, new errors {diff.new_errors}"
    )
    rise = (diff.side_effects or {}).get("increase")
    if rise:
        lines.append(
            f"per inbound text: emails {rise['emails']:+.2f}, log lines {rise['log_lines']:+.2f}, "
            f"db rows {rise['db_rows']:+.2f}, app CPU {rise['app_cpu_ms']:+.1f} ms"
        )
    lines.append(
        f"conversations answered differently: {diff.changed_count} (only in {names[0]}: {diff.only_before}, only in {names[1]}: {diff.only_after})"
    )
    for item in diff.changed:
        lines.append(
            f"  {item['sender']} text {item['text']} {item['body']!r}: {item['before']} -> {item['after']}"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class DiffThresholds:
    max_amplification_increase: float | None = None
    max_cost_increase: Decimal | None = None
    max_p99_increase_ms: float | None = None
    max_new_errors: int | None = None

    def violations(self, diff: Diff) -> list[str]:
        out = []
        if (
            self.max_amplification_increase is not None
            and diff.amplification_increase > self.max_amplification_increase
        ):
            out.append(
                f"amplification rose by {diff.amplification_increase:.2f} > {self.max_amplification_increase}"
            )
        if self.max_cost_increase is not None and diff.cost_increase > self.max_cost_increase:
            out.append(
                f"cost rose by {format_money(diff.cost_increase)} > {self.max_cost_increase}"
            )
        p99 = diff.p99_increase_ms
        if (
            self.max_p99_increase_ms is not None
            and p99 is not None
            and p99 > self.max_p99_increase_ms
        ):
            out.append(f"webhook p99 rose by {p99:.1f} ms > {self.max_p99_increase_ms} ms")
        if self.max_new_errors is not None and diff.new_errors > self.max_new_errors:
            out.append(f"{diff.new_errors} new errors > {self.max_new_errors}")
        return out


def _p99_change(diff: Diff) -> str:
    """The p99 change, or which side has no webhook latency to compare."""
    if diff.p99_increase_ms is not None:
        return f"{diff.p99_increase_ms:+.1f} ms"
    missing = [
        name
        for name, report in (("before", diff.before), ("after", diff.after))
        if report.webhook["latency_ms"]["p99"] is None
    ]
    return f"n/a ({' and '.join(missing)} without webhook latency)"
