"""Latency histograms: exact HDR histograms in microseconds, read as milliseconds."""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

_HIGHEST_US = 3_600_000_000  # one hour, in microseconds


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, _HIGHEST_US, 3)


def percentiles(histogram: HdrHistogram) -> dict[str, float | None]:
    """p50/p90/p99/max in milliseconds (None when nothing was recorded)."""
    if histogram.get_total_count() == 0:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    return {
        "count": histogram.get_total_count(),
        "p50": histogram.get_value_at_percentile(50) / 1000,
        "p90": histogram.get_value_at_percentile(90) / 1000,
        "p99": histogram.get_value_at_percentile(99) / 1000,
        "max": histogram.get_max_value() / 1000,
    }


def record_ms(histogram: HdrHistogram, ms: float) -> None:
    histogram.record_value(min(max(int(ms * 1000), 1), _HIGHEST_US))
