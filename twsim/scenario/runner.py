"""Running a scenario end to end: gateway (in this process or remote), burst, report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twsim.config import Config
from twsim.core.pricing import format_money
from twsim.events import Event
from twsim.progress import Progress
from twsim.report import Report, ReportBuilder, build
from twsim.scenario.burst import Burst
from twsim.scenario.spec import Scenario
from twsim.scenario.target import LocalTarget, RemoteTarget, Target
from twsim.simulator import Simulator


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


async def run_burst(
    scenario: Scenario,
    *,
    config: Config | None = None,
    sim: Simulator | None = None,
    sim_url: str | None = None,
    port: int = 0,
    record: str | Path | None = None,
    force: bool = False,
    show_progress: bool = False,
    speed: float = 1.0,
) -> BurstResult:
    """Run `scenario` against a gateway in this process or the one at `sim_url`.

    A given `sim` is used as it is (and left running); otherwise one is started from
    `config` (with the scenario's sms_url, if it names one) and stopped at the end.
    """
    owned: Simulator | None = None
    if sim is None and sim_url is None:
        config = config or Config()
        if scenario.sms_url:
            for number in config.numbers:
                number.sms_url = scenario.sms_url
        owned = sim = Simulator(
            config,
            port=port,
            record=record,
            record_meta={"scenario": scenario.identity()},
            force=force,
        )
        await sim.start()
    target: Target
    live = ReportBuilder()
    if sim is not None:
        to = scenario.to[0] if scenario.to else sim.number
        target = LocalTarget(sim.gateway)
        unsubscribe = sim.gateway.events.subscribe(live.add)
    else:
        assert sim_url is not None
        to = scenario.to[0] if scenario.to else (config or Config()).numbers[0].phone_number
        target = await RemoteTarget(sim_url).open()
        unsubscribe = None
    burst = Burst(scenario, target, to=to, speed=speed)
    progress = Progress(lambda: progress_line(burst, live), enabled=show_progress)
    progress.start()
    try:
        await burst.run()
        events = await target.events()
    finally:
        await progress.stop()
        await target.close()
        if unsubscribe is not None:
            unsubscribe()
        if owned is not None:
            await owned.stop()
    return BurstResult(build(events), events, burst)
