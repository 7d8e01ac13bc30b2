"""The classroom demo: the same flash crowd against a naive app and a fixed one.

Starts a gateway with its observers (an SMTP sink for the professor's mail, the app's log
file, its SQLite database, its process), runs the shipped attendance app (a real web app,
in its own process) in its naive form, runs the classroom scenario, stops the app and
prints the report; then does the same with the fixed app, and shows the two side by
side: SMS next to the professor's inbox, database rows and log lines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twsim.analysis.report import Report, build
from twsim.analysis.text import render, side_by_side
from twsim.cli import options, progress
from twsim.cli.running import run as run_async
from twsim.config.models import Config
from twsim.config.observing import ObserveConfig
from twsim.config.shipped import demo_app
from twsim.observe.app_process import AppProcess
from twsim.scenario.runner import run_burst
from twsim.scenario.spec import Scenario, load_scenario
from twsim.server.simulator import Simulator


async def run_app_burst(
    scenario: Scenario, *, fixed: bool, workdir: Path, show_progress: bool = False
) -> Report:
    """One round: gateway and observers + attendance app (naive or fixed) + the scenario."""
    name = "fixed" if fixed else "naive"
    db, log = workdir / f"{name}.sqlite", workdir / f"{name}.log"
    watch = ObserveConfig(
        smtp=("127.0.0.1", 0),
        logs=[str(log)],
        log_level_regex=" (WARNING|ERROR) ",
        databases=[f"sqlite:///{db}"],
    )
    async with Simulator(Config(seed=scenario.seed, observe=watch), port=0) as sim:
        observers = sim.observers
        assert observers is not None and observers.smtp is not None
        args = ["--twilio-url", sim.url, "--account-sid", sim.account_sid]
        args += ["--auth-token", sim.auth_token, "--number", sim.number]
        args += ["--db", str(db), "--log", str(log), "--smtp", observers.smtp.address]
        app = await AppProcess.start(
            [sys.executable, str(demo_app()), *args, *(["--fixed"] if fixed else [])]
        )
        try:
            probe = await observers.watch_process(app.pid)
            sim.gateway.state.numbers[sim.number].sms_url = f"{app.url}/sms"
            await run_burst(
                scenario,
                sim=sim,
                watch=progress.watcher(f"demo: {name} app", quiet=not show_progress),
            )
            await observers.unwatch(probe)
        finally:
            await app.stop()  # the end of class: the fixed app mails its digest now
        await observers.settle()
        return build(list(sim.gateway.events))


def inbox(naive: Report, fixed: Report) -> list[str]:
    """The professor's inbox after each run: how many emails, and what they said."""
    lines = ["the professor's inbox"]
    for name, report in (("naive", naive), ("fixed", fixed)):
        side = report.side_effects
        total = side.total.emails if side is not None else 0
        lines.append(f"  {name}: {total} email{'' if total == 1 else 's'}")
        for subject, count in side.subjects if side is not None else []:
            lines.append(f"    {count:>4} x {subject}")
    return lines


def caused(report: Report) -> str:
    """What a run's texts cost, channel by channel, in one sentence."""
    side = report.side_effects
    t = side.total if side is not None else None
    effects = (
        f", {t.emails} email(s) to the professor, {t.db_rows} database rows "
        f"and {t.log_lines} log lines"
        if t is not None
        else ""
    )
    return f"{report.inbound.count} texts caused {report.outbound.count} SMS{effects}"


async def run_demo(
    scenario_name: str = "classroom",
    *,
    show_progress: bool = True,
    write: Callable[[str], None] = print,
) -> tuple[Report, Report]:
    scenario = load_scenario(scenario_name)
    write(f"twsim demo: {scenario.description}")
    with tempfile.TemporaryDirectory(prefix="twsim-demo-") as tmp:
        workdir = Path(tmp)
        write(
            "\n[1/2] the naive attendance app (answers every invalid text, logs ten lines, "
            "writes four rows and emails the professor each time)"
        )
        naive = await run_app_burst(
            scenario, fixed=False, workdir=workdir, show_progress=show_progress
        )
        write(render(naive, "naive app"))
        write(
            "\n[2/2] the fixed attendance app (answers a repeated invalid code once, clearly; "
            "one digest for the professor)"
        )
        fixed = await run_app_burst(
            scenario, fixed=True, workdir=workdir, show_progress=show_progress
        )
        write(render(fixed, "fixed app"))
    write("\nside by side")
    write(side_by_side(naive, fixed, ("naive", "fixed")))
    write("")
    write("\n".join(inbox(naive, fixed)))
    write(f"\nThe naive app: {caused(naive)}.\nThe fixed app: {caused(fixed)}.")
    return naive, fixed


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the classroom demo: a naive app and a fixed one under the same flash crowd",
        description="Start a gateway and the shipped attendance app, run the classroom scenario against the naive and the fixed app, and compare.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument(
        "--scenario", default="classroom", help="scenario to run (default classroom)"
    )
    options.add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    run_async(run_demo(args.scenario, show_progress=not args.quiet))
    return 0
