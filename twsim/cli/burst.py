"""`twsim burst`: simulated students texting in bursts, with live progress and the report."""

from __future__ import annotations

import argparse
from typing import Any

from twsim.analysis.html import report_document, run_figures
from twsim.cli import html_output, options, progress
from twsim.cli.errors import CliError
from twsim.cli.interrupts import Interrupts
from twsim.cli.running import run as run_async
from twsim.cli.verdict import finish, finish_run
from twsim.config.models import DEFAULT_PORT, Config
from twsim.observe.observers import ObserveError
from twsim.scenario.runner import BurstResult, NoWebhook, run_burst
from twsim.scenario.spec import Scenario, load_scenario
from twsim.scenario.workers import run_burst_workers

NO_MAX_SPEED = (
    "--speed max is for replay: a burst's students wait for the app's answers before they "
    "text again, so its pace cannot be removed; give a factor instead (e.g. --speed 10)"
)


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
    options.add_speed(parser, "run the schedule this many times faster (default 1)")
    options.add_observe(parser)
    options.add_store_only(parser)
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
    options.add_html(parser)
    options.add_quiet(parser)
    options.add_grace(parser)
    options.add_thresholds(parser)


def run(args: argparse.Namespace) -> int:
    if args.speed is None:
        raise CliError(NO_MAX_SPEED)
    scenario = load_scenario(args.scenario)
    if args.seed is not None:
        scenario.seed = args.seed
    if args.app:
        scenario.sms_url = args.app
    config = options.config(args)
    options.refuse_record_with_sim(args)
    workers = min(args.workers or 1, max(scenario.students, 1))
    if workers > 1:
        return _run_workers(args, scenario, config, workers)
    interrupts = Interrupts("burst", args.grace)

    async def work() -> BurstResult:
        async with interrupts.handling() as stop:
            return await run_burst(
                scenario,
                config=config,
                sim_url=args.sim,
                port=args.port,
                record=args.record,
                force=args.force,
                watch=progress.watcher(f"burst {scenario.name}", quiet=args.quiet),
                speed=args.speed,
                stop=stop,
                grace_s=args.grace,
                store_only=args.store_only,
                series=bool(args.html),  # the charts of every event, not only those kept
            )

    try:
        result = run_async(work(), interrupts)
    except NoWebhook as exc:
        raise CliError(str(exc)) from None
    except ConnectionError as exc:
        raise CliError(str(exc), code=1, hint="start one with `twsim serve`") from None
    except ObserveError as exc:
        raise CliError(str(exc), code=1) from None
    title = f"twsim burst: {scenario.name}"
    if args.html:
        assert result.figures is not None  # asked for above, with --html
        html_output.save(args.html, report_document(result.figures, title=title))
    return finish_run(result.report, args, title, result.ending, "burst")


def _run_workers(args: argparse.Namespace, scenario: Scenario, config: Config, workers: int) -> int:
    """`--workers N`: the burst split over processes, one merged recording and report."""
    if args.sim:
        raise CliError("--workers needs the in-process gateway (drop --sim)")
    if config.observe.active:
        raise CliError("--workers runs a gateway per process; side-effect observers need one")
    if not args.store_only and not scenario.sms_url and not config.numbers[0].sms_url:
        raise CliError(
            f"the number {config.numbers[0].phone_number} has no webhook URL: "
            "give the app with --app URL (or --store-only)"
        )
    merged = run_burst_workers(
        scenario,
        workers,
        config=config,
        port=args.port,
        record=args.record,
        force=args.force,
        speed=args.speed,
        store_only=args.store_only,
    )
    title = f"twsim burst: {scenario.name} ({workers} workers)"
    if args.html:
        html_output.save(args.html, report_document(run_figures(merged.events), title=title))
    return finish(merged.report, args, title)
