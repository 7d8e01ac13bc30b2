"""`twsim load`: ab-style, N signed webhooks straight at an app endpoint."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from twsim.analysis.html import load_document
from twsim.analysis.live import Snapshot
from twsim.analysis.side_effects import SideEffects, SideEffectsBuilder
from twsim.analysis.text import side_effect_lines
from twsim.cli import html_output, options, progress
from twsim.cli.errors import EXIT_RUNTIME, CliError
from twsim.cli.interrupts import Interrupts
from twsim.cli.running import run as run_async
from twsim.cli.verdict import conclude, ending_json, stopped_early, verdict
from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER, Config
from twsim.config.shipped import load_prices
from twsim.load.generator import Load
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec
from twsim.load.summary import render
from twsim.load.workers import run_workers, split
from twsim.model.clock import SystemClock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import EventLog
from twsim.model.stopping import run_until_stopped
from twsim.observe.observers import ObserveError, Observers
from twsim.scenario.runner import Ending
from twsim.scenario.spec import read_rows
from twsim.server.processes import default_workers


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "load",
        help="ab-style load: N signed webhooks straight at an app endpoint",
        description=(
            "Send N signed inbound-SMS webhooks to URL, C at a time (or R per second), read "
            "every answer as Twilio would, and estimate what the traffic and its replies cost. "
            "Exit status 1 when every webhook failed."
        ),
    )
    parser.set_defaults(handler=run)
    parser.add_argument("url", help="the app's SMS webhook URL")
    parser.add_argument(
        "-n",
        "--requests",
        type=options.positive_int,
        default=1000,
        metavar="N",
        help="number of webhooks (default 1000)",
    )
    parser.add_argument(
        "-c",
        "--concurrency",
        type=options.positive_int,
        default=10,
        metavar="C",
        help=(
            "closed model, like ab: C connections, each sending its next webhook when the "
            "last one is answered, so a slow app slows the load and its queueing is not in "
            "the latencies (default 10)"
        ),
    )
    parser.add_argument(
        "--rate",
        type=options.positive_number,
        metavar="R",
        help=(
            "open model instead: webhook i starts at i/R seconds whatever the answers; "
            "latency and timeout count from that planned start, so waiting shows"
        ),
    )
    parser.add_argument(
        "--max-connections",
        type=options.positive_int,
        metavar="N",
        help=(
            "open model: at most N connections at once (default: as many as file "
            "descriptors allow); a webhook due while all are busy waits, and the wait is "
            "reported as queueing and counted in its latency"
        ),
    )
    parser.add_argument(
        "--workers",
        type=options.positive_int,
        metavar="N",
        help=(
            "generator processes sharing the plan (default: this machine's cores less "
            "--app-cores); the same seed sends the same webhooks however many"
        ),
    )
    parser.add_argument(
        "--app-cores",
        type=options.non_negative_int,
        default=1,
        metavar="K",
        help="cores to leave to the app under test when choosing --workers (default 1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the SIDs and senders")
    parser.add_argument(
        "--data",
        metavar="ROWS.jsonl",
        help="webhook params or bodies, one JSON object per line, used round-robin",
    )
    parser.add_argument(
        "--to", default=DEFAULT_NUMBER, metavar="NUMBER", help="the Twilio number the texts go to"
    )
    parser.add_argument(
        "--method",
        default="POST",
        type=str.upper,
        choices=["POST", "GET"],
        help="webhook method (default POST)",
    )
    parser.add_argument(
        "--account-sid",
        default=DEFAULT_ACCOUNT_SID,
        metavar="SID",
        help="AccountSid sent in the params",
    )
    parser.add_argument(
        "--auth-token",
        default=DEFAULT_AUTH_TOKEN,
        metavar="TOKEN",
        help="token the app validates signatures with",
    )
    parser.add_argument(
        "--timeout",
        type=options.positive_number,
        default=15.0,
        metavar="SECONDS",
        help="seconds before a webhook counts as failed (default 15)",
    )
    options.add_prices(parser, "price table for the cost estimate (default us)")
    options.add_observe(parser)
    options.add_json(parser, "the result")
    options.add_html(parser)
    options.add_quiet(parser)
    options.add_grace(parser)
    options.add_thresholds(parser)


def run(args: argparse.Namespace) -> int:
    rows = []
    if args.data:
        try:
            rows = read_rows(Path(args.data))
        except ValueError as exc:
            raise CliError(str(exc)) from None
    try:
        spec = LoadSpec(
            url=args.url,
            requests=args.requests,
            concurrency=args.concurrency,
            rate=args.rate,
            rows=rows,
            account_sid=args.account_sid,
            auth_token=args.auth_token,
            to=args.to,
            method=args.method,
            timeout_s=args.timeout,
            seed=args.seed,
            max_connections=args.max_connections,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    config = Config()  # only the side-effect options: the load mode runs no gateway
    options.observe(args, config)
    observing = config.observe
    clock = SystemClock()
    events = EventLog(clock)
    prices = load_prices(args.prices or "us")
    # observers attribute side effects to the webhooks this process sends: one process then
    workers = (
        1 if observing.active else len(split(spec, args.workers or default_workers(args.app_cores)))
    )
    if workers > 1:
        result, stopped = run_workers(spec, prices, workers), False
        sent = result.requests
    else:
        effects = EffectAttribution(clock, config.attribution_window_s)
        load = Load(spec, prices, clock=clock, effects=effects)
        observers = (
            Observers(observing, events, effects, clock, app_port=urlsplit(args.url).port)
            if observing.active
            else None
        )
        try:
            result, stopped = _in_process(load, observers, args)
        except ObserveError as exc:
            raise CliError(str(exc), code=1) from None
        sent = load.started
    if args.html:
        document = load_document(result.to_json(), result.series(), title=f"twsim load: {spec.url}")
        html_output.save(args.html, document)
    side = side_effects(events, result.requests)
    p99 = result.to_json()["latency_ms"]["p99"]
    problems = options.thresholds(args).check(
        result.amplification, result.total_cost, p99, result.error_count, side
    )
    ending = Ending(sent=sent, planned=spec.requests, interrupted=stopped)
    unit = "requests"

    def as_json() -> dict[str, Any]:
        return {**result.to_json(), "side_effects": side.to_json(), **ending_json(ending)}

    def as_text() -> str:
        text = _marked(render(result, spec), stopped_early(ending, unit))
        return "\n".join([text, *side_effect_lines(side)]) if side.observed else text

    code = conclude(ending, "load", unit, verdict(args, problems, as_json, as_text))
    if code == 0 and result.requests and not result.successes:
        return EXIT_RUNTIME  # every webhook failed
    return code


def _in_process(
    load: Load, observers: Observers | None, args: argparse.Namespace
) -> tuple[LoadResult, bool]:
    """One process: live progress, observers, and Ctrl-C stops the run with a partial result."""
    spec = load.spec
    interrupts = Interrupts("load", args.grace)

    def figures() -> Snapshot:
        r = load.result
        elapsed = load.clock.monotonic() - load.began if load.began is not None else 0.0
        lat = r.latency
        measured = lat.get_total_count() > 0
        return Snapshot(
            sent=load.started,
            planned=spec.requests,
            due=min(spec.requests, int(elapsed * spec.rate)) if spec.rate else None,
            remaining_s=max(spec.requests / spec.rate - elapsed, 0.0) if spec.rate else None,
            answered=r.requests,
            replies=r.replies,
            errors=r.error_count,
            p50_ms=lat.get_value_at_percentile(50) / 1000 if measured else None,
            p99_ms=lat.get_value_at_percentile(99) / 1000 if measured else None,
            cost=r.total_cost,
            unit="requests",
        )

    async def work() -> tuple[LoadResult, bool]:
        if observers is not None:
            await observers.start()
        try:
            async with interrupts.handling() as stop:
                watch = progress.watcher(f"load {spec.url}", quiet=args.quiet)
                async with watch(figures) if watch else contextlib.nullcontext():
                    stopped = await run_until_stopped(_whole(load), stop, load.halt, args.grace)
            if observers is not None:
                await observers.settle()
        finally:
            if observers is not None:
                await observers.stop()
        return load.result, stopped

    return run_async(work(), interrupts)


def _marked(text: str, mark: str) -> str:
    head, _, rest = text.partition("\n")
    return f"{head}{mark}\n{rest}"


async def _whole(load: Load) -> None:
    await load.run()


def side_effects(events: EventLog, requests: int) -> SideEffects:
    """The side effects the observers saw, over `requests` webhooks."""
    builder = SideEffectsBuilder()
    for event in events:
        builder.add(event)
    return builder.result({}, count=requests)
