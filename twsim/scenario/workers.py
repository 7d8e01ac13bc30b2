"""One burst over several processes: each plays every N-th student, the recordings merged.

Worker w of N runs its own in-process gateway and plays the students whose index % N == w;
every draw is keyed by (student, text number), so the texts and their planned times are
those of a one-process run. All workers start their schedules at one instant on the
machine's monotonic clock. Each records every event; the recordings are merged into one
(time offsets aligned on the gateways' start times, sequence numbers renumbered) and the
report is built from the merged events, so its counts, costs and latencies are exact.

Worker 0's gateway serves `port` (the app's Twilio base URL points there); the others serve
a free port. An app that sends through the REST API therefore sends every text's REST
messages through worker 0: the report shows those caused by the other workers' texts as
unattributed. Apps that answer with TwiML are measured exactly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import tempfile
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

from twsim.analysis.report import Report, build
from twsim.config.models import Config
from twsim.model.clock import SystemClock
from twsim.model.events import Event
from twsim.recording.journal import Header, open_new, read_recording, recording_lines
from twsim.scenario.runner import run_burst
from twsim.scenario.spec import Scenario
from twsim.server.processes import run_loop

START_MARGIN_S = 0.05
READY_TIMEOUT_S = 120.0
_SEED_STRIDE = 1_000_003  # each worker's gateway draws its SIDs from its own seed


@dataclass(slots=True)
class MergedBurst:
    report: Report
    events: list[Event]
    header: Header


def _worker(
    scenario: Scenario,
    config: Config,
    share: tuple[int, int],
    port: int,
    record: str,
    speed: float,
    store_only: bool,
    pipe: Connection,
) -> None:
    clock = SystemClock()

    async def ready() -> None:
        pipe.send("ready")
        start_at = await asyncio.to_thread(pipe.recv)
        await clock.sleep(start_at - clock.monotonic())

    run_loop(
        run_burst(
            scenario,
            config=config,
            port=port,
            record=record,
            force=True,
            speed=speed,
            share=share,
            ready=ready,
            store_only=store_only,
        )
    )
    pipe.send("done")
    pipe.close()


def merge(recordings: list[tuple[Header, list[Event]]]) -> tuple[Header, list[Event]]:
    """One recording from several gateways': offsets moved to the earliest start, in time
    order (ties by worker, then by each worker's order), numbered again."""
    starts = [datetime.fromisoformat(h.started_at) if h.started_at else None for h, _ in recordings]
    known = [s for s in starts if s is not None]
    first = min(known) if known else None
    merged: list[tuple[float, int, int, Event]] = []
    for worker, ((_, events), start) in enumerate(zip(recordings, starts, strict=True)):
        shift = (start - first).total_seconds() if start is not None and first else 0.0
        for event in events:
            event.t = round(event.t + shift, 6)
            merged.append((event.t, worker, event.seq, event))
    merged.sort(key=lambda item: item[:3])
    out = []
    for seq, (_, _, _, event) in enumerate(merged, start=1):
        event.seq = seq
        out.append(event)
    header = recordings[0][0]
    if first is not None:
        header.started_at = first.isoformat()
    return header, out


def run_burst_workers(
    scenario: Scenario,
    workers: int,
    *,
    config: Config,
    port: int,
    record: str | None = None,
    force: bool = False,
    speed: float = 1.0,
    store_only: bool = False,
) -> MergedBurst:
    """Run `scenario` split over `workers` processes; one merged recording and report."""
    if record is not None:
        open_new(record, force=force).close()  # refuse an existing file before any work
    if scenario.sms_url:
        for number in config.numbers:
            number.sms_url = scenario.sms_url
    clock = SystemClock()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="twsim-burst-") as tmp:
        paths = [str(Path(tmp) / f"worker-{w}.jsonl") for w in range(workers)]
        pipes: list[Connection] = []
        processes = []
        try:
            for w in range(workers):
                parent, child = context.Pipe()
                worker_config = dataclasses.replace(config, seed=config.seed + w * _SEED_STRIDE)
                process = context.Process(
                    target=_worker,
                    args=(
                        scenario,
                        worker_config,
                        (w, workers),
                        port if w == 0 else 0,
                        paths[w],
                        speed,
                        store_only,
                        child,
                    ),
                    daemon=True,
                )
                process.start()
                child.close()
                pipes.append(parent)
                processes.append(process)
            for pipe, process in zip(pipes, processes, strict=True):
                if not pipe.poll(READY_TIMEOUT_S) or pipe.recv() != "ready":
                    raise RuntimeError(f"burst worker {process.pid} did not start")
            start_at = clock.monotonic() + START_MARGIN_S
            for pipe in pipes:
                pipe.send(start_at)
            for pipe, process in zip(pipes, processes, strict=True):
                try:
                    done = pipe.recv()
                except EOFError:
                    done = None
                if done != "done":
                    raise RuntimeError(f"burst worker {process.pid} stopped before the end")
        finally:
            for process in processes:
                process.join(30)
                if process.is_alive():
                    process.kill()
                    process.join(10)
            for pipe in pipes:
                pipe.close()
        recordings = []
        for path in paths:
            recording = read_recording(path)
            recordings.append((recording.header, recording.events))
    header, events = merge(recordings)
    header.meta = dict(header.meta) | {"workers": workers}
    if record is not None:
        with open_new(record, force=True) as out:
            out.writelines(recording_lines(header, events))
    return MergedBurst(build(events), events, header)
