"""Figures 6-8: `twsim load` as a load generator, against ab and wrk, and its honesty.

7. Against the trivial app (its own process, on the app core), keep-alive, concurrency C:
   `twsim load` (in this process, on the generator core) against Debian's `ab -k` and
   `wrk` (child processes on the same core), webhooks/s and generator CPU per request.
8. `--workers 2` against `--workers 1`, both unpinned, at a canned-answer target cheap
   enough that the generator is the bottleneck.
9. `load --rate` honesty: an app of known capacity (N slots x S service time) planned above
   its capacity; the p99 twsim reports against the p99 computed from the planned starts.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import loops
from bench.affinity import Placement, pin
from bench.children import Child
from bench.figures import Figure, Target
from bench.load import Clock, Round
from bench.pipeline import webhook_form
from bench.sizes import Size
from bench.slots_app import expected_latencies
from bench.stats import percentile, spread

TARGET_VS_TOOLS = 0.9
HONESTY_TARGET_PCT = 10.0
FORM_TYPE = "application/x-www-form-urlencoded"


def _raise_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def twsim_round(
    app: Child, url: str, count: int, concurrency: int, warmup: int
) -> tuple[Round, int]:
    """One timed `twsim load` run in this process: its own rate (as ab reports its own),
    this process's CPU and the app's."""
    from twsim.config.shipped import load_prices
    from twsim.load.generator import Load
    from twsim.load.spec import LoadSpec

    prices = load_prices("us")
    await Load(LoadSpec(url=url, requests=warmup, concurrency=concurrency), prices).run()
    load = Load(LoadSpec(url=url, requests=count, concurrency=concurrency), prices)
    clock = Clock(app.cpu_seconds)
    result = await load.run()
    spent = clock.round(count)
    return Round(count, result.elapsed_s, spent.cpu_s, spent.app_cpu_s), result.successes


def ab_round(app: Child, url: str, count: int, concurrency: int, form: Path) -> dict[str, float]:
    before, app_before = _children_cpu(), app.cpu_seconds()
    done = subprocess.run(
        [
            "ab",
            "-k",
            "-q",
            "-n",
            str(count),
            "-c",
            str(concurrency),
            "-p",
            str(form),
            "-T",
            FORM_TYPE,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    cpu, app_cpu = _children_cpu() - before, app.cpu_seconds() - app_before
    rate = re.search(r"Requests per second:\s+([\d.]+)", done.stdout)
    failed = re.search(r"Failed requests:\s+(\d+)", done.stdout)
    if done.returncode != 0 or rate is None:
        raise RuntimeError(f"ab failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    return {
        "rate": float(rate.group(1)),
        "cpu_us": cpu / count * 1e6,
        "app_cpu_us": app_cpu / count * 1e6,
        "failed": int(failed.group(1)) if failed else 0,
    }


def wrk_round(
    app: Child, url: str, seconds: float, concurrency: int, script: Path
) -> dict[str, float]:
    before, app_before = _children_cpu(), app.cpu_seconds()
    done = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{max(seconds, 1):g}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    cpu, app_cpu = _children_cpu() - before, app.cpu_seconds() - app_before
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    count = re.search(r"(\d+) requests in", done.stdout)
    if done.returncode != 0 or rate is None or count is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    requests = int(count.group(1))
    return {
        "rate": float(rate.group(1)),
        "cpu_us": cpu / requests * 1e6,
        "app_cpu_us": app_cpu / requests * 1e6,
    }


def wrk_script(form: bytes, path: Path) -> Path:
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{form.decode()}]==]\n"
        f'wrk.headers["Content-Type"] = "{FORM_TYPE}"\n'
    )
    return path


def workers_round(url: str, count: int, workers: int) -> tuple[float, int]:
    from twsim.config.shipped import load_prices
    from twsim.load.spec import LoadSpec
    from twsim.load.workers import run_workers

    result = run_workers(
        LoadSpec(url=url, requests=count, concurrency=64), load_prices("us"), workers
    )
    return result.requests / result.elapsed_s, result.successes


async def honesty_round(url: str, size: Size) -> dict[str, Any]:
    from twsim.config.shipped import load_prices
    from twsim.load.generator import Load
    from twsim.load.spec import LoadSpec

    count = int(size.honesty_rate * size.honesty_seconds)
    spec = LoadSpec(url=url, requests=count, rate=size.honesty_rate, timeout_s=120)
    result = await Load(spec, load_prices("us")).run()
    starts = [i / size.honesty_rate for i in range(count)]
    expected = sorted(
        expected_latencies(starts, size.honesty_slots, size.honesty_service_ms / 1000)
    )
    report = result.to_json()
    reported = report["latency_ms"]["p99"]
    computed = percentile(expected, 99) * 1000
    return {
        "requests": count,
        "successes": result.successes,
        "reported_p99_ms": reported,
        "computed_p99_ms": round(computed, 3),
        "error_pct": abs(reported / computed - 1) * 100,
        "achieved_rate_per_s": report["schedule"]["achieved_rate_per_s"],
        "warning": report["schedule"]["warning"],
        "start_lateness_p99_ms": report["schedule"]["start_lateness_ms"]["p99"],
    }


def run(size: Size, repeats: int, placement: Placement) -> list[Figure]:
    _raise_descriptor_limit()
    form_bytes = webhook_form()
    conc = size.concurrency
    twsim_rates, twsim_cpu, ab_rates, ab_cpu, wrk_rates, wrk_cpu = [], [], [], [], [], []
    vs_ab, vs_wrk, warnings, rounds = [], [], [], []
    has_ab, has_wrk = shutil.which("ab") is not None, shutil.which("wrk") is not None
    with (
        tempfile.TemporaryDirectory(prefix="twsim-bench-") as tmp,
        Child.start("bench.app", core=placement.app) as app,
    ):
        form = Path(tmp) / "form.bin"
        form.write_bytes(form_bytes)
        script = wrk_script(form_bytes, Path(tmp) / "post.lua")
        url = f"{app.url}/sms"
        for repeat in range(repeats):
            entry: dict[str, Any] = {}
            work = twsim_round(app, url, size.load_requests, conc, size.warmup)
            measured, ok = loops.run(asyncio.wait_for(work, 600))
            if ok != size.load_requests:
                warnings.append(f"repeat {repeat + 1}: {ok} of {size.load_requests} succeeded")
            twsim_rates.append(measured.rate)
            twsim_cpu.append(measured.cpu_us)
            entry["twsim"] = {
                "rate": round(measured.rate, 1),
                "cpu_us": round(measured.cpu_us, 1),
                "app_cpu_us": round(measured.app_cpu_us or 0.0, 1),
            }
            if has_ab:
                ab = ab_round(app, url, size.load_requests, conc, form)
                ab_rates.append(ab["rate"])
                ab_cpu.append(ab["cpu_us"])
                vs_ab.append(measured.rate / ab["rate"])
                entry["ab"] = ab
            if has_wrk:
                wrk = wrk_round(app, url, size.load_wrk_seconds, conc, script)
                wrk_rates.append(wrk["rate"])
                wrk_cpu.append(wrk["cpu_us"])
                vs_wrk.append(measured.rate / wrk["rate"])
                entry["wrk"] = wrk
            rounds.append(entry)

    cores = sorted({c for c in (placement.generator, placement.app) if c is not None})
    scaling: list[float] = []
    scaling_rounds: list[dict[str, Any]] = []
    if len(cores) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cores))  # workers and target spread over every core
        try:
            with Child.start("bench.canned") as canned:
                for _ in range(repeats):
                    one, ok1 = workers_round(canned.url, size.workers_requests, 1)
                    two, ok2 = workers_round(canned.url, size.workers_requests, 2)
                    scaling.append(two / one)
                    scaling_rounds.append(
                        {"one_worker_per_s": round(one, 1), "two_workers_per_s": round(two, 1)}
                    )
                    if ok1 != size.workers_requests or ok2 != size.workers_requests:
                        warnings.append(f"workers round: {ok1}/{ok2} succeeded")
        finally:
            pin(placement.generator)

    honesty: list[dict[str, Any]] = []
    with Child.start(
        "bench.slots_app",
        "--slots",
        str(size.honesty_slots),
        "--service-ms",
        str(size.honesty_service_ms),
        core=placement.app,
    ) as slots:
        for _ in range(repeats):
            work = honesty_round(f"{slots.url}/sms", size)
            honesty.append(loops.run(asyncio.wait_for(work, 300)))

    def r(values: list[float]) -> dict[str, object]:
        return spread(values).to_json(1)

    missing_ab = "" if has_ab else "ab not installed (Debian: apache2-utils)"
    missing_wrk = "" if has_wrk else "wrk not installed (Debian: wrk)"
    details = {
        "concurrency": conc,
        "requests": size.load_requests,
        "rounds": rounds,
        "twsim_per_s": r(twsim_rates),
    }
    capacity = size.honesty_slots / (size.honesty_service_ms / 1000)
    return [
        Figure(
            "load_vs_ab",
            f"7. twsim load -c {conc}: webhooks/s ÷ ab -k requests/s",
            "",
            spread(vs_ab) if vs_ab else None,
            Target(">=", TARGET_VS_TOOLS),
            details=details | ({"ab_per_s": r(ab_rates)} if ab_rates else {}),
            missing=missing_ab,
            warnings=warnings,
        ),
        Figure(
            "load_vs_wrk",
            f"7. twsim load -c {conc}: webhooks/s ÷ wrk requests/s",
            "",
            spread(vs_wrk) if vs_wrk else None,
            Target(">=", TARGET_VS_TOOLS),
            details={"wrk_per_s": r(wrk_rates), "wrk_cpu_us": r(wrk_cpu)} if wrk_rates else {},
            missing=missing_wrk,
        ),
        Figure(
            "load_cpu_per_request",
            "7. twsim load CPU per webhook",
            "µs",
            spread(twsim_cpu),
            beside=(
                f"none set; ab {spread(ab_cpu).median:.0f} µs/request" if ab_cpu else "none set"
            ),
            details={"ab_cpu_us": r(ab_cpu)} if ab_cpu else {},
        ),
        Figure(
            "load_workers_scaling",
            "8. load --workers 2 ÷ --workers 1 webhooks/s (canned target)",
            "×",
            spread(scaling) if scaling else None,
            beside=f"none set; {len(cores)} usable cores shared with the target",
            details={"rounds": scaling_rounds, "requests": size.workers_requests},
            missing="" if scaling else "needs two usable cores",
        ),
        Figure(
            "load_rate_p99_error",
            f"9. load --rate {size.honesty_rate:g}/s at an app of {capacity:g}/s: "
            "reported p99 vs p99 from planned starts",
            "%",
            spread([h["error_pct"] for h in honesty]),
            Target("<=", HONESTY_TARGET_PCT),
            details={
                "slots": size.honesty_slots,
                "service_ms": size.honesty_service_ms,
                "rate": size.honesty_rate,
                "runs": honesty,
            },
        ),
    ]
