"""One load run over several processes: the plan split by request number, figures merged.

Worker w of N takes requests w, w + N, w + 2N, ... (and its share of the closed model's
connections). Request i is the same webhook whichever worker sends it (`RequestPlan`), and
in the open model it is due at the same instant, `start + i / rate`: every worker waits
for one start time on the machine's monotonic clock (shared by all processes on Linux and
macOS). Each worker hands back exact counts, costs and HDR histograms, which `LoadResult.merge`
adds into one result.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection

from twsim.core.pricing import PriceTable
from twsim.load.generator import Load
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec
from twsim.model.clock import Clock, SystemClock
from twsim.server.processes import run_loop

START_MARGIN_S = 0.05  # between the go signal and the common start
READY_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Share:
    """One worker's part of the plan."""

    indices: range
    concurrency: int


def split(spec: LoadSpec, workers: int) -> list[Share]:
    """The plan in `workers` shares (fewer when there are fewer requests or connections)."""
    count = min(workers, spec.requests)
    if spec.rate is None:
        count = min(count, spec.concurrency)
    count = max(count, 1)
    base, extra = divmod(spec.concurrency, count)
    return [
        Share(range(w, spec.requests, count), max(1, base + (1 if w < extra else 0)))
        for w in range(count)
    ]


def _worker(spec: LoadSpec, prices: PriceTable, share: Share, pipe: Connection) -> None:
    """A worker process: get ready, wait for the common start, run, hand back the figures."""
    load = Load(spec, prices, indices=share.indices, concurrency=share.concurrency)
    pipe.send("ready")
    start_at = pipe.recv()
    load.start_at = start_at
    result = run_loop(load.run())
    pipe.send(result.to_wire())
    pipe.close()


def run_workers(
    spec: LoadSpec, prices: PriceTable, workers: int, *, clock: Clock | None = None
) -> LoadResult:
    """Run `spec` on `workers` processes and merge what they measured."""
    clock = clock or SystemClock()
    shares = split(spec, workers)
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    try:
        for share in shares:
            parent, child = context.Pipe()
            process = context.Process(
                target=_worker, args=(spec, prices, share, child), daemon=True
            )
            process.start()
            child.close()
            pipes.append(parent)
            processes.append(process)
        for pipe, process in zip(pipes, processes, strict=True):
            if not pipe.poll(READY_TIMEOUT_S) or pipe.recv() != "ready":
                raise RuntimeError(f"load worker {process.pid} did not start")
        start_at = clock.monotonic() + START_MARGIN_S
        for pipe in pipes:
            pipe.send(start_at)
        merged = LoadResult(rate=spec.rate)
        for pipe, process in zip(pipes, processes, strict=True):
            try:
                wire = pipe.recv()
            except EOFError:
                raise RuntimeError(f"load worker {process.pid} stopped without a result") from None
            merged.merge(LoadResult.from_wire(wire))
        merged.workers = len(shares)
        return merged
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(10)
        for pipe in pipes:
            pipe.close()
