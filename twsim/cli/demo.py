"""The classroom demo: the same flash crowd against a naive app and a fixed one.

Starts a gateway, runs the shipped attendance app (a real web app, in its own process)
in its naive form, runs the classroom scenario, prints the report; then does the same
with the fixed app, and shows the two side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twsim.analysis.report import Report
from twsim.analysis.text import render, side_by_side
from twsim.cli import options, progress
from twsim.cli.running import run as run_async
from twsim.config.models import Config
from twsim.config.shipped import demo_app
from twsim.observe.app_process import AppProcess
from twsim.scenario.runner import run_burst
from twsim.scenario.spec import Scenario, load_scenario
from twsim.server.simulator import Simulator


async def run_app_burst(
    scenario: Scenario, *, fixed: bool, workdir: Path, show_progress: bool = False
) -> Report:
    """One round: gateway + attendance app (naive or fixed) + the scenario."""
    config = Config(seed=scenario.seed)
    async with Simulator(config, port=0) as sim:
        name = "fixed" if fixed else "naive"
        args = [
            "--twilio-url",
            sim.url,
            "--account-sid",
            sim.account_sid,
            "--auth-token",
            sim.auth_token,
        ]
        args += [
            "--number",
            sim.number,
            "--db",
            str(workdir / f"{name}.sqlite"),
            "--log",
            str(workdir / f"{name}.log"),
        ]
        script = str(demo_app())
        app = await AppProcess.start(
            [sys.executable, script, *args, *(["--fixed"] if fixed else [])]
        )
        try:
            sim.gateway.state.numbers[sim.number].sms_url = f"{app.url}/sms"
            result = await run_burst(
                scenario,
                sim=sim,
                watch=progress.watcher(f"demo: {name} app", quiet=not show_progress),
            )
        finally:
            await app.stop()
    return result.report


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
            "\n[1/2] the naive attendance app (answers every invalid text, texts the professor each time)"
        )
        naive = await run_app_burst(
            scenario, fixed=False, workdir=workdir, show_progress=show_progress
        )
        write(render(naive, "naive app"))
        write(
            "\n[2/2] the fixed attendance app (answers a repeated invalid code once, notifies once per code)"
        )
        fixed = await run_app_burst(
            scenario, fixed=True, workdir=workdir, show_progress=show_progress
        )
        write(render(fixed, "fixed app"))
    write("\nside by side")
    write(side_by_side(naive, fixed, ("naive", "fixed")))
    ratio = (
        naive.amplification["messages"] / fixed.amplification["messages"]
        if fixed.amplification["messages"]
        else float("inf")
    )
    write(f"\nThe naive app sends {ratio:.1f}x as many messages per inbound text as the fixed one.")
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
