"""The app's other channels in the report: emails, log lines, database rows, CPU, memory.

`SideEffectsBuilder` folds the observers' events (`email.received`, `log.lines`,
`db.rows`, `app.sample`, `observe.started`, `observe.warning`); `result` turns them into
`SideEffects`: totals for the run, figures per inbound text (totals divided by the texts,
as amplification is), what could not be attributed, rows by table, and the inbox. The
same columns join the report's "by burst position" and "worst senders" rows, from the
effects attributed to each text. Per text, `app_rss_peak_mb` is the peak's rise above the
app's first sample, divided by the texts (a level does not divide; its growth does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from twsim.model.events import (
    AppSample,
    DbRows,
    EmailReceived,
    Event,
    LogLines,
    ObserveStarted,
    ObserveWarning,
)

KINDS: tuple[type[Event], ...] = (
    ObserveStarted,
    ObserveWarning,
    EmailReceived,
    LogLines,
    DbRows,
    AppSample,
)
# the columns joined to the per-position and per-sender rows: (key, heading)
COLUMNS = (
    ("emails", "emails"),
    ("log_lines", "log lines"),
    ("db_rows", "db rows"),
    ("app_cpu_ms", "cpu ms"),
)
INBOX_SUBJECTS = 5


class Text(Protocol):
    """What the report knows of an inbound text: who sent it, and its place in their burst."""

    sender: str
    position: int


@dataclass(slots=True)
class Effects:
    """Side effects counted for one inbound text, for none (unattributed), or in total."""

    emails: int = 0
    log_lines: int = 0
    log_errors: int = 0
    db_rows: int = 0
    app_cpu_ms: float = 0.0

    def add(self, other: Effects) -> None:
        self.emails += other.emails
        self.log_lines += other.log_lines
        self.log_errors += other.log_errors
        self.db_rows += other.db_rows
        self.app_cpu_ms += other.app_cpu_ms

    def columns(self, texts: int = 1) -> dict[str, Any]:
        """The per-position / per-sender columns, per text of `texts`."""
        return {
            "emails": _per(self.emails, texts),
            "log_lines": _per(self.log_lines, texts),
            "db_rows": _per(self.db_rows, texts),
            "app_cpu_ms": _per(self.app_cpu_ms, texts, 3),
        }


def _per(value: float, texts: int, digits: int = 4) -> float:
    return round(value / texts, digits) if texts else 0.0


class SideEffectsBuilder:
    """Folds observer events; `result` gives the report's side-effects figures."""

    def __init__(self) -> None:
        self.watched: dict[str, Any] = {}
        self.seen = False
        self.total = Effects()
        self.unattributed = Effects()
        self.per_inbound: dict[str, Effects] = {}
        self.log_bytes = 0
        self.rows_by_table: Counter[str] = Counter()
        self.rows_removed = 0
        self.recipients: Counter[str] = Counter()
        self.subjects: Counter[str] = Counter()
        self.rss_first: float | None = None
        self.rss_peak = 0.0
        self.samples = 0
        self.warnings: list[str] = []

    def add(self, event: Event) -> None:
        if isinstance(event, ObserveStarted):
            self._started(event)
            return
        if isinstance(event, ObserveWarning):
            self.seen = True
            self.warnings.append(f"{event.observer}: {event.problem}")
            return
        effects = Effects()
        if isinstance(event, EmailReceived):
            effects.emails = 1
            self.recipients.update(event.to)
            self.subjects[event.subject] += 1
        elif isinstance(event, LogLines):
            effects.log_lines, effects.log_errors = event.lines, event.errors
            self.log_bytes += event.bytes
        elif isinstance(event, DbRows):
            if event.delta < 0:
                self.rows_removed -= event.delta
            else:
                effects.db_rows = event.delta
                self.rows_by_table[_table(event)] += event.delta
        elif isinstance(event, AppSample):
            effects.app_cpu_ms = event.cpu_ms
            self.samples += 1
            if self.rss_first is None:
                self.rss_first = event.rss_mb
            self.rss_peak = max(self.rss_peak, event.rss_mb)
        else:
            return
        self.seen = True
        self.total.add(effects)
        if event.inbound:
            mine = self.per_inbound.get(event.inbound)
            if mine is None:
                mine = self.per_inbound[event.inbound] = Effects()
            mine.add(effects)
        else:
            self.unattributed.add(effects)

    def _started(self, event: ObserveStarted) -> None:
        self.seen = True
        watched = self.watched
        if event.smtp:
            watched["smtp"] = event.smtp
        if event.log_level_regex:
            watched["log_level_regex"] = event.log_level_regex
        for key, values in (
            ("logs", event.logs),
            ("databases", event.databases),
            ("pids", event.pids),
        ):
            known = watched.setdefault(key, [])
            known.extend(v for v in values if v not in known)

    def result(self, texts: Mapping[str, Text], count: int | None = None) -> SideEffects:
        """The figures over `texts` (inbound sid -> text; `count` of them when the caller
        only knows how many)."""
        by_position: dict[int, Effects] = {}
        by_sender: dict[str, Effects] = {}
        for sid, effects in self.per_inbound.items():
            text = texts.get(sid)
            if text is None:
                continue
            by_position.setdefault(text.position, Effects()).add(effects)
            by_sender.setdefault(text.sender, Effects()).add(effects)
        return SideEffects(
            observed=self.seen,
            texts=len(texts) if count is None else count,
            watched=dict(self.watched),
            total=self.total,
            unattributed=self.unattributed,
            log_bytes=self.log_bytes,
            rows_by_table=dict(sorted(self.rows_by_table.items())),
            rows_removed=self.rows_removed,
            recipients=dict(self.recipients.most_common()),
            subjects=self.subjects.most_common(INBOX_SUBJECTS),
            rss_first=self.rss_first,
            rss_peak=self.rss_peak,
            by_position=by_position,
            by_sender=by_sender,
            warnings=list(self.warnings),
        )


def _table(event: DbRows) -> str:
    name = event.database.rstrip("/").rpartition("/")[2] or event.database
    return f"{name}:{event.table}"


@dataclass(slots=True)
class SideEffects:
    """The app's side effects over a run: totals, per text, unattributed, and breakdowns."""

    observed: bool  # whether the run watched anything (else every figure is 0)
    texts: int
    watched: dict[str, Any]
    total: Effects
    unattributed: Effects
    log_bytes: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)
    rows_removed: int = 0
    recipients: dict[str, int] = field(default_factory=dict)
    subjects: list[tuple[str, int]] = field(default_factory=list)
    rss_first: float | None = None
    rss_peak: float = 0.0
    by_position: dict[int, Effects] = field(default_factory=dict)
    by_sender: dict[str, Effects] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rss_rise_per_text(self) -> float:
        if self.rss_first is None:
            return 0.0
        return _per(max(0.0, self.rss_peak - self.rss_first), self.texts)

    @property
    def per_text(self) -> dict[str, float]:
        return {**self.total.columns(self.texts), "app_rss_peak_mb": self.rss_rise_per_text}

    def extend(self, rows: Iterable[dict[str, Any]], by: str) -> None:
        """Add the side-effect columns to per-position (`by="position"`) or per-sender rows
        (a run that watched nothing gets none: zeros there would claim what nobody saw)."""
        if not self.observed:
            return
        source: Mapping[Any, Effects] = self.by_position if by == "position" else self.by_sender
        for row in rows:
            effects = source.get(row[by], Effects())
            row.update(effects.columns(int(row["inbound"])))

    def to_json(self) -> dict[str, Any]:
        t = self.total
        return {
            "watched": self.watched,
            "totals": {
                "emails": t.emails,
                "log_lines": t.log_lines,
                "log_errors": t.log_errors,
                "log_bytes": self.log_bytes,
                "db_rows": t.db_rows,
                "db_rows_removed": self.rows_removed,
                "app_cpu_ms": round(t.app_cpu_ms, 3),
                "app_rss_peak_mb": round(self.rss_peak, 3),
            },
            "per_text": self.per_text,
            "unattributed": {
                "emails": self.unattributed.emails,
                "log_lines": self.unattributed.log_lines,
                "db_rows": self.unattributed.db_rows,
                "app_cpu_ms": round(self.unattributed.app_cpu_ms, 3),
            },
            "db_rows_by_table": {
                table: {"rows": rows, "per_text": _per(rows, self.texts)}
                for table, rows in self.rows_by_table.items()
            },
            "emails_by_recipient": self.recipients,
            "inbox": [{"subject": s, "emails": n} for s, n in self.subjects],
            "warnings": self.warnings,
        }
