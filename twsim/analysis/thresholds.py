"""Gates for CI: a report crossing a threshold makes the command exit non-zero."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from twsim.analysis.report import Report
from twsim.analysis.side_effects import SideEffects

# (threshold, per-text figure, what it counts, the channel that must be watched, its option)
_PER_TEXT = (
    ("max_emails_per_text", "emails", "emails", "smtp", "--smtp"),
    ("max_log_lines_per_text", "log_lines", "log lines", "logs", "--observe-log"),
    ("max_db_rows_per_text", "db_rows", "database rows", "databases", "--observe-db"),
    ("max_app_cpu_ms_per_text", "app_cpu_ms", "app CPU ms", "pids", "--observe-pid"),
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_amplification: float | None = None
    max_cost: Decimal | None = None
    max_p99_ms: float | None = None
    max_errors: int | None = None
    max_emails_per_text: float | None = None
    max_log_lines_per_text: float | None = None
    max_db_rows_per_text: float | None = None
    max_app_cpu_ms_per_text: float | None = None

    def violations(self, report: Report) -> list[str]:
        """One line per crossed threshold (empty when the report passes)."""
        return self.check(
            report.amplification["messages"],
            report.total_cost,
            report.webhook["latency_ms"]["p99"],
            sum(report.errors.values()),
            report.side_effects,
        )

    def check(
        self,
        amplification: float,
        cost: Decimal,
        p99_ms: float | None,
        errors: int,
        side_effects: SideEffects | None = None,
    ) -> list[str]:
        """The same gates over bare figures (for results that are not a `Report`)."""
        out = self._side_effects(side_effects)
        if self.max_amplification is not None and amplification > self.max_amplification:
            out.append(
                f"amplification {amplification:.2f} outbound messages per inbound > {self.max_amplification}"
            )
        if self.max_cost is not None and cost > self.max_cost:
            out.append(f"total cost {cost:.4f} > {self.max_cost}")
        if self.max_p99_ms is not None and p99_ms is not None and p99_ms > self.max_p99_ms:
            out.append(f"webhook p99 {p99_ms:.1f} ms > {self.max_p99_ms} ms")
        if self.max_errors is not None and errors > self.max_errors:
            out.append(f"{errors} errors > {self.max_errors}")
        return out

    def _side_effects(self, side: SideEffects | None) -> list[str]:
        """Per-text gates on the app's other channels; one that was not watched fails, as
        a gate that cannot see must not pass."""
        out: list[str] = []
        for name, key, what, channel, option in _PER_TEXT:
            limit = getattr(self, name)
            if limit is None:
                continue
            if side is None or not side.watched.get(channel):
                out.append(f"{what} per inbound text: not watched in this run ({option})")
                continue
            value = side.per_text[key]
            if value > limit:
                out.append(f"{what} {value:g} per inbound text > {limit:g}")
        return out
