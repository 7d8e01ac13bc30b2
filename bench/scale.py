"""Figure 5: how twsim scales: memory per phone and per message, report and replay speed.

Memory is measured with tracemalloc (bytes Python allocated and still holds, after a
garbage collection), not RSS, so it counts the structures themselves and not allocator
slack or what other parts of the process do meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import loops
from bench.affinity import Placement
from bench.children import Child
from bench.figures import Figure, Target
from bench.pipeline import BODY, gateway_round, phones
from bench.schedule import NullTarget
from bench.sizes import Size
from bench.stats import spread

PHONE_TARGET_BYTES = 400.0
_TRACED = (
    "tracemalloc (bytes held after gc.collect); measured once, since the count is "
    "exact and the same every time, and tracing 100,000 of them is slow"
)


def _held() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _phone_scenario(students: int) -> Any:
    from twsim.scenario.spec import scenario_from_dict

    return scenario_from_dict(
        {
            "name": "bench-phones",
            "seed": 5,
            "population": {"size": students},
            "texts": {"bodies": ["HERE 4417", "HERE 4471"]},
            "arrival": {"kind": "flash", "within_s": 60},
            "students": {
                "retry_when": "invalid",
                "retry_probability": 0.5,
                "max_retries": 3,
                "impatient": {"probability": 0.0},
            },
        }
    )


class _NoPlan:
    """A scheduler stand-in that keeps no plan, to weigh the students without it."""

    def at(self, planned: float, action: Callable[[float], None]) -> None:
        pass


async def phone_memory(count: int) -> dict[str, Any]:
    """Bytes per simulated phone: Population (phones) + Burst students and their index,
    and separately the first-text plan the scheduler holds for each."""
    from twsim.scenario.burst import Burst

    _ = Burst(_phone_scenario(10), NullTarget(), to="+15005550006")  # warm imports and caches
    scenario = _phone_scenario(count)
    tracemalloc.start()
    try:
        base = _held()
        burst = Burst(scenario, NullTarget(), to="+15005550006")
        population = _held() - base
        burst.scheduler = _NoPlan()  # type: ignore[assignment]
        burst.prepare()
        students = _held() - base - population
        del burst
        base = _held()
        planned = Burst(scenario, NullTarget(), to="+15005550006")
        planned.scheduler.start()
        planned.prepare()
        with_plan = _held() - base
        del planned
    finally:
        tracemalloc.stop()
    return {
        "phones": count,
        "population_bytes_per_phone": round(population / count, 1),
        "students_bytes_per_phone": round(students / count, 1),
        "bytes_per_phone": round((population + students) / count, 1),
        "with_first_text_plan_bytes_per_phone": round(with_plan / count, 1),
    }


def message_memory(count: int) -> dict[str, Any]:
    """Bytes per stored message: inbound texts taken by `State.receive_inbound` (no webhook),
    with their events, then with the event log cleared (messages, order, ledger)."""
    from twsim.config.models import Config
    from twsim.gateway.runtime import Gateway

    senders = phones(count)
    gateway = Gateway(Config())
    to = gateway.config.numbers[0].phone_number
    receive = gateway.state.receive_inbound
    receive(from_=senders[0], to=to, body=BODY)  # warm caches
    gateway.reset()
    events_before = len(gateway.events)
    tracemalloc.start()
    try:
        base = _held()
        for sender in senders:
            receive(from_=sender, to=to, body=BODY)
        with_events = _held() - base
        events = len(gateway.events) - events_before
        gateway.events.clear()
        state_only = _held() - base
    finally:
        tracemalloc.stop()
    return {
        "messages": count,
        "events": events,
        "state_bytes_per_message": round(state_only / count, 1),
        "with_events_bytes_per_message": round(with_events / count, 1),
        "event_bytes": round((with_events - state_only) / max(events, 1), 1),
    }


async def make_recording(app: Child, events: int, path: Path, concurrency: int) -> int:
    """A recording of exactly `events` events: the gateway answering inbound texts."""
    full = path.with_suffix(".full.jsonl")
    inbound = math.ceil(events / 8)
    while True:
        _, info = await gateway_round(app, inbound, concurrency, 0, full)
        if info["events_recorded"] >= events:
            break
        inbound = math.ceil(inbound * 1.3)
    with full.open("rb") as source, path.open("wb") as out:
        out.write(source.readline())  # header
        for _, line in zip(range(events), source, strict=False):
            out.write(line)
    full.unlink()
    return inbound


def report_speed(path: Path, events: int) -> dict[str, float]:
    from twsim.analysis.report import build
    from twsim.recording.journal import read_recording

    started = time.perf_counter()
    recording = read_recording(path)
    read = time.perf_counter()
    build(recording.events)
    done = time.perf_counter()
    assert len(recording.events) == events, (len(recording.events), events)
    started_json = time.perf_counter()
    with path.open("rb") as lines:
        for line in lines:
            json.loads(line)
    json_only = time.perf_counter() - started_json
    return {
        "report_events_per_s": events / (done - started),
        "build_events_per_s": events / (done - read),
        "read_events_per_s": events / (read - started),
        "json_loads_events_per_s": events / json_only,
    }


async def replay_speed(app: Child, path: Path) -> dict[str, float]:
    from twsim.config.models import Config
    from twsim.recording.journal import read_recording
    from twsim.scenario.replay import inbound_texts, replay
    from twsim.scenario.target import LocalTarget
    from twsim.server.simulator import Simulator

    texts = inbound_texts(read_recording(path).events)
    config = Config()
    config.numbers[0].sms_url = f"{app.url}/sms"
    async with Simulator(config, port=0) as sim:
        target = LocalTarget(sim.gateway, source="replay")
        first = sim.gateway.events.last_seq
        started = time.perf_counter()
        await replay(texts, target, speed=None)
        took = time.perf_counter() - started
        produced = sim.gateway.events.last_seq - first
        await target.close()
    return {
        "texts": len(texts),
        "events_produced": produced,
        "seconds": took,
        "events_per_s": produced / took,
        "texts_per_s": len(texts) / took,
    }


def run(size: Size, repeats: int, placement: Placement) -> list[Figure]:
    phone = loops.run(phone_memory(size.phones))
    message = message_memory(size.messages)
    reports: list[dict[str, float]] = []
    replays: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="twsim-bench-") as tmp,
        Child.start("bench.app", core=placement.app) as app,
    ):
        path = Path(tmp) / "recording.jsonl"
        inbound = loops.run(
            asyncio.wait_for(
                make_recording(app, size.recording_events, path, size.concurrency),
                120 + size.recording_events / 100,
            )
        )
        for _ in range(repeats):
            reports.append(report_speed(path, size.recording_events))
            replays.append(loops.run(asyncio.wait_for(replay_speed(app, path), 120 + inbound / 50)))

    def of(runs: list[dict[str, float]], key: str) -> list[float]:
        return [r[key] for r in runs]

    json_rate = spread(of(reports, "json_loads_events_per_s"))
    replay_warnings = [
        f"repeat {i + 1}: replay produced {r['events_produced']:.0f} events"
        for i, r in enumerate(replays)
        if r["events_produced"] < r["texts"] * 2
    ]
    events = size.recording_events
    return [
        Figure(
            "phone_bytes",
            f"5. memory per simulated phone @ {size.phones:,} (Population + students)",
            "B",
            spread([phone["bytes_per_phone"]]),
            Target("<", PHONE_TARGET_BYTES),
            details=phone | {"measured_with": _TRACED},
        ),
        Figure(
            "phone_bytes_with_plan",
            f"5. ... plus each phone's planned first text @ {size.phones:,}",
            "B",
            spread([phone["with_first_text_plan_bytes_per_phone"]]),
            beside="none set (for reference)",
        ),
        Figure(
            "message_bytes",
            f"5. memory per stored message @ {size.messages:,} (State)",
            "B",
            spread([message["state_bytes_per_message"]]),
            beside="none set",
            details=message | {"measured_with": _TRACED},
        ),
        Figure(
            "message_bytes_with_events",
            f"5. memory per stored message @ {size.messages:,} with its events",
            "B",
            spread([message["with_events_bytes_per_message"]]),
            beside="none set",
        ),
        Figure(
            "report_events_per_s",
            f"5. report of a {events:,}-event recording (read + build)",
            "ev/s",
            spread(of(reports, "report_events_per_s")),
            beside=f"none set; bare json.loads {json_rate.median:,.0f} ev/s",
            details={
                "events": events,
                "inbound_texts_recorded": inbound,
                "build_only_events_per_s": spread(of(reports, "build_events_per_s")).to_json(0),
                "read_only_events_per_s": spread(of(reports, "read_events_per_s")).to_json(0),
                "json_loads_events_per_s": json_rate.to_json(0),
                "report_over_json_loads": spread(
                    [r["report_events_per_s"] / r["json_loads_events_per_s"] for r in reports]
                ).to_json(3),
            },
        ),
        Figure(
            "replay_events_per_s",
            "5. replay --speed max against the trivial app",
            "ev/s",
            spread(of(replays, "events_per_s")),
            beside="none set",
            warnings=replay_warnings,
            details={
                "texts": replays[0]["texts"],
                "events_produced": spread(of(replays, "events_produced")).to_json(0),
                "texts_per_s": spread(of(replays, "texts_per_s")).to_json(1),
                "path": "inbound_texts + replay(speed=None) + LocalTarget, as `twsim replay --speed max`",
            },
        ),
    ]
