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


def summary(histogram: HdrHistogram) -> dict[str, float | None]:
    """count, min, mean, stdev, p50/p90/p95/p99 and max in milliseconds (None when empty)."""
    count = histogram.get_total_count()
    keys = ("min", "mean", "stdev", "p50", "p90", "p95", "p99", "max")
    if count == 0:
        return {"count": 0} | dict.fromkeys(keys)
    at = histogram.get_value_at_percentile
    values = (
        histogram.get_min_value(),
        histogram.get_mean_value(),
        histogram.get_stddev(),
        at(50),
        at(90),
        at(95),
        at(99),
        histogram.get_max_value(),
    )
    return {"count": count} | {k: round(v / 1000, 3) for k, v in zip(keys, values, strict=True)}


def buckets(histogram: HdrHistogram, count: int = 10) -> list[tuple[float, int]]:
    """The recorded values in `count` equal-width bins from min to max: (upper edge ms, n)."""
    if histogram.get_total_count() == 0:
        return []
    low, high = histogram.get_min_value(), histogram.get_max_value()
    width = max((high - low) / count, 1e-9)
    bins = [0] * count
    for item in histogram.get_recorded_iterator():
        value = histogram.get_highest_equivalent_value(item.value_iterated_to)
        index = min(int((min(value, high) - low) / width), count - 1)
        bins[index] += item.count_at_value_iterated_to
    return [(round((low + width * (i + 1)) / 1000, 3), n) for i, n in enumerate(bins)]


def encode(histogram: HdrHistogram) -> str:
    """The histogram, exact and compressed, as text (HdrHistogram's own encoding)."""
    return bytes(histogram.encode()).decode("ascii")


def merge(into: HdrHistogram, encoded: str) -> None:
    """Add an `encode`d histogram's counts to `into`."""
    into.add(HdrHistogram.decode(encoded.encode("ascii")))
