"""Figures 1 and 2: inbound texts fully handled per second, and CPU per message.

twsim's side: `Gateway.receive(..., wait=True)` from C concurrent senders. Each inbound is
stored and billed, its webhook signed and posted to the trivial app (another process, on
another core), the TwiML answer parsed, the reply created and billed, and its lifecycle
run to `delivered`, while a `Recorder` writes every event to a temporary file. The round
ends when the gateway is quiet. The bare side: one aiohttp session posting the same form
(pre-encoded, unsigned) to the same app at the same concurrency. Each repeat runs both,
back to back, and the figure is their ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench import loops
from bench.affinity import Placement
from bench.children import ROOT, Child
from bench.figures import Figure, Target
from bench.load import Clock, Round, drive
from bench.profiling import Profile
from bench.sizes import Size
from bench.stats import spread

BODY = "HERE 4417"
THROUGHPUT_TARGET = 0.4  # this step's target; 0.7 is the aim beyond it
CPU_OVER_BARE_TARGET = 2.5  # gateway CPU per inbound at most 2.5x a bare post's


def phones(count: int, offset: int = 0) -> list[str]:
    """Distinct valid US mobile-looking numbers (one per text, so no per-phone limit bites)."""
    return [
        f"+1212{200 + (i // 10_000) % 700:03d}{i % 10_000:04d}"
        for i in range(offset, offset + count)
    ]


def webhook_form() -> bytes:
    """The exact form twsim posts for one inbound text, encoded once."""
    from twsim.config.models import Config
    from twsim.gateway.runtime import Gateway
    from twsim.gateway.webhook_params import inbound_params

    gateway = Gateway(Config())
    received = gateway.state.receive_inbound(
        from_=phones(1)[0], to=gateway.config.numbers[0].phone_number, body=BODY
    )
    return urlencode(inbound_params(received.message, gateway.state.media_base_url)).encode()


def _bound(count: int, per_second: float = 300.0) -> float:
    """A generous time limit for a round of `count` operations."""
    return 60.0 + count / per_second


async def gateway_round(
    app: Child,
    count: int,
    concurrency: int,
    warmup: int,
    record_to: Path,
    profile: Profile | None = None,
) -> tuple[Round, dict[str, Any]]:
    from twsim.config.models import Config
    from twsim.core.lifecycle import MessageStatus
    from twsim.gateway.runtime import Gateway
    from twsim.recording.journal import Recorder

    config = Config()
    config.numbers[0].sms_url = f"{app.url}/sms"
    gateway = Gateway(config)
    recorder = Recorder.create(
        record_to, gateway.events, seed=gateway.config.seed, prices=gateway.prices, force=True
    )
    recorder.start()
    to = config.numbers[0].phone_number
    senders = phones(warmup + count)
    problems: Counter[str] = Counter()

    async def one(index: int) -> None:
        _, outcome = await gateway.receive(from_=senders[index], to=to, body=BODY, wait=True)
        if outcome is None:
            problems["no outcome"] += 1
        elif outcome.error_code is not None:
            problems[f"error {outcome.error_code}"] += 1
        elif len(outcome.replies) != 1:
            problems[f"{len(outcome.replies)} replies"] += 1

    try:
        await drive(warmup, concurrency, one)
        await gateway.quiet(60)
        capture = profile.capture() if profile is not None else contextlib.nullcontext()
        with capture:
            clock = Clock(app.cpu_seconds)
            await drive(count, concurrency, one, start=warmup)
            await gateway.quiet(120)
            result = clock.round(count)
        delivered = sum(
            1 for m in gateway.state.messages.values() if m.status is MessageStatus.DELIVERED
        )
    finally:
        recorder.close()
        await gateway.close()
    return result, {
        "events_recorded": recorder.written,
        "replies_delivered": delivered,
        "problems": dict(problems),
    }


async def bare_round(
    app: Child, count: int, concurrency: int, warmup: int, form: bytes
) -> tuple[Round, dict[str, Any]]:
    url = f"{app.url}/sms"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int) -> None:
            async with session.post(url, data=form, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1

        await drive(warmup, concurrency, one)
        clock = Clock(app.cpu_seconds)
        await drive(count, concurrency, one)
        result = clock.round(count)
    return result, {"statuses": {str(k): v for k, v in statuses.items()}}


def locust_available() -> bool:
    return importlib.util.find_spec("locust") is not None


def locust_round(
    app: Child, size: Size, form: bytes, core: int | None, workdir: Path
) -> dict[str, Any]:
    """Locust's FastHttpUser posting the bare form, in its own (gevent) process."""
    form_file = workdir / "form.bin"
    form_file.write_bytes(form)
    command = [
        sys.executable,
        "-m",
        "bench.locust_bare",
        "--url",
        f"{app.url}/sms",
        "--users",
        str(size.concurrency),
        "--seconds",
        str(size.locust_seconds),
        "--form",
        str(form_file),
    ]
    if core is not None:
        command += ["--cpu", str(core)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, timeout=size.locust_seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"locust run failed: {done.stderr.decode(errors='replace')[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def run(size: Size, repeats: int, placement: Placement) -> tuple[list[Figure], dict[str, Any]]:
    """Figures 1 and 2 (and the profile) from one app process and `repeats` paired rounds."""
    form = webhook_form()
    ratios, gateway_rates, bare_rates = [], [], []
    gateway_cpu, bare_cpu, cpu_ratios = [], [], []
    gateway_gc, gateway_gc_pause = [], []
    locust_rates, locust_ratios = [], []
    rounds: list[dict[str, Any]] = []
    warnings: list[str] = []
    locust_note = "" if locust_available() else "locust not installed"
    profile = Profile()
    with (
        tempfile.TemporaryDirectory(prefix="twsim-bench-") as tmp,
        Child.start("bench.app", core=placement.app) as app,
    ):
        workdir = Path(tmp)
        for repeat in range(repeats):
            order = ("bare", "gateway") if repeat % 2 == 0 else ("gateway", "bare")
            results: dict[str, tuple[Round, dict[str, Any]]] = {}
            for side in order:
                if side == "bare":
                    work = bare_round(app, size.pipeline_bare, size.concurrency, size.warmup, form)
                    results[side] = loops.run(
                        asyncio.wait_for(work, _bound(size.pipeline_bare, 2000))
                    )
                else:
                    work = gateway_round(
                        app,
                        size.pipeline_inbound,
                        size.concurrency,
                        size.warmup,
                        workdir / f"pipeline-{repeat}.jsonl",
                    )
                    results[side] = loops.run(asyncio.wait_for(work, _bound(size.pipeline_inbound)))
            (g, g_info), (b, b_info) = results["gateway"], results["bare"]
            warnings += _check(repeat, size, g_info, b_info)
            ratios.append(g.rate / b.rate)
            gateway_rates.append(g.rate)
            bare_rates.append(b.rate)
            gateway_cpu.append(g.cpu_us)
            bare_cpu.append(b.cpu_us)
            cpu_ratios.append(g.cpu_us / b.cpu_us)
            gateway_gc.append(g.gc_us)
            gateway_gc_pause.append(g.gc_max_s * 1000)
            entry: dict[str, Any] = {
                "order": list(order),
                "gateway": _round_json(g) | g_info,
                "bare": _round_json(b) | b_info,
            }
            if not locust_note:
                try:
                    locust = locust_round(app, size, form, placement.generator, workdir)
                except (RuntimeError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
                    locust_note = f"locust run failed: {exc}"
                else:
                    locust_rates.append(locust["rate"])
                    locust_ratios.append(g.rate / locust["rate"])
                    entry["locust"] = locust
            rounds.append(entry)
        work = gateway_round(
            app,
            size.profile_inbound,
            size.concurrency,
            size.warmup,
            workdir / "profiled.jsonl",
            profile,
        )
        profiled, _ = loops.run(asyncio.wait_for(work, _bound(size.profile_inbound, 100)))
    summary = profile.summary()
    summary["inbound"] = size.profile_inbound
    summary["rate_while_profiled"] = round(profiled.rate, 1)

    def r(values: list[float]) -> dict[str, object]:
        return spread(values).to_json(1)

    details = {
        "concurrency": size.concurrency,
        "inbound_per_round": size.pipeline_inbound,
        "bare_posts_per_round": size.pipeline_bare,
        "gateway_texts_per_s": r(gateway_rates),
        "bare_posts_per_s": r(bare_rates),
        "app": {"cores": app.cores},
        "rounds": rounds,
    }
    figures = [
        Figure(
            "pipeline_vs_bare",
            "1. pipeline: texts handled/s ÷ bare aiohttp posts/s",
            "",
            spread(ratios),
            Target(">=", THROUGHPUT_TARGET),
            details=details,
            warnings=warnings,
        ),
        Figure(
            "pipeline_vs_locust",
            "1. pipeline: texts handled/s ÷ Locust FastHttpUser posts/s",
            "",
            spread(locust_ratios) if locust_ratios else None,
            Target(">=", THROUGHPUT_TARGET),
            details={"locust_posts_per_s": r(locust_rates)} if locust_rates else {},
            missing=locust_note,
        ),
        Figure(
            "gateway_cpu_per_message",
            "2. gateway CPU per handled inbound",
            "µs",
            spread(gateway_cpu),
            beside=f"none set; bare client {spread(bare_cpu).median:.0f} µs/post",
            details={
                "bare_cpu_us_per_post": r(bare_cpu),
                "gateway_over_bare": spread(cpu_ratios).to_json(3),
                "gateway_gc_us_per_inbound": r(gateway_gc),
                "gateway_gc_longest_pause_ms": r(gateway_gc_pause),
                "measured_with": "time.process_time() of the gateway process over the round",
            },
        ),
        Figure(
            "gateway_cpu_over_bare",
            "2. gateway CPU per inbound ÷ bare client CPU per post",
            "×",
            spread(cpu_ratios),
            Target("<=", CPU_OVER_BARE_TARGET),
        ),
    ]
    return figures, summary


def _check(repeat: int, size: Size, gateway: dict[str, Any], bare: dict[str, Any]) -> list[str]:
    """What went wrong in one repeat: failed inbound texts, undelivered replies, bad posts."""
    out = []
    if gateway["problems"]:
        out.append(f"repeat {repeat + 1}: inbound texts not fully handled: {gateway['problems']}")
    expected = size.pipeline_inbound + size.warmup
    if gateway["replies_delivered"] != expected:
        out.append(
            f"repeat {repeat + 1}: {gateway['replies_delivered']} of {expected} replies delivered"
        )
    if set(bare["statuses"]) != {"200"}:
        out.append(f"repeat {repeat + 1}: bare posts answered {bare['statuses']}")
    return out


def _round_json(r: Round) -> dict[str, Any]:
    return {
        "count": r.count,
        "wall_s": round(r.wall_s, 4),
        "per_s": round(r.rate, 1),
        "cpu_us_per_op": round(r.cpu_us, 2),
        "app_cpu_us_per_op": round(r.app_cpu_us, 2) if r.app_cpu_us is not None else None,
        "gc_us_per_op": round(r.gc_us, 2),
        "gc_longest_pause_ms": round(r.gc_max_s * 1000, 2),
    }
