"""`python -m bench [--size full|tiny] [--repeats 3] [--output PATH] [--only PARTS]`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import affinity, loops
from bench.figures import Figure, table
from bench.sizes import SIZES, Size

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
LIBRARIES = (
    "twsim",
    "aiohttp",
    "yarl",
    "multidict",
    "uvloop",
    "twilio",
    "Faker",
    "PyYAML",
    "defusedxml",
    "hdrhistogram",
    "psutil",
    "pyinstrument",
    "locust",
)
SECTIONS = {
    "pipeline_vs_bare": "1-2. inbound pipeline against the trivial app (gateway in this process)",
    "burst_remote_lateness_p50": "3. schedule keeping (run_burst against the trivial app)",
    "rest_vs_canned": "4. REST API (twsim serving HTTP in its own process)",
    "phone_bytes": "5. scale",
    "observers_on_vs_off": "6. side-effect observers (gateway in this process + noisy app)",
    "load_vs_ab": "7-9. twsim load against ab and wrk, its workers, its honesty under overload",
    "soak_rss_ratio": "10. memory over a long run (default retention)",
}
# the stages of handling one inbound text, shown with their inclusive share of the profile
_STAGES = ("_hop", "emit", "_write", "receive_inbound", "create_message", "_carry", "charge")
Part = Callable[[Size, int, affinity.Placement], Any]


def _parts() -> dict[str, Part]:
    from bench import loadgen, observing, pipeline, rest, scale, schedule, soak

    return {
        "pipeline": pipeline.run,
        "schedule": schedule.run,
        "rest": rest.run,
        "scale": scale.run,
        "observe": observing.run,
        "load": loadgen.run,
        "soak": soak.run,
    }


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _missed_line(figure: Figure) -> str:
    assert figure.spread is not None
    unit = f" {figure.unit}" if figure.unit else ""
    line = (
        f"MISSED: {figure.title}: median {figure.spread.median:.4g}{unit} "
        f"is not {figure.target_text}"
    )
    if figure.key in ("burst_kept_lateness_p99", "burst_remote_lateness_p99"):
        runs = figure.details.get("runs", [])
        if runs:
            pause = statistics.median(r["gc_longest_pause_ms"] for r in runs)
            line += (
                ": a send due while the event loop is busy waits for it (the webhooks' "
                f"answers, or a garbage collection: longest pause {pause:,.1f} ms, median)"
            )
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts: pipeline,schedule,rest,scale,observe,load,soak",
    )
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    parts = _parts()
    chosen = [p.strip() for p in args.only.split(",") if p.strip()] or list(parts)
    unknown = set(chosen) - set(parts)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    placement = affinity.plan()
    usable = affinity.usable_cores()  # before pinning narrows them to one
    pinned = affinity.pin(placement.generator)
    notes = [placement.note]
    if placement.generator is not None and not pinned:
        notes.append("could not pin the generator process (os.sched_setaffinity failed)")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load is not None and load[0] > 0.5:
        notes.append(
            f"load average {load[0]:.2f} at start: other work shares these cores; "
            "ratios (each side measured back to back) are the figures to trust"
        )
    print(
        f"twsim bench: size {size.name}, {args.repeats} repeats, {loops.name()} event loop; "
        f"{placement.note}",
        flush=True,
    )
    figures: list[Figure] = []
    profile: dict[str, Any] = {}
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name in chosen:
        print(f"  running {name} ...", flush=True)
        part_started = time.perf_counter()
        try:
            produced = parts[name](size, args.repeats, placement)
        except Exception:
            errors[name] = traceback.format_exc()
            print(errors[name], file=sys.stderr, flush=True)
            continue
        finally:
            timings[name] = round(time.perf_counter() - part_started, 1)
        if name == "pipeline":
            produced, profile = produced
        figures.extend(produced)
        print(f"  {name} done in {timings[name]:.1f} s", flush=True)
    elapsed = time.perf_counter() - started

    print()
    print(table(figures, SECTIONS))
    locust = next((f for f in figures if f.key == "pipeline_vs_locust"), None)
    if locust is not None and locust.missing:
        print(f"\n{locust.missing}")
    if profile.get("top"):
        print(
            f"\nprofile of one gateway run ({profile.get('inbound')} inbound texts, "
            f"{profile['tool']}), top five by self time:"
        )
        for item in profile["top"][:5]:
            note = f" - {item['note']}" if item.get("note") else ""
            print(f"  {item['share'] * 100:5.1f}%  {item['function']}  ({item['where']}){note}")
        areas = ", ".join(
            f"{a['area']} {a['share'] * 100:.0f}%" for a in profile.get("by_area", [])[:6]
        )
        print(f"  self time by package: {areas}")
        inclusive = ", ".join(
            f"{i['function']} ({i['where']}) {i['share'] * 100:.0f}%"
            for i in profile.get("twsim_inclusive", [])
            if i["function"]
            in ("_hop", "emit", "_write", "receive_inbound", "create_message", "_carry", "charge")
        )
        if inclusive:
            print(f"  twsim, inclusive: {inclusive}")
    cpu = next((f for f in figures if f.key == "gateway_cpu_per_message"), None)
    if cpu is not None and cpu.spread is not None and "gateway_gc_us_per_inbound" in cpu.details:
        gc_us = cpu.details["gateway_gc_us_per_inbound"]["median"]
        pause = cpu.details["gateway_gc_longest_pause_ms"]["median"]
        print(
            f"  garbage collection (charged above to whatever allocated): {gc_us:.0f} µs per inbound, "
            f"{gc_us / cpu.spread.median * 100:.0f}% of the gateway's CPU; longest pause "
            f"{pause:.0f} ms"
        )
    missed = [f for f in figures if f.met is False]
    if missed:
        print()
        for figure in missed:
            print(_missed_line(figure))
    for figure in figures:
        for warning in figure.warnings:
            print(f"WARNING: {figure.title}: {warning}")
    for note in notes:
        print(f"note: {note}")
    for name in errors:
        print(f"ERROR: the {name} benchmark failed (traceback above)")
    result = {
        "benchmark": "twsim",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "size": size.to_json(),
        "repeats": args.repeats,
        "machine": {
            "cores": os.cpu_count(),
            "usable_cores": usable,
            "processor": _processor(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in load] if load else None,
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "libraries": _versions(),
        "event_loop": loops.name(),
        "affinity": placement.to_json() | {"pinned": pinned},
        "figures": [f.to_json() for f in figures],
        "profile": profile,
        "missed": [f.key for f in missed],
        "notes": notes,
        "errors": errors,
        "seconds": {"total": round(elapsed, 1), **timings},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {args.output} in {elapsed:.0f} s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
