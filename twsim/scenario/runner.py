"""Running a burst or a replay end to end: gateway (in this process or remote), texts, events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twsim.analysis.report import Report, ReportBuilder, build
from twsim.config.models import Config
from twsim.core.pricing import format_money
from twsim.model.events import Event
from twsim.scenario.burst import Burst
from twsim.scenario.replay import replay
from twsim.scenario.spec import Scenario
from twsim.scenario.target import LocalTarget, RemoteTarget, Target, Text
from twsim.server.simulator import Simulator

# Shows a run's progress while its block runs: given what to show, the block to run it in.
Watch = Callable[[Callable[[], str]], AbstractAsyncContextManager[None]]


@dataclass(slots=True)
class BurstResult:
    report: Report
    events: list[Event]
    burst: Burst


def progress_line(burst: Burst, live: ReportBuilder) -> str:
    replies = sum(1 for m in live.outbound.values() if m.origin == "reply")
    cost = live.inbound_cost + sum(live.outbound_cost.values())
    errors = sum(live.errors.values())
    return (
        f"sent {burst.sent}  answered {live.webhooks}  replies {replies}  "
        f"REST sends {len(live.outbound) - replies}  errors {errors}  cost ${format_money(cost)}"
    )


@dataclass(slots=True)
class Connection:
    """Where a run's texts go: the target, the in-process gateway (if any), its number."""

    target: Target
    sim: Simulator | None
    number: str


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
) -> AsyncIterator[Connection]:
    """A target for a run: the given `sim`, a gateway at `sim_url`, or (by default) a new
    gateway in this process from `config`, recording to `record`, stopped at the end."""
    config = config or Config()
    owned: Simulator | None = None
    if sim is None and sim_url is None:
        owned = sim = Simulator(config, port=port, record=record, record_meta=meta, force=force)
        await sim.start()
    try:
        if sim is not None:
            connection = Connection(LocalTarget(sim.gateway, source=source), sim, sim.number)
        else:
            assert sim_url is not None
            remote = await RemoteTarget(sim_url, source=source).open()
            connection = Connection(remote, None, config.numbers[0].phone_number)
        try:
            yield connection
        finally:
            await connection.target.close()
    finally:
        if owned is not None:
            await owned.stop()


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
    share: tuple[int, int] = (0, 1),
    ready: Callable[[], Awaitable[None]] | None = None,
) -> BurstResult:
    """Run `scenario` against a gateway in this process or the one at `sim_url`.

    A given `sim` is used as it is (and left running); otherwise one is started from
    `config` (with the scenario's sms_url, if it names one) and stopped at the end. `share`
    plays only some of the students (see `Burst`); `ready`, when given, is awaited once the
    gateway is up, just before the first text is planned.
    """
    config = config or Config()
    if scenario.sms_url and sim is None:
        for number in config.numbers:
            number.sms_url = scenario.sms_url
    meta = {"scenario": scenario.identity()}
    live = ReportBuilder()
    async with connect(
        config=config, sim=sim, sim_url=sim_url, port=port, record=record, force=force, meta=meta
    ) as c:
        unsubscribe = c.sim.gateway.events.subscribe(live.add) if c.sim is not None else None
        burst = Burst(
            scenario,
            c.target,
            to=scenario.to[0] if scenario.to else c.number,
            speed=speed,
            share=share,
        )
        if ready is not None:
            await ready()
        watching = watch(lambda: progress_line(burst, live)) if watch else nullcontext()
        try:
            async with watching:
                await burst.run()
            events = await c.target.events()
        finally:
            if unsubscribe is not None:
                unsubscribe()
    return BurstResult(build(events), events, burst)


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
) -> list[Event]:
    """Replay `texts` against a gateway in this process or the one at `sim_url`; the events."""
    async with connect(
        config=config,
        sim_url=sim_url,
        port=port,
        record=record,
        force=force,
        meta=meta,
        source="replay",
    ) as c:
        await replay(texts, c.target, speed=speed)
        if c.sim is not None:  # everything this gateway did: what its recording holds
            return list(c.sim.gateway.events)
        return await c.target.events()
