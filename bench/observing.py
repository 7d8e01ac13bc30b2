"""Figure 6: observers must not distort what they measure.

The same inbound pipeline as figure 1 (signed webhooks, TwiML replies, lifecycles, a
recording), against an app that logs one line and writes one SQLite row per text, run
with every observer off and then on: the SMTP sink listening, the log watcher following
the app's log (looking at every webhook's start and end), the database observer counting
and reading the new rows, and the process probe sampling the app, all on the usual
interval. Each repeat runs both, back to back in alternating order; the figure is the
ratio of texts handled per second, on ÷ off (target: within 10%, so ≥ 0.9), and the
observers' own CPU is the gateway process's extra CPU per text with them on.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench import loops
from bench.affinity import Placement
from bench.children import Child
from bench.figures import Figure, Target
from bench.load import Clock, Round, drive
from bench.pipeline import BODY, _bound, phones
from bench.sizes import Size
from bench.stats import spread

RATIO_TARGET = 0.9


async def observed_round(
    app: Child, size: Size, workdir: Path, log: Path, db: Path, *, observe: bool, tag: str
) -> tuple[Round, dict[str, Any]]:
    from twsim.config.models import Config
    from twsim.config.observing import ObserveConfig
    from twsim.gateway.runtime import Gateway
    from twsim.observe.observers import Observers
    from twsim.recording.journal import Recorder

    config = Config()
    config.numbers[0].sms_url = f"{app.url}/sms"
    gateway = Gateway(config)
    observers = None
    if observe:
        config.observe = ObserveConfig(
            smtp=("127.0.0.1", 0),
            logs=[str(log)],
            databases=[f"sqlite:///{db}"],
            pids=[app.process.pid],
        )
        observers = Observers(config.observe, gateway.events, gateway.state.effects, gateway.clock)
        await observers.start()
        gateway.quiet_hooks.append(observers.settle)
    from twsim.model.events import DbRows, Event, LogLines

    seen = {"log_lines_seen": 0, "db_rows_seen": 0}

    def count(event: Event) -> None:  # as they happen: the gateway keeps only recent events
        if isinstance(event, LogLines):
            seen["log_lines_seen"] += event.lines
        elif isinstance(event, DbRows):
            seen["db_rows_seen"] += event.delta

    gateway.events.subscribe(count, LogLines, DbRows)
    recorder = Recorder.create(
        workdir / f"{tag}.jsonl", gateway.events, seed=0, prices=gateway.prices, force=True
    )
    recorder.start()
    to = config.numbers[0].phone_number
    senders = phones(size.warmup + size.pipeline_inbound)
    failed = 0

    async def one(index: int) -> None:
        nonlocal failed
        _, outcome = await gateway.receive(from_=senders[index], to=to, body=BODY, wait=True)
        if outcome is None or outcome.error_code is not None or len(outcome.replies) != 1:
            failed += 1

    try:
        await drive(size.warmup, size.concurrency, one)
        await gateway.quiet(60)
        clock = Clock(app.cpu_seconds)
        await drive(size.pipeline_inbound, size.concurrency, one, start=size.warmup)
        await gateway.quiet(120)
        result = clock.round(size.pipeline_inbound)
        if observers is not None:
            await observers.stop()
    finally:
        recorder.close()
        await gateway.close()
    return result, {"failed": failed, **seen}


def run(size: Size, repeats: int, placement: Placement) -> list[Figure]:
    ratios, on_rates, off_rates, extra_cpu = [], [], [], []
    warnings: list[str] = []
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="twsim-bench-observe-") as tmp:
        workdir = Path(tmp)
        log, db = workdir / "app.log", workdir / "app.sqlite"
        with Child.start(
            "bench.noisy_app", "--log", str(log), "--db", str(db), core=placement.app
        ) as app:
            for repeat in range(repeats):
                order = (False, True) if repeat % 2 == 0 else (True, False)
                results: dict[bool, tuple[Round, dict[str, Any]]] = {}
                for observe in order:
                    work = observed_round(
                        app, size, workdir, log, db, observe=observe, tag=f"{repeat}-{observe}"
                    )
                    results[observe] = loops.run(
                        asyncio.wait_for(work, _bound(size.pipeline_inbound))
                    )
                (on, on_info), (off, off_info) = results[True], results[False]
                expected = size.warmup + size.pipeline_inbound
                for name, info in (("on", on_info), ("off", off_info)):
                    if info["failed"]:
                        warnings.append(f"repeat {repeat + 1}, observers {name}: {info}")
                if on_info["log_lines_seen"] < expected or on_info["db_rows_seen"] < expected:
                    warnings.append(f"repeat {repeat + 1}: observers missed effects: {on_info}")
                ratios.append(on.rate / off.rate)
                on_rates.append(on.rate)
                off_rates.append(off.rate)
                extra_cpu.append(on.cpu_us - off.cpu_us)
                rounds.append(
                    {
                        "order": ["on" if o else "off" for o in order],
                        "on": {"per_s": round(on.rate, 1), "cpu_us_per_op": round(on.cpu_us, 2)}
                        | on_info,
                        "off": {"per_s": round(off.rate, 1), "cpu_us_per_op": round(off.cpu_us, 2)}
                        | off_info,
                    }
                )
    return [
        Figure(
            "observers_on_vs_off",
            "6. pipeline with every observer on ÷ off (app logs and writes a row per text)",
            "",
            spread(ratios),
            Target(">=", RATIO_TARGET),
            details={
                "texts_per_s_on": spread(on_rates).to_json(1),
                "texts_per_s_off": spread(off_rates).to_json(1),
                "rounds": rounds,
            },
            warnings=warnings,
        ),
        Figure(
            "observers_cpu_per_inbound",
            "6. the observers' own CPU per handled inbound (gateway CPU, on − off)",
            "µs",
            spread(extra_cpu),
            beside="none set",
            details={"measured_with": "time.process_time() of the gateway process, on − off"},
        ),
    ]
