"""Running a burst or a replay end to end: gateway (in this process or remote), texts, events.

A run can be stopped early through `stop` (an interrupt): no new texts, a short grace for
those in flight, then the report of what happened. A remote gateway that goes away stops
the run the same way, and its result says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twsim.analysis.html import run_figures
from twsim.analysis.live import Snapshot, snapshot
from twsim.analysis.report import Report, ReportBuilder, build
from twsim.config.models import Config
from twsim.model.events import Event
from twsim.model.stopping import DEFAULT_GRACE_S, run_until_stopped
from twsim.scenario.burst import Burst
from twsim.scenario.replay import Replay
from twsim.scenario.spec import Scenario
from twsim.scenario.target import LocalTarget, RemoteTarget, Target, Text
from twsim.server.simulator import Simulator


class NoWebhook(ValueError):
    """A run would text numbers whose texts go to no app."""


def refuse_undelivered(target: Target, numbers: Iterable[str]) -> None:
    """Refuse to start a run whose texts would be stored without reaching any app."""
    webhooks = target.webhooks()
    missing = sorted({n for n in numbers if n in webhooks and webhooks[n] is None})
    if missing:
        raise NoWebhook(
            f"number {', '.join(missing)} has no webhook URL, so the texts would reach no app: "
            "give the app's URL with --app URL (or sms_url in the config or scenario), or "
            "--store-only to keep the texts without delivering them"
        )


# Shows a run's progress while its block runs: given what to show, the block to run it in.
Watch = Callable[[Callable[[], Snapshot]], AbstractAsyncContextManager[None]]


@dataclass(slots=True)
class Ending:
    """How a run ended: all its texts sent, or stopped early (and why)."""

    sent: int
    planned: int
    interrupted: bool = False
    lost: str | None = None  # the remote gateway went away: why
    recording: Path | None = None
    unfinished: int = 0  # webhooks still in flight when the run gave up waiting

    @property
    def complete(self) -> bool:
        return not self.interrupted and self.lost is None


@dataclass(slots=True)
class BurstResult:
    report: Report
    events: list[Event]  # those the gateway still keeps (`retention`)
    burst: Burst
    ending: Ending
    figures: dict[str, Any] | None = None  # the report and its series, when asked (`series`)


@dataclass(slots=True)
class ReplayResult:
    events: list[Event]  # those the gateway still keeps (`retention`)
    ending: Ending
    report: Report | None = None  # folded from every event, when the run had its own gateway
    figures: dict[str, Any] | None = None  # the report and its series, when asked (`series`)


@dataclass(slots=True)
class Connection:
    """Where a run's texts go: the target, the in-process gateway (if any), its number."""

    target: Target
    sim: Simulator | None
    number: str
    remote: RemoteTarget | None = None

    def follow(self, subscriber: Callable[[Event], None]) -> Callable[[], None]:
        """Feed `subscriber` every event of the run as it happens; returns an unsubscribe."""
        if self.sim is not None:
            return self.sim.gateway.events.subscribe(subscriber)
        assert self.remote is not None
        self.remote.subscribe(subscriber)
        return lambda: None

    @property
    def recording(self) -> Path | None:
        if self.sim is not None and self.sim.recorder is not None:
            return self.sim.recorder.path
        return None


@asynccontextmanager
async def connect(
    *,
    config: Config | None = None,
    sim: Simulator | None = None,
    sim_url: str | None = None,
    port: int = 0,
    record: str | Path | None = None,
    force: bool = False,
    meta: dict[str, Any] | None = None,
    source: str = "scenario",
    series: bool = False,
) -> AsyncIterator[Connection]:
    """A target for a run: the given `sim`, a gateway at `sim_url`, or (by default) a new
    gateway in this process from `config`, recording to `record`, stopped at the end (its
    live report keeping the time series too, with `series`)."""
    config = config or Config()
    owned: Simulator | None = None
    if sim is None and sim_url is None:
        owned = sim = Simulator(
            config, port=port, record=record, record_meta=meta, force=force, series=series
        )
        await sim.start()
    try:
        if sim is not None:
            connection = Connection(LocalTarget(sim.gateway, source=source), sim, sim.number)
        else:
            assert sim_url is not None
            remote = await RemoteTarget(sim_url, source=source).open()
            connection = Connection(remote, None, config.numbers[0].phone_number, remote)
        try:
            yield connection
        finally:
            await connection.target.close()
    finally:
        if owned is not None:
            await owned.stop()


async def _run(
    c: Connection,
    work: Any,
    halt: Callable[[], None],
    stop: asyncio.Event | None,
    grace_s: float,
) -> tuple[bool, int]:
    """Run `work` until done or stopped (by `stop`, or by a remote gateway going away).

    Returns (stopped early, webhooks still in flight when the run stopped waiting).
    """
    stop = stop or asyncio.Event()
    if c.remote is not None:
        c.remote.on_lost(lambda _: stop.set())
    try:
        stopped = await run_until_stopped(work, stop, halt, grace_s)
    except TimeoutError:  # the gateway was still busy when the wait for quiet ran out
        stopped = False
    busy = c.sim.gateway.busy if c.sim is not None else 0
    return stopped, busy


async def run_burst(
    scenario: Scenario,
    *,
    config: Config | None = None,
    sim: Simulator | None = None,
    sim_url: str | None = None,
    port: int = 0,
    record: str | Path | None = None,
    force: bool = False,
    watch: Watch | None = None,
    speed: float = 1.0,
    store_only: bool = False,
    stop: asyncio.Event | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    share: tuple[int, int] = (0, 1),
    ready: Callable[[], Awaitable[None]] | None = None,
    series: bool = False,
) -> BurstResult:
    """Run `scenario` against a gateway in this process or the one at `sim_url`.

    A given `sim` is used as it is (and left running); otherwise one is started from
    `config` (with the scenario's sms_url, if it names one) and stopped at the end.
    Setting `stop` ends the run early: see the module notes. `share` plays only some of the
    students (see `Burst`); `ready`, when given, is awaited once the gateway is up, just
    before the first text is planned. `series` adds the report's time series to the result
    (for the HTML report), folded from every event when the run has its own gateway.
    """
    config = config or Config()
    if scenario.sms_url and sim is None:
        for number in config.numbers:
            number.sms_url = scenario.sms_url
    meta = {"scenario": scenario.identity()}
    live = ReportBuilder()
    async with connect(
        config=config,
        sim=sim,
        sim_url=sim_url,
        port=port,
        record=record,
        force=force,
        meta=meta,
        series=series,
    ) as c:
        to = scenario.to[0] if scenario.to else c.number
        if not store_only:
            refuse_undelivered(c.target, [to])
        unsubscribe = c.follow(live.add) if watch else None
        clock = c.sim.gateway.clock if c.sim is not None else None
        burst = Burst(scenario, c.target, to=to, speed=speed, clock=clock, share=share)

        def figures() -> Snapshot:
            if not burst.scheduler.started:
                return snapshot(live, 0)
            elapsed = burst.scheduler.elapsed
            pace = burst.pace
            return snapshot(
                live,
                burst.sent,
                planned=pace.planned,
                due=pace.due(elapsed),
                remaining_s=max(pace.last_s - elapsed, 0.0) / speed,
                phase="waiting for the app's answers" if not burst.scheduler.pending else "",
            )

        watching = watch(figures) if watch else nullcontext()
        if ready is not None:
            await ready()
        try:
            async with watching:
                stopped, busy = await _run(c, burst.run(), burst.halt, stop, grace_s)
            events = await c.target.events()
        finally:
            if unsubscribe is not None:
                unsubscribe()
        ending = _ending(c, burst.sent, burst.pace.planned, stopped, busy)
    # a gateway started for this run has folded every event since it started, so its
    # report stays exact however few events it keeps (retention)
    own = sim is None and sim_url is None and c.sim is not None
    report = c.sim.report.result() if own and c.sim is not None else build(events)
    charted = _figures(c, events, own) if series else None
    return BurstResult(report, events, burst, ending, charted)


def _figures(c: Connection, events: list[Event], own: bool) -> dict[str, Any]:
    """The run's report and series: its own gateway's, folded from every event, or else
    from the events at hand."""
    if own and c.sim is not None:
        live = c.sim.report.figures()
        if live is not None:
            return live
    return run_figures(events)


async def run_replay(
    texts: list[Text],
    *,
    speed: float | None,
    config: Config | None = None,
    sim_url: str | None = None,
    port: int = 0,
    record: str | Path | None = None,
    force: bool = False,
    meta: dict[str, Any] | None = None,
    store_only: bool = False,
    watch: Watch | None = None,
    stop: asyncio.Event | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    prepare: Callable[[Connection], Any] | None = None,
    series: bool = False,
) -> ReplayResult:
    """Replay `texts` against a gateway in this process or the one at `sim_url`.

    `prepare(connection)` (awaited when it returns an awaitable) runs once the gateway is
    up, before the first text. Setting `stop` ends the run early: see the module notes.
    `series`: as for `run_burst`.
    """
    live = ReportBuilder()
    async with connect(
        config=config,
        sim_url=sim_url,
        port=port,
        record=record,
        force=force,
        meta=meta,
        source="replay",
        series=series,
    ) as c:
        if prepare is not None:
            prepared = prepare(c)
            if asyncio.iscoroutine(prepared):
                await prepared
        if not store_only:
            refuse_undelivered(c.target, {t.to for t in texts})
        unsubscribe = c.follow(live.add) if watch else None
        clock = c.sim.gateway.clock if c.sim is not None else None
        run = Replay(texts, c.target, speed=speed, clock=clock)

        def figures() -> Snapshot:
            scheduler = run.scheduler
            if scheduler is None or not scheduler.started:  # back to back: no plan to keep
                return snapshot(live, run.sent, planned=len(texts))
            elapsed = scheduler.elapsed
            return snapshot(
                live,
                run.sent,
                planned=len(texts),
                due=run.pace.due(elapsed),
                remaining_s=max(run.pace.last_s - elapsed, 0.0) / scheduler.speed,
                phase="waiting for the app's answers" if not scheduler.pending else "",
            )

        watching = watch(figures) if watch else nullcontext()
        try:
            async with watching:
                stopped, busy = await _run(c, run.run(), run.halt, stop, grace_s)
            if c.sim is not None:  # everything this gateway did: what its recording holds
                events = list(c.sim.gateway.events)
            else:
                events = await c.target.events()
        finally:
            if unsubscribe is not None:
                unsubscribe()
        ending = _ending(c, run.sent, len(texts), stopped, busy)
        own = c.sim is not None and sim_url is None
        report = c.sim.report.result() if own and c.sim is not None else None
        charted = _figures(c, events, own) if series else None
    return ReplayResult(events, ending, report, charted)


def _ending(c: Connection, sent: int, planned: int, stopped: bool, busy: int) -> Ending:
    lost = c.remote.lost if c.remote is not None else None
    return Ending(
        sent=sent,
        planned=planned,
        interrupted=stopped and lost is None,
        lost=lost,
        recording=c.recording,
        unfinished=busy,
    )
