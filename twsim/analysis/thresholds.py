"""Gates for CI: a report crossing a threshold makes the command exit non-zero."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from twsim.analysis.report import Report


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_amplification: float | None = None
    max_cost: Decimal | None = None
    max_p99_ms: float | None = None
    max_errors: int | None = None

    def violations(self, report: Report) -> list[str]:
        """One line per crossed threshold (empty when the report passes)."""
        return self.check(
            report.amplification["messages"],
            report.total_cost,
            report.webhook["latency_ms"]["p99"],
            sum(report.errors.values()),
        )

    def check(
        self, amplification: float, cost: Decimal, p99_ms: float | None, errors: int
    ) -> list[str]:
        """The same gates over bare figures (for results that are not a `Report`)."""
        out = []
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
