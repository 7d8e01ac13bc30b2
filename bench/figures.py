"""A figure: one measured quantity, its median and range over the repeats, and its target."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.stats import Spread

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_SHOWN = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


@dataclass(frozen=True, slots=True)
class Target:
    op: str
    value: float

    def met(self, measured: float) -> bool:
        return bool(_OPS[self.op](measured, self.value))

    def text(self, unit: str = "") -> str:
        return f"{_SHOWN[self.op]} {self.value:g}{(' ' + unit) if unit else ''}"


@dataclass(slots=True)
class Figure:
    key: str
    title: str
    unit: str
    spread: Spread | None
    target: Target | None = None
    beside: str = ""  # shown in the target column when the issue sets no target
    details: dict[str, Any] = field(default_factory=dict)
    missing: str = ""  # why the figure could not be measured
    warnings: list[str] = field(default_factory=list)  # what went wrong while measuring

    @property
    def met(self) -> bool | None:
        if self.target is None or self.spread is None:
            return None
        return self.target.met(self.spread.median)

    @property
    def target_text(self) -> str:
        if self.target is not None:
            return self.target.text(self.unit)
        return self.beside or "none set"

    @property
    def status(self) -> str:
        if self.spread is None:
            return "n/a"
        met = self.met
        return "-" if met is None else ("ok" if met else "MISSED")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "title": self.title, "unit": self.unit}
        if self.spread is not None:
            out.update(self.spread.to_json())
        else:
            out.update({"median": None, "low": None, "high": None, "values": []})
        out["target"] = {"op": self.target.op, "value": self.target.value} if self.target else None
        out["target_text"] = self.target_text
        out["met"] = self.met
        out["status"] = self.status
        if self.missing:
            out["missing"] = self.missing
        out["warnings"] = self.warnings
        out["details"] = self.details
        return out


def _number(value: float) -> str:
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def cell(figure: Figure) -> tuple[str, str]:
    if figure.spread is None:
        return figure.missing or "not measured", ""
    s = figure.spread
    unit = f" {figure.unit}" if figure.unit else ""
    return f"{_number(s.median)}{unit}", f"{_number(s.low)} .. {_number(s.high)}"


def table(figures: Sequence[Figure], sections: dict[str, str]) -> str:
    """The figures as one fixed-width table; `sections` maps a figure key to a heading."""
    header = ("figure", "median", "range (min .. max)", "target", "")
    rows: list[tuple[str, ...] | str] = []
    for figure in figures:
        if figure.key in sections:
            rows.append(sections[figure.key])
        median, span = cell(figure)
        rows.append((figure.title, median, span, figure.target_text, figure.status))
    cells = [r for r in rows if isinstance(r, tuple)]
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(
            (c.ljust(w) if i in (0, 3, 4) else c.rjust(w))
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = [line(header), rule]
    for r in rows:
        out.append(f"[{r}]" if isinstance(r, str) else line(r))
    return "\n".join(out)
