"""A load run's figures: successes and failures, latencies, the schedule, what it cost.

Everything is a count, a sum or an exact HDR histogram, so the results of several workers
merge into the figures one process would have measured (`merge`, `to_wire`/`from_wire`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hdrh.histogram import HdrHistogram

from twsim.analysis.histograms import buckets, encode, merge, new_histogram, summary
from twsim.analysis.series import Bucket, Timeline, timeline_json
from twsim.core.pricing import format_money

# the run took this much longer than planned (and at least OVERRUN_MIN_S): the plan was not kept
OVERRUN_SHARE = 0.1
OVERRUN_MIN_S = 1.0
# sends started this late (generator lateness plus waiting for a connection): not kept either
LATE_START_MS = 50.0


@dataclass(slots=True)
class LoadResult:
    planned: int = 0  # webhooks the run was asked to send
    requests: int = 0  # webhooks finished, answered or failed
    successes: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[tuple[int, str]] = field(default_factory=Counter)  # (code, reason)
    warnings: Counter[tuple[int, str]] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    rate: float | None = None  # planned webhooks per second (open model), None: closed
    concurrency: int = 0  # connections of the closed model
    workers: int = 1
    connections: int = 0  # connections opened
    queued: int = 0  # webhooks that waited for a free connection (open model)
    inbound_segments: int = 0
    inbound_cost: Decimal = Decimal(0)
    replies: int = 0
    reply_segments: int = 0
    reply_cost: Decimal = Decimal(0)
    latency: HdrHistogram = field(default_factory=new_histogram)
    lateness: HdrHistogram = field(default_factory=new_histogram)  # the generator's own delay
    queueing: HdrHistogram = field(default_factory=new_histogram)  # waiting for a connection
    # along the run, for charts: answers (as inbound texts), replies and errors per bucket,
    # the start lateness per bucket of the schedule, and latencies in logarithmic bins
    timeline: Timeline = field(default_factory=Timeline)
    schedule: Timeline = field(default_factory=Timeline)
    latency_bins: Counter[int] = field(default_factory=Counter)

    def series(self) -> dict[str, Any]:
        """The run's time series, as the HTML report draws them."""
        return timeline_json(self.timeline, self.schedule, self.latency_bins)

    @property
    def failed(self) -> int:
        return self.requests - self.successes

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def amplification(self) -> float:
        return round(self.replies / self.requests, 4) if self.requests else 0.0

    @property
    def total_cost(self) -> Decimal:
        return self.inbound_cost + self.reply_cost

    @property
    def error_count(self) -> int:
        """Failures and warnings: every Twilio code the run met."""
        return self.failed + sum(self.warnings.values())

    @property
    def planned_span_s(self) -> float:
        """How long the schedule was meant to take (open model)."""
        return self.planned / self.rate if self.rate else 0.0

    def schedule_problem(self) -> str | None:
        """Why the open model's plan was not kept, or None when it was."""
        if not self.rate or not self.requests:
            return None
        span = self.planned_span_s
        overrun = self.elapsed_s - span
        if overrun > max(OVERRUN_MIN_S, OVERRUN_SHARE * span):
            return (
                f"the plan was not kept: {self.planned} webhooks planned over {span:.2f} s "
                f"({self.rate:g}/s) took {self.elapsed_s:.2f} s, {self.throughput:.1f}/s "
                "achieved; the app could not keep up, and the latencies include the wait"
            )
        start = max(self.lateness.get_max_value(), self.queueing.get_max_value()) / 1000
        if start > LATE_START_MS:
            return (
                f"the plan was not kept: sends started up to {start:.0f} ms late "
                "(the generator or its connections could not keep up); "
                "the latencies include the wait"
            )
        return None

    # -- merging -------------------------------------------------------------------------------
    def merge(self, other: LoadResult) -> None:
        """Add another worker's figures (the run's elapsed time is the longest of them)."""
        self.planned += other.planned
        self.requests += other.requests
        self.successes += other.successes
        self.statuses.update(other.statuses)
        self.failures.update(other.failures)
        self.warnings.update(other.warnings)
        self.answers.update(other.answers)
        self.elapsed_s = max(self.elapsed_s, other.elapsed_s)
        self.concurrency += other.concurrency
        self.connections += other.connections
        self.queued += other.queued
        self.inbound_segments += other.inbound_segments
        self.inbound_cost += other.inbound_cost
        self.replies += other.replies
        self.reply_segments += other.reply_segments
        self.reply_cost += other.reply_cost
        for mine, theirs in (
            (self.latency, other.latency),
            (self.lateness, other.lateness),
            (self.queueing, other.queueing),
        ):
            mine.add(theirs)
        self.latency_bins.update(other.latency_bins)
        _merge_timeline(self.timeline, other.timeline)
        _merge_timeline(self.schedule, other.schedule)

    def to_wire(self) -> dict[str, Any]:
        """Everything, exact, in plain values (for a worker process to hand back)."""
        return {
            "counts": [
                self.planned,
                self.requests,
                self.successes,
                self.concurrency,
                self.connections,
                self.queued,
                self.inbound_segments,
                self.replies,
                self.reply_segments,
            ],
            "statuses": list(self.statuses.items()),
            "failures": [[c, r, n] for (c, r), n in self.failures.items()],
            "warnings": [[c, r, n] for (c, r), n in self.warnings.items()],
            "answers": list(self.answers.items()),
            "elapsed_s": self.elapsed_s,
            "rate": self.rate,
            "costs": [str(self.inbound_cost), str(self.reply_cost)],
            "histograms": [encode(h) for h in (self.latency, self.lateness, self.queueing)],
            "latency_bins": list(self.latency_bins.items()),
            "timelines": [_timeline_wire(t) for t in (self.timeline, self.schedule)],
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> LoadResult:
        r = cls()
        (
            r.planned,
            r.requests,
            r.successes,
            r.concurrency,
            r.connections,
            r.queued,
            r.inbound_segments,
            r.replies,
            r.reply_segments,
        ) = wire["counts"]
        r.statuses = Counter({int(k): v for k, v in wire["statuses"]})
        r.failures = Counter({(c, reason): n for c, reason, n in wire["failures"]})
        r.warnings = Counter({(c, reason): n for c, reason, n in wire["warnings"]})
        r.answers = Counter(dict(wire["answers"]))
        r.elapsed_s = wire["elapsed_s"]
        r.rate = wire["rate"]
        r.inbound_cost, r.reply_cost = (Decimal(c) for c in wire["costs"])
        for histogram, encoded in zip(
            (r.latency, r.lateness, r.queueing), wire["histograms"], strict=True
        ):
            merge(histogram, encoded)
        r.latency_bins = Counter(dict(wire["latency_bins"]))
        r.timeline, r.schedule = (_timeline_from_wire(t) for t in wire["timelines"])
        return r

    # -- output --------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        errors: Counter[int] = Counter()
        for (code, _), n in self.failures.items():
            errors[code] += n
        out: dict[str, Any] = {
            "model": "open" if self.rate else "closed",
            "requests": self.requests,
            "successes": self.successes,
            "failures": self.failed,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": {str(k): v for k, v in sorted(errors.items())},
            "error_table": _table(self.failures),
            "warnings": _table(self.warnings),
            "answers": dict(sorted(self.answers.items())),
            "elapsed_s": round(self.elapsed_s, 3),
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": summary(self.latency),
            "latency_histogram": [
                {"up_to_ms": edge, "count": n} for edge, n in buckets(self.latency)
            ],
            "workers": self.workers,
            "connections": self.connections,
        }
        if self.rate:
            problem = self.schedule_problem()
            out["schedule"] = {
                "planned_rate_per_s": self.rate,
                "planned_span_s": round(self.planned_span_s, 3),
                "achieved_rate_per_s": round(self.throughput, 1),
                "kept": problem is None,
                "warning": problem,
                "start_lateness_ms": summary(self.lateness),
                "queued": self.queued,
                "queueing_ms": summary(self.queueing),
            }
        else:
            out["concurrency"] = self.concurrency
        out.update(
            {
                "inbound": {
                    "segments": self.inbound_segments,
                    "cost": format_money(self.inbound_cost),
                },
                "replies": {
                    "count": self.replies,
                    "segments": self.reply_segments,
                    "cost": format_money(self.reply_cost),
                },
                "amplification": self.amplification,
                "total_cost": format_money(self.total_cost),
            }
        )
        return out


def _table(counts: Counter[tuple[int, str]]) -> list[dict[str, Any]]:
    return [
        {"code": code, "reason": reason, "count": n}
        for (code, reason), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _merge_timeline(into: Timeline, other: Timeline) -> None:
    for index, bucket in other.buckets.items():
        into.at(index * other.width).merge(bucket)


def _timeline_wire(timeline: Timeline) -> dict[str, Any]:
    return {
        "width": timeline.width,
        "buckets": [
            [i, b.inbound, b.replies, b.api, b.errors, list(b.latency.items()), b.latency_max]
            for i, b in timeline.buckets.items()
        ],
    }


def _timeline_from_wire(wire: dict[str, Any]) -> Timeline:
    timeline = Timeline()
    timeline.width = wire["width"]
    for i, inbound, replies, api, errors, latency, latency_max in wire["buckets"]:
        timeline.buckets[i] = Bucket(
            list(inbound), replies, api, errors, Counter(dict(latency)), latency_max
        )
    return timeline
