"""The report's figures along the run: buckets that widen, latency bins, costs, side effects."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from twsim.analysis.report import ReportBuilder
from twsim.analysis.series import (
    MAX_BUCKETS,
    SeriesBuilder,
    Timeline,
    bin_edge,
    latency_bin,
    quantile,
)
from twsim.model.events import Event, InboundReceived, WebhookAttempt
from twsim.recording.journal import read_recording

SAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "sample-classroom.jsonl"


def fold(events: list[Event]) -> SeriesBuilder:
    series = SeriesBuilder(ReportBuilder())
    for event in events:
        series.add(event)
    return series


def test_the_sample_burst_along_its_run_adds_up_to_its_report():
    series = fold(read_recording(SAMPLE).events)
    report = series.report.result().to_json()
    out = series.to_json()
    positions = out["inbound"]
    assert [sum(positions[p]) for p in ("1", "2", "3", "4+")] == [
        row["inbound"] for row in report["by_position"]
    ]
    assert sum(out["replies"]) == report["outbound"]["by_origin"]["reply"]["count"]
    assert sum(out["api"]) == report["outbound"]["by_origin"]["api"]["count"]
    assert sum(out["latency_histogram"]["counts"]) == report["webhook"]["requests"]
    assert len(out["t"]) == len(out["replies"]) == len(out["latency_ms"]["p99"])
    cost = out["cost"]
    total = sum(Decimal(part["price"]) + Decimal(part["carrier_fees"]) for part in cost.values())
    assert total == Decimal(report["total_cost"])
    assert Decimal(cost["inbound"]["price"]) == Decimal(report["inbound"]["cost"])
    assert "side_effects" not in out


def test_buckets_double_in_width_and_keep_every_count():
    timeline = Timeline()
    for i in range(10_000):
        timeline.at(i * 0.37).inbound[0] += 1
    rows = timeline.rows()
    assert len(rows) <= MAX_BUCKETS
    assert sum(b.inbound[0] for _, b in rows) == 10_000
    assert timeline.width == pytest.approx(0.1 * 2**7)  # 3,700 s in at most 400 buckets


@pytest.mark.parametrize("ms", [0.01, 0.5, 1.0, 7.3, 250.0, 60_000.0])
def test_a_latency_falls_in_a_bin_about_nine_percent_wide(ms: float):
    b = latency_bin(ms)
    assert bin_edge(b) <= ms < bin_edge(b + 1)
    assert bin_edge(b + 1) / bin_edge(b) == pytest.approx(1.0905, abs=1e-3)


def test_quantiles_read_from_bins():
    counts: Counter[int] = Counter()
    for ms, n in ((1.0, 90), (10.0, 9), (100.0, 1)):
        counts[latency_bin(ms)] += n
    assert quantile(counts, 0.5) == pytest.approx(bin_edge(latency_bin(1.0) + 1), rel=1e-3)
    assert quantile(counts, 0.99) == pytest.approx(bin_edge(latency_bin(10.0) + 1), rel=1e-3)
    assert quantile(Counter(), 0.5) is None


@dataclass(slots=True, kw_only=True)
class EmailSeen(Event):
    """An observer's event, as the side-effect observers write them."""

    type: ClassVar[Any] = "email.received"
    layout: ClassVar[Any] = (("subject", "subject", False),)
    subject: str = ""


@dataclass(slots=True, kw_only=True)
class AppSample(Event):
    type: ClassVar[Any] = "app.sample"
    layout: ClassVar[Any] = (("cpu_ms", "cpu_ms", False), ("rss_mb", "rss_mb", False))
    cpu_ms: float = 0.0
    rss_mb: float = 0.0


def test_side_effects_when_observers_recorded_them():
    events: list[Event] = [
        InboundReceived(seq=1, t=0.0, inbound="SM1", message="SM1", from_="+15551230001"),
        WebhookAttempt(seq=2, t=0.01, inbound="SM1", attempt="WA1", latency_ms=5.0),
        EmailSeen(seq=3, t=0.02, inbound="SM1", subject="invalid code"),
        EmailSeen(seq=4, t=0.25, subject="digest"),
        AppSample(seq=5, t=0.03, cpu_ms=4.0, rss_mb=50.0),
        AppSample(seq=6, t=0.04, cpu_ms=2.0, rss_mb=61.0),
    ]
    side = fold(events).to_json()["side_effects"]
    assert set(side) == {"emails", "app_cpu_ms", "app_rss_mb"}
    assert side["emails"][0] == 1 and side["emails"][2] == 1
    assert side["app_cpu_ms"][0] == 6.0  # CPU adds up within a bucket
    assert side["app_rss_mb"][0] == 61.0  # RSS keeps its highest
