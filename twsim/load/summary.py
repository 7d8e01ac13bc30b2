"""A load run's result as text, in the manner of hey and ab."""

from __future__ import annotations

from typing import Any

from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec

_BAR = 40


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _stats(stats: dict[str, Any], keys: tuple[str, ...]) -> str:
    return "  ".join(f"{k} {_ms(stats[k])}" for k in keys)


def model_line(spec: LoadSpec, workers: int) -> str:
    split = f", {workers} worker processes" if workers > 1 else ""
    if spec.rate:
        return f"open model: {spec.rate:g} webhooks/s whatever the answers{split}"
    return (
        f"closed model: {spec.concurrency} connections, each sending its next webhook "
        f"when the last is answered{split}"
    )


def render(result: LoadResult, spec: LoadSpec) -> str:
    r = result.to_json()
    lat = r["latency_ms"]
    share = f" ({result.successes / result.requests:.1%})" if result.requests else ""
    lines = [
        f"twsim load: {spec.url}  ({result.planned} webhooks, {model_line(spec, result.workers)})",
        f"  successes        {result.successes} of {result.requests}{share}",
        f"  failures         {result.failed}",
        f"  elapsed          {r['elapsed_s']:.2f} s = {r['throughput_rps']:.1f} webhooks/s",
        f"  HTTP statuses    {', '.join(f'{k}: {v}' for k, v in r['statuses'].items()) or 'none'}",
        "  latency ms       "
        + _stats(lat, ("min", "mean", "stdev", "p50", "p90", "p95", "p99", "max")),
    ]
    if "schedule" in r:
        s = r["schedule"]
        lines += [
            f"  schedule         planned {s['planned_rate_per_s']:g}/s over "
            f"{s['planned_span_s']:.2f} s, achieved {s['achieved_rate_per_s']:.1f}/s "
            "(latency counts from each planned start)",
            "  start lateness   " + _stats(s["start_lateness_ms"], ("p50", "p99", "max")) + " ms",
            f"  queueing         {s['queued']} waited for a free connection"
            + (
                "; " + _stats(s["queueing_ms"], ("p50", "p99", "max")) + " ms"
                if s["queued"]
                else ""
            ),
        ]
    histogram = r["latency_histogram"]
    if histogram:
        most = max(b["count"] for b in histogram) or 1
        lines.append("  latency histogram (ms, up to)")
        for b in histogram:
            bar = "■" * round(b["count"] / most * _BAR)
            lines.append(f"    {b['up_to_ms']:>10.3f} [{b['count']:>7}] {bar}")
    if r["error_table"]:
        lines.append("  errors (Twilio code, count, reason)")
        lines += [f"    {e['code']}  {e['count']:>7}  {e['reason']}" for e in r["error_table"]]
    if r["warnings"]:
        lines.append("  warnings (Twilio code, count, reason)")
        lines += [f"    {w['code']}  {w['count']:>7}  {w['reason']}" for w in r["warnings"]]
    lines += [
        f"  answers          {', '.join(f'{k}: {v}' for k, v in r['answers'].items()) or 'none'}",
        f"  inbound          {r['inbound']['segments']} segments, ${r['inbound']['cost']}",
        f"  replies          {r['replies']['count']} messages ({r['amplification']:.2f} per webhook),"
        f" {r['replies']['segments']} segments, ${r['replies']['cost']}",
        f"  estimated cost   ${r['total_cost']} (inbound + replies; REST sends the app made are "
        "not seen by this mode)",
    ]
    if "schedule" in r and r["schedule"]["warning"]:
        lines.append(f"WARNING: {r['schedule']['warning']}")
    if result.requests and not result.successes:
        lines.append("FAILED: every webhook failed (see the errors above)")
    return "\n".join(lines)
