"""Figure 3: does a flash burst go out on schedule?

A seeded scenario: N students, each sending one text and then re-texting R times (every
answer makes them retry, with certainty), planned in R + 1 waves so the whole burst runs
at about the asked rate. It runs through `run_burst` against a gateway in this process
whose number points at the trivial app. Lateness comes from the `send.planned` events.
Side by side, the same plan runs against a target that does nothing, to show what the
scheduler and event loop alone give on this machine.

Schedule keeping is measured where it should hold: the overload runs measure the gateway's
capacity (texts answered per second, from its first text in to its last answer), then the
burst is planned at 70% of it. Twice: with the gateway in this process (the sends share its
event loop) and as `burst --sim` does it, the gateway in its own process on the app's core
and this process only planning and sending (in batches).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench import loops
from bench.affinity import Placement
from bench.children import Child
from bench.figures import Figure, Target
from bench.load import Clock
from bench.sizes import Size
from bench.stats import percentile, spread

P99_TARGET_MS = 2.0
CAPACITY_SHARE = 0.7  # schedule keeping is measured where it should hold
SEED = 2026


def scenario_data(size: Size, rate: float | None = None) -> dict[str, Any]:
    wave = size.burst_students / (rate or size.burst_rate)  # one text per student per wave
    return {
        "name": "bench-flash",
        "description": "flash burst: everyone texts, then re-texts on every answer",
        "seed": SEED,
        "population": {"size": size.burst_students},
        "texts": {
            "bodies": [{"body": "HERE 4417", "weight": 3}, {"body": "HERE 4471", "weight": 1}]
        },
        "arrival": {"kind": "flash", "within_s": wave},
        "students": {
            "retry_when": ".",
            "retry_probability": 1.0,
            "max_retries": size.burst_retexts,
            "delay_s": [wave * 0.95, wave * 1.05],
            "no_reply_after_s": 0,
        },
    }


class NullTarget:
    """Takes each planned text and does nothing with it, noting how late it came."""

    def __init__(self) -> None:
        self.lateness_ms: list[float] = []

    def send(self, text: Any, lateness_s: float) -> None:
        self.lateness_ms.append(lateness_s * 1000)

    def listen(self, listener: Any) -> None:
        pass

    async def quiet(self, timeout: float | None = None) -> None:
        pass

    async def events(self) -> list[Any]:
        return []

    async def close(self) -> None:
        pass


def _percentiles(lateness_ms: list[float]) -> dict[str, float]:
    ordered = sorted(lateness_ms)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else float("nan"),
    }


async def scheduler_alone(size: Size) -> dict[str, Any]:
    from twsim.scenario.burst import Burst
    from twsim.scenario.spec import scenario_from_dict

    target = NullTarget()
    burst = Burst(scenario_from_dict(scenario_data(size)), target, to="+15005550006")
    await burst.run()
    return _percentiles(target.lateness_ms)


class Tally:
    """What a run's events say about its schedule and how fast the gateway answered."""

    def __init__(self) -> None:
        self.planned: list[float] = []  # each send's lateness, ms
        self.planned_at: list[float] = []  # each send's planned time, s
        self.first_inbound_t: float | None = None
        self.last_answer_t = 0.0
        self.answered = 0

    def add(self, event: Any) -> None:
        from twsim.model.events import InboundReceived, SendPlanned, TwimlExecuted

        if isinstance(event, SendPlanned):
            if event.lateness_ms is not None:
                self.planned.append(float(event.lateness_ms))
            self.planned_at.append(float(event.planned_s))
        elif isinstance(event, InboundReceived):
            if self.first_inbound_t is None:
                self.first_inbound_t = event.t
        elif isinstance(event, TwimlExecuted):
            self.answered += 1
            self.last_answer_t = max(self.last_answer_t, event.t)

    def summary(self, spent: Any) -> dict[str, Any]:
        times = self.planned_at
        span = max(times) - min(times) if times else 0.0
        # the gateway's pace: from its first text in to its last answer (not the wait after)
        answering_s = self.last_answer_t - (self.first_inbound_t or 0.0)
        out = _percentiles(self.planned)
        out.update(
            {
                "texts": len(times),
                "planned_span_s": round(span, 3),
                "planned_rate_per_s": round(len(times) / span, 1) if span else None,
                "finished_after_s": round(spent.wall_s, 3),
                "answered": self.answered,
                "answered_per_s": round(self.answered / answering_s, 1) if answering_s else None,
                "gc_s": round(spent.gc_s, 3),
                "gc_longest_pause_ms": round(spent.gc_max_s * 1000, 1),
            }
        )
        return out


async def gateway_burst(app: Child, size: Size, rate: float | None = None) -> dict[str, Any]:
    """The burst with the gateway in this process: sends share its event loop."""
    from twsim.config.models import Config
    from twsim.model.events import InboundReceived, SendPlanned, TwimlExecuted
    from twsim.scenario.runner import run_burst
    from twsim.scenario.spec import scenario_from_dict
    from twsim.server.simulator import Simulator

    config = Config(seed=SEED)
    config.numbers[0].sms_url = f"{app.url}/sms"
    scenario = scenario_from_dict(scenario_data(size, rate))
    tally = Tally()
    async with Simulator(config, port=0) as sim:
        # counted as they happen: the gateway keeps only its recent events
        sim.gateway.events.subscribe(tally.add, SendPlanned, InboundReceived, TwimlExecuted)
        clock = Clock()
        await run_burst(scenario, sim=sim)
        spent = clock.round(1)
    return tally.summary(spent)


async def remote_burst(gateway: Child, size: Size, rate: float | None = None) -> dict[str, Any]:
    """`burst --sim URL`: the gateway in its own process, this one only planning and sending."""
    from twsim.scenario.runner import run_burst
    from twsim.scenario.spec import scenario_from_dict

    scenario = scenario_from_dict(scenario_data(size, rate))
    clock = Clock()
    result = await run_burst(scenario, sim_url=gateway.url)  # every event it followed
    spent = clock.round(1)
    tally = Tally()
    for event in result.events:
        tally.add(event)
    return tally.summary(spent)


def run(size: Size, repeats: int, placement: Placement) -> list[Figure]:
    bound = 120 + size.burst_students * (1 + size.burst_retexts) / 100
    burst_runs: list[dict[str, Any]] = []
    alone_runs: list[dict[str, Any]] = []
    with Child.start("bench.app", core=placement.app) as app:
        for _ in range(repeats):
            burst_runs.append(loops.run(asyncio.wait_for(gateway_burst(app, size), bound)))
            alone_runs.append(loops.run(asyncio.wait_for(scheduler_alone(size), bound)))
        # the overload runs measured what the gateway handles; now plan at 70% of that
        capacity = spread([float(r["answered_per_s"] or 0.0) for r in burst_runs]).median
        kept_rate = max(CAPACITY_SHARE * capacity, 1.0)
        kept_runs = [
            loops.run(asyncio.wait_for(gateway_burst(app, size, kept_rate), bound * 3))
            for _ in range(repeats)
        ]
        # `burst --sim`: the same, the gateway in its own process (a fresh one each run)
        sim_args = ("bench.sim_server", "--app", f"{app.url}/sms")

        def remote(rate: float | None) -> dict[str, Any]:
            with Child.start(*sim_args, core=placement.app) as gateway:
                return loops.run(asyncio.wait_for(remote_burst(gateway, size, rate), bound * 3))

        remote_over = [remote(None) for _ in range(repeats)]
        remote_capacity = spread([float(r["answered_per_s"] or 0.0) for r in remote_over]).median
        remote_rate = max(CAPACITY_SHARE * remote_capacity, 1.0)
        remote_kept = [remote(remote_rate) for _ in range(repeats)]

    def of(runs: list[dict[str, Any]], key: str) -> list[float]:
        return [float(r[key]) for r in runs]

    alone = {k: spread(of(alone_runs, k)) for k in ("p50", "p99", "max")}
    texts = size.burst_students * (1 + size.burst_retexts)
    warnings = [
        f"repeat {i + 1}: {r['texts']} texts sent, {r['answered']} answered (plan: {texts})"
        for i, r in enumerate(burst_runs)
        if r["texts"] != texts or r["answered"] != texts
    ]
    details = {
        "students": size.burst_students,
        "texts_per_student": 1 + size.burst_retexts,
        "texts": texts,
        "asked_rate_per_s": size.burst_rate,
        "seed": SEED,
        "runs": [{k: _round(v) for k, v in r.items()} for r in burst_runs],
        "scheduler_alone": [{k: _round(v) for k, v in r.items()} for r in alone_runs],
    }
    title = f"3. overload: flash burst {texts:,} texts @ {size.burst_rate:,.0f}/s: lateness"
    kept_title = (
        f"3. at 70% of the measured capacity ({capacity:,.0f}/s): {texts:,} texts "
        f"@ {kept_rate:,.0f}/s: lateness"
    )
    kept_details = {
        "capacity_per_s": round(capacity, 1),
        "planned_rate_per_s": round(kept_rate, 1),
        "runs": [{k: _round(v) for k, v in r.items()} for r in kept_runs],
    }
    kept_warnings = [
        f"repeat {i + 1}: {r['texts']} texts sent, {r['answered']} answered (plan: {texts})"
        for i, r in enumerate(kept_runs)
        if r["texts"] != texts or r["answered"] != texts
    ]
    remote_title = (
        f"3. burst --sim (gateway in its own process) at 70% of its measured capacity "
        f"({remote_capacity:,.0f}/s): {texts:,} texts @ {remote_rate:,.0f}/s: lateness"
    )
    remote_details = {
        "capacity_per_s": round(remote_capacity, 1),
        "planned_rate_per_s": round(remote_rate, 1),
        "overload_runs": [{k: _round(v) for k, v in r.items()} for r in remote_over],
        "runs": [{k: _round(v) for k, v in r.items()} for r in remote_kept],
    }
    remote_warnings = [
        f"repeat {i + 1}: {r['texts']} texts sent, {r['answered']} answered (plan: {texts})"
        for i, r in enumerate(remote_over + remote_kept)
        if r["texts"] != texts or r["answered"] != texts
    ]
    return [
        Figure(
            "burst_remote_lateness_p50",
            f"{remote_title} p50",
            "ms",
            spread(of(remote_kept, "p50")),
            beside="none set",
        ),
        Figure(
            "burst_remote_lateness_p99",
            f"{remote_title} p99",
            "ms",
            spread(of(remote_kept, "p99")),
            Target("<", P99_TARGET_MS),
            details=remote_details,
            warnings=remote_warnings,
        ),
        Figure(
            "burst_kept_lateness_p50",
            f"{kept_title} p50",
            "ms",
            spread(of(kept_runs, "p50")),
            beside="none set",
        ),
        Figure(
            "burst_kept_lateness_p99",
            f"{kept_title} p99",
            "ms",
            spread(of(kept_runs, "p99")),
            Target("<", P99_TARGET_MS),
            details=kept_details,
            warnings=kept_warnings,
        ),
        Figure(
            "burst_lateness_p50",
            f"{title} p50",
            "ms",
            spread(of(burst_runs, "p50")),
            beside=f"none set; scheduler alone {alone['p50'].median:.3f} ms",
        ),
        Figure(
            "burst_lateness_p99",
            f"{title} p99",
            "ms",
            spread(of(burst_runs, "p99")),
            beside="none set: overload (planned above the measured capacity)",
            details=details,
            warnings=warnings,
        ),
        Figure(
            "burst_lateness_max",
            f"{title} max",
            "ms",
            spread(of(burst_runs, "max")),
            beside=f"none set; scheduler alone {alone['max'].median:.3f} ms",
        ),
    ]


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value
