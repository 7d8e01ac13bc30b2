"""`twsim burst`: simulated students texting in bursts, with live progress and the report."""

from __future__ import annotations

import argparse
from typing import Any

from twsim.cli import options
from twsim.cli.errors import CliError
from twsim.cli.progress import Progress
from twsim.cli.running import run as run_async
from twsim.cli.verdict import finish
from twsim.config.models import DEFAULT_PORT
from twsim.scenario.runner import run_burst
from twsim.scenario.spec import load_scenario
from twsim.scenario.workers import run_burst_workers


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "burst",
        help="run a scenario: simulated students texting in bursts",
        description="Run a scenario (a shipped name such as 'classroom', or a YAML file) and print the report.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("scenario", help="scenario name or YAML path")
    options.add_config(parser)
    parser.add_argument(
        "--app", metavar="URL", help="the app's SMS webhook URL (overrides the scenario and config)"
    )
    options.add_gateway_choice(
        parser,
        f"port of the in-process gateway (default {DEFAULT_PORT}; the app's Twilio base URL must point here)",
    )
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument(
        "--speed",
        type=options.positive_number,
        default=1.0,
        help="run the schedule this many times faster (default 1)",
    )
    parser.add_argument(
        "--workers",
        type=options.positive_int,
        metavar="N",
        help=(
            "processes sharing the students, each with its own gateway (default 1: the "
            "app's REST sends reach only the first worker's gateway, so the others' show "
            "as unattributed); the same seed sends the same texts, and the recordings and "
            "report are merged into one"
        ),
    )
    options.add_record(parser)
    options.add_json(parser, "the report")
    options.add_quiet(parser)
    options.add_thresholds(parser)


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if args.seed is not None:
        scenario.seed = args.seed
    if args.app:
        scenario.sms_url = args.app
    config = options.config(args)
    options.refuse_record_with_sim(args)
    workers = min(args.workers or 1, max(scenario.students, 1))
    if workers > 1:
        if args.sim:
            raise CliError("--workers needs the in-process gateway (drop --sim)")
        else:
            merged = run_burst_workers(
                scenario,
                workers,
                config=config,
                port=args.port,
                record=args.record,
                force=args.force,
                speed=args.speed,
            )
            return finish(merged.report, args, f"twsim burst: {scenario.name} ({workers} workers)")
    try:
        result = run_async(
            run_burst(
                scenario,
                config=config,
                sim_url=args.sim,
                port=args.port,
                record=args.record,
                force=args.force,
                watch=None if args.quiet else Progress.watching,
                speed=args.speed,
            )
        )
    except ConnectionError as exc:
        raise CliError(str(exc), code=1) from None
    return finish(result.report, args, f"twsim burst: {scenario.name}")
