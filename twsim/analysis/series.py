"""The report's figures along the run: what happened in each slice of time, for charts.

`SeriesBuilder` folds events as `ReportBuilder` does (it feeds the one it is given, so the two
never disagree about what counts as an error or a burst position) and keeps, per time bucket:
inbound texts by burst position, TwiML replies, REST sends, errors, webhook latency, and the
app's side effects when observers recorded them; per bucket of the schedule, the lateness of
planned sends. Buckets start at 0.1 s and double in width whenever a run outgrows
`MAX_BUCKETS`, so a chart holds a few hundred points however long the run. Latencies go into
logarithmic bins (eight per doubling, about 9% wide), which merge exactly when buckets do; the
percentiles drawn per bucket are read from them.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from twsim.analysis.report import ReportBuilder
from twsim.analysis.tallies import ZERO
from twsim.core.pricing import Charge, format_money
from twsim.model.events import (
    Charged,
    Event,
    InboundReceived,
    MessageCreated,
    NumberChanged,
    Reset,
    SendPlanned,
    WebhookAttempt,
)

MAX_BUCKETS = 400
FIRST_WIDTH_S = 0.1
BINS_PER_DOUBLING = 8
POSITIONS = ("1", "2", "3", "4+")
SIDE_EFFECTS = ("emails", "log_lines", "db_rows", "app_cpu_ms", "app_rss_mb")
_GAUGES = frozenset({"app_rss_mb"})  # a level, not a count: the bucket keeps its highest


def latency_bin(ms: float) -> int:
    """The logarithmic bin of a latency: bin b holds [2^(b/8), 2^((b+1)/8)) ms."""
    return math.floor(math.log2(max(ms, 0.001)) * BINS_PER_DOUBLING)


def bin_edge(b: int) -> float:
    return float(2 ** (b / BINS_PER_DOUBLING))


def quantile(bins: Counter[int], q: float) -> float | None:
    """The upper edge of the bin holding quantile `q` (None without values)."""
    total = bins.total()
    if not total:
        return None
    rank = q * total
    seen = 0
    for b in sorted(bins):
        seen += bins[b]
        if seen >= rank:
            return round(bin_edge(b + 1), 3)
    return None  # unreachable: the last bin reaches the total


@dataclass(slots=True)
class Bucket:
    """What happened in one slice of time."""

    inbound: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    replies: int = 0
    api: int = 0
    errors: int = 0
    latency: Counter[int] = field(default_factory=Counter)
    latency_max: float | None = None
    side: dict[str, float] = field(default_factory=dict)

    def merge(self, other: Bucket) -> None:
        for i, n in enumerate(other.inbound):
            self.inbound[i] += n
        self.replies += other.replies
        self.api += other.api
        self.errors += other.errors
        self.latency.update(other.latency)
        self.latency_max = _most(self.latency_max, other.latency_max)
        for name, value in other.side.items():
            self.side[name] = (
                max(self.side.get(name, value), value)
                if name in _GAUGES
                else self.side.get(name, 0) + value
            )

    def record_latency(self, ms: float) -> None:
        self.latency[latency_bin(ms)] += 1
        self.latency_max = _most(self.latency_max, ms)


def _most(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


class Timeline:
    """Buckets along one time axis, twice as wide whenever there would be too many."""

    def __init__(self) -> None:
        self.width = FIRST_WIDTH_S
        self.buckets: dict[int, Bucket] = {}

    def at(self, t: float) -> Bucket:
        index = int(max(t, 0.0) / self.width)
        while index >= MAX_BUCKETS:
            self._widen()
            index //= 2
        bucket = self.buckets.get(index)
        if bucket is None:
            bucket = self.buckets[index] = Bucket()
        return bucket

    def _widen(self) -> None:
        merged: dict[int, Bucket] = {}
        for index, bucket in sorted(self.buckets.items()):
            into = merged.get(index // 2)
            if into is None:
                merged[index // 2] = bucket
            else:
                into.merge(bucket)
        self.buckets = merged
        self.width *= 2

    def rows(self) -> list[tuple[float, Bucket]]:
        """Every bucket from the first to the last (empty ones too), with its start time."""
        if not self.buckets:
            return []
        last = max(self.buckets)
        return [
            (round(i * self.width, 3), self.buckets.get(i) or Bucket()) for i in range(last + 1)
        ]


class SeriesBuilder:
    """Folds events into time series; feeds `report` the same events."""

    def __init__(self, report: ReportBuilder) -> None:
        self.report = report
        self.run = Timeline()
        self.schedule = Timeline()
        self.latency: Counter[int] = Counter()
        self.cost: dict[str, list[Decimal]] = {
            k: [ZERO, ZERO] for k in ("inbound", "replies", "api")
        }
        self._origin: dict[str, str] = {}  # outbound message SID -> replies | api
        self._errors = 0
        self.side_effects_seen: set[str] = set()

    def add(self, event: Event) -> None:
        report = self.report
        report.add(event)
        kind = type(event)
        if kind is SendPlanned:
            assert isinstance(event, SendPlanned)
            if event.lateness_ms is not None:
                self.schedule.at(event.planned_s).record_latency(max(event.lateness_ms, 0.001))
            return
        if kind is NumberChanged or kind is Reset:
            return
        bucket = self.run.at(event.t - (report.first_t or 0.0))
        errors = report.errors.total()
        if errors != self._errors:
            bucket.errors += errors - self._errors
            self._errors = errors
        if kind is InboundReceived:
            tally = report.inbound.get(event.inbound or "")
            if tally is not None:
                bucket.inbound[min(tally.position, 4) - 1] += 1
        elif kind is MessageCreated:
            assert isinstance(event, MessageCreated)
            origin = "replies" if event.is_reply else "api"
            self._origin[event.message or ""] = origin
            if event.is_reply:
                bucket.replies += 1
            else:
                bucket.api += 1
        elif kind is WebhookAttempt:
            assert isinstance(event, WebhookAttempt)
            if event.latency_ms is not None:
                bucket.record_latency(event.latency_ms)
                self.latency[latency_bin(event.latency_ms)] += 1
        elif kind is Charged:
            assert isinstance(event, Charged)
            self._charge(event)
        else:
            self._side_effect(event, bucket)

    def _charge(self, e: Charged) -> None:
        if not e.charge:
            return
        charge = Charge.from_dict(e.charge)
        prices = self.report.prices
        if prices is not None:
            with contextlib.suppress(ValueError):  # the report keeps the recorded figure too
                charge = prices.reprice(charge)
        if charge.key.direction == "inbound":
            part = self.cost["inbound"]
        else:
            part = self.cost[self._origin.get(e.message or "", "api")]
        part[0] += charge.base
        part[1] += charge.carrier_fee

    def _side_effect(self, event: Event, bucket: Bucket) -> None:
        """The app's side effects, from the observers' events (`email.*`, `log.*`, `db.*`,
        `app.*`). Those kinds belong to the observers; this reads their JSON data by key."""
        family = str(event.type).partition(".")[0]
        if family not in ("email", "log", "db", "app"):
            return
        data = event.data()
        if family == "email":
            self._side(bucket, "emails", 1)
        elif family == "log":
            self._side(bucket, "log_lines", _number(data, "lines", default=1))
        elif family == "db":
            self._side(bucket, "db_rows", _number(data, "rows", "delta", "inserted"))
        else:
            if "cpu_ms" in data or "cpu_s" in data:
                cpu = _number(data, "cpu_ms") or _number(data, "cpu_s") * 1000
                self._side(bucket, "app_cpu_ms", cpu)
            if "rss_mb" in data or "rss_bytes" in data:
                rss = _number(data, "rss_mb") or _number(data, "rss_bytes") / 1e6
                self._side(bucket, "app_rss_mb", rss)

    def _side(self, bucket: Bucket, name: str, value: float) -> None:
        self.side_effects_seen.add(name)
        if name in _GAUGES:
            bucket.side[name] = max(bucket.side.get(name, value), value)
        else:
            bucket.side[name] = bucket.side.get(name, 0) + value

    def to_json(self) -> dict[str, Any]:
        out = timeline_json(self.run, self.schedule, self.latency)
        out["cost"] = {
            part: {"price": format_money(base), "carrier_fees": format_money(fees)}
            for part, (base, fees) in self.cost.items()
        }
        if self.side_effects_seen:
            rows = self.run.rows()
            out["side_effects"] = {
                name: [b.side.get(name) for _, b in rows]
                for name in SIDE_EFFECTS
                if name in self.side_effects_seen
            }
        return out


def timeline_json(run: Timeline, schedule: Timeline, latency: Counter[int]) -> dict[str, Any]:
    """The series charts draw: per bucket of the run, and per bucket of the schedule."""
    rows = run.rows()
    planned = schedule.rows()
    return {
        "bucket_s": run.width,
        "t": [t for t, _ in rows],
        "inbound": {p: [b.inbound[i] for _, b in rows] for i, p in enumerate(POSITIONS)},
        "replies": [b.replies for _, b in rows],
        "api": [b.api for _, b in rows],
        "errors": [b.errors for _, b in rows],
        "latency_ms": _percentile_series(rows),
        "latency_histogram": {
            "edges_ms": [round(bin_edge(b), 3) for b in sorted(latency)],
            "counts": [latency[b] for b in sorted(latency)],
        },
        "lateness_ms": {
            "bucket_s": schedule.width,
            "t": [t for t, _ in planned],
            **_percentile_series(planned),
        },
    }


def _percentile_series(rows: list[tuple[float, Bucket]]) -> dict[str, list[float | None]]:
    return {
        "p50": [quantile(b.latency, 0.5) for _, b in rows],
        "p90": [quantile(b.latency, 0.9) for _, b in rows],
        "p99": [quantile(b.latency, 0.99) for _, b in rows],
        "max": [None if b.latency_max is None else round(b.latency_max, 3) for _, b in rows],
    }


def _number(data: dict[str, Any], *keys: str, default: float = 0.0) -> float:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return default
