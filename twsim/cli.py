"""The `twsim` command: a thin shell over the library."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twsim import __version__
from twsim.config import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_HOST,
    DEFAULT_PORT,
    Config,
    load_config,
)
from twsim.recording import RecordingError
from twsim.schema import SchemaError

DEFAULT_SIM = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


class CliError(Exception):
    """A problem to tell the user in one line, with exit status `code`."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _run(work: Any) -> Any:
    from twsim.simulator import tune_gc

    tune_gc()
    try:
        import uvloop

        return uvloop.run(work)
    except ImportError:
        return asyncio.run(work)


def _config(args: argparse.Namespace) -> Config:
    config = load_config(getattr(args, "config", None))
    sms_url = getattr(args, "sms_url", None)
    if sms_url:
        for number in config.numbers:
            number.sms_url = sms_url
    prices = getattr(args, "prices", None)
    if prices:
        config.prices = prices
    return config


# -- serve -------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from twsim.simulator import Simulator

    config = _config(args)

    async def serve() -> None:
        sim = Simulator(
            config, host=args.host, port=args.port, record=args.record, force=args.force
        )
        await sim.start()
        print(f"twsim {__version__}: Twilio gateway at {sim.url}")
        print(f"  REST base URL   {sim.url}   (twilio-python: client.api.base_url = '{sim.url}')")
        for account in config.accounts:
            print(f"  account         {account.sid}   auth token {account.auth_token}")
        for number in config.numbers:
            target = (
                f"{number.sms_method} {number.sms_url}"
                if number.sms_url
                else "(no sms_url: texts are stored, not delivered)"
            )
            print(f"  number          {number.phone_number} ({number.type})  ->  {target}")
        print(
            f"  control plane   {sim.url}/_twsim/   (inbound, messages, events, report, reset, health)"
        )
        if args.record:
            print(f"  recording to    {args.record}")
        print("Press Ctrl-C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await sim.stop()
        print("twsim stopped.")

    _run(serve())
    return 0


# -- send --------------------------------------------------------------------------------------
def cmd_send(args: argparse.Namespace) -> int:
    import aiohttp

    async def send() -> tuple[int, dict[str, Any]]:
        data = {"From": args.from_, "To": args.to, "Body": args.body, "MediaUrl": args.media or []}
        url = f"{args.sim.rstrip('/')}/_twsim/inbound"
        params = {"wait": "1"} if args.wait else {}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, json=data, params=params) as response,
            ):
                return response.status, await response.json()
        except aiohttp.ClientError as exc:
            raise CliError(f"cannot reach twsim at {args.sim}: {exc}") from None

    status, body = _run(send())
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(_describe_send(status, body))
    return 0 if status < 400 else 1


def _describe_send(status: int, body: dict[str, Any]) -> str:
    if status >= 400:
        return f"rejected: {body.get('code')} {body.get('message')}"
    inbound = body["inbound"]
    lines = [
        f"{inbound['sid']}  {inbound['from']} -> {inbound['to']}  {inbound['num_segments']} segment(s)  received"
    ]
    for attempt in body.get("webhook", []):
        outcome = f"HTTP {attempt['http_status']}" if attempt["http_status"] else "no response"
        error = f"  error {attempt['error_code']}" if attempt["error_code"] else ""
        lines.append(
            f"  webhook {attempt['kind']:8} {attempt['method']} {attempt['url']}  {outcome}  {attempt['latency_ms']:.1f} ms  answer: {attempt['answer']}{error}"
        )
    for reply in body.get("replies", []):
        lines.append(f"  reply   {reply['sid']}  -> {reply['to']}: {reply['body']!r}")
    for code in body.get("warnings", []):
        lines.append(f"  warning {code}")
    if "webhook" not in body:
        lines.append("  queued for delivery (use --wait to see the app's answer)")
    return "\n".join(lines)


# -- burst / demo / report ----------------------------------------------------------------------
def _finish(report: Any, args: argparse.Namespace, title: str) -> int:
    """Print a report (text or JSON) and apply the thresholds: exit 3 when one is crossed."""
    from twsim.report_text import render
    from twsim.thresholds import EXIT_THRESHOLD, Thresholds

    problems = Thresholds.from_args(args).violations(report)
    if args.json:
        print(json.dumps({**report.to_json(), "threshold_violations": problems}, indent=2))
    else:
        print(render(report, title))
    for problem in problems:
        print(f"threshold crossed: {problem}", file=sys.stderr)
    return EXIT_THRESHOLD if problems else 0


def cmd_burst(args: argparse.Namespace) -> int:
    from twsim.scenario.runner import run_burst
    from twsim.scenario.spec import load_scenario

    scenario = load_scenario(args.scenario)
    if args.seed is not None:
        scenario.seed = args.seed
    if args.app:
        scenario.sms_url = args.app
    config = _config(args)
    if args.sim and args.record:
        raise CliError(
            "--record needs the in-process gateway; record on the remote side with `twsim serve --record`"
        )
    try:
        result = _run(
            run_burst(
                scenario,
                config=config,
                sim_url=args.sim,
                port=args.port,
                record=args.record,
                force=args.force,
                show_progress=not args.quiet,
                speed=args.speed,
            )
        )
    except ConnectionError as exc:
        raise CliError(str(exc)) from None
    return _finish(result.report, args, f"twsim burst: {scenario.name}")


def cmd_demo(args: argparse.Namespace) -> int:
    from twsim.demo import run_demo

    _run(run_demo(args.scenario, show_progress=not args.quiet))
    return 0


def _recording(path: str, command: str) -> Any:
    """Read a recording; a bad one is a one-line error, a cut last line a warning."""
    import warnings

    from twsim.recording import RecordingError, RecordingWarning, read_recording

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecordingWarning)
        try:
            recording = read_recording(path)
        except RecordingError as exc:
            raise CliError(str(exc)) from None
    for warning in caught:
        print(f"twsim {command}: warning: {warning.message}", file=sys.stderr)
    return recording


def cmd_report(args: argparse.Namespace) -> int:
    from twsim.config import load_prices
    from twsim.report import build

    recording = _recording(args.recording, "report")
    prices = load_prices(args.prices) if args.prices else None
    report = build(recording.events, prices=prices)
    title = f"twsim report: {args.recording}" + (f" (priced with {prices.name})" if prices else "")
    return _finish(report, args, title)


def cmd_replay(args: argparse.Namespace) -> int:
    from twsim.recording import RecordingError
    from twsim.scenario.replay import inbound_texts, replay
    from twsim.scenario.target import LocalTarget, RemoteTarget, Target
    from twsim.simulator import Simulator

    recording = _recording(args.recording, "replay")
    speed = None if args.speed == "max" else _positive(args.speed, "--speed")
    config = _config(args)
    texts = inbound_texts(recording.events, to=args.to)
    if not texts:
        raise CliError(f"{args.recording} has no inbound texts to replay")
    if args.sim and args.record:
        raise CliError(
            "--record needs the in-process gateway; record on the remote side with `twsim serve --record`"
        )
    if args.record and Path(args.record).exists() and not args.force:
        raise CliError(f"{args.record} already exists; use --force to overwrite it")
    unknown = sorted({t.to for t in texts} - {n.phone_number for n in config.numbers})
    if unknown and not args.sim:
        print(
            f"twsim replay: note: the recorded texts go to {', '.join(unknown[:5])}"
            f"{', ...' if len(unknown) > 5 else ''}, which this "
            "gateway does not have (they will be rejected); --to sends them to one it has",
            file=sys.stderr,
        )

    async def run() -> list[Any]:
        sim: Simulator | None = None
        target: Target
        if args.sim:
            try:
                target = await RemoteTarget(args.sim, source="replay").open()
            except ConnectionError as exc:
                raise CliError(str(exc)) from None
        else:
            meta = {
                "replay_of": str(args.recording),
                "speed": args.speed,
                "scenario": recording.header.scenario,
            }
            sim = await Simulator(
                config, port=args.port, record=args.record, record_meta=meta, force=args.force
            ).start()
            target = LocalTarget(sim.gateway, source="replay")
        try:
            await replay(texts, target, speed=speed)
            if sim is not None:  # everything this gateway did: what its recording holds
                return list(sim.gateway.events)
            return await target.events()
        finally:
            await target.close()
            if sim is not None:
                await sim.stop()

    from twsim.report import build

    try:
        events = _run(run())
    except RecordingError as exc:
        raise CliError(str(exc)) from None
    return _finish(build(events), args, f"twsim replay: {args.recording} at speed {args.speed}")


def _positive(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"{flag} takes a number or 'max', not {text!r}") from None
    if value <= 0:
        raise CliError(f"{flag} must be positive")
    return value


def cmd_diff(args: argparse.Namespace) -> int:
    from twsim import diff
    from twsim.config import load_prices

    before, after = _recording(args.before, "diff"), _recording(args.after, "diff")
    prices = load_prices(args.prices) if args.prices else None
    if prices is None and before.header.prices != after.header.prices:
        tables = [
            " ".join(
                str(r.header.prices[k]) for k in ("name", "taken", "digest") if k in r.header.prices
            )
            for r in (before, after)
        ]
        print(
            f"twsim diff: note: the two were priced with different tables ({tables[0]} / {tables[1]}); "
            "--prices prices both with one",
            file=sys.stderr,
        )
    result = diff.compare(before.events, after.events, prices=prices)
    problems = diff.DiffThresholds.from_args(args).violations(result)
    if args.json:
        print(json.dumps({**result.to_json(), "threshold_violations": problems}, indent=2))
    else:
        print(diff.render(result, (args.before, args.after)))
    for problem in problems:
        print(f"threshold crossed: {problem}", file=sys.stderr)
    return 3 if problems else 0


def cmd_load(args: argparse.Namespace) -> int:
    from twsim.config import load_prices
    from twsim.loadgen import Load, LoadSpec, render
    from twsim.progress import Progress
    from twsim.scenario.spec import read_rows
    from twsim.thresholds import EXIT_THRESHOLD, Thresholds

    rows = []
    if args.data:
        try:
            rows = read_rows(Path(args.data))
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if args.requests < 1 or args.concurrency < 1:
        raise CliError("-n and -c must be at least 1")
    spec = LoadSpec(
        url=args.url,
        requests=args.requests,
        concurrency=args.concurrency,
        rate=_positive(str(args.rate), "--rate") if args.rate is not None else None,
        rows=rows,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        to=args.to,
        method=args.method.upper(),
        timeout_s=args.timeout,
    )
    load = Load(spec, load_prices(args.prices or "us"))

    async def run() -> Any:
        progress = Progress(
            lambda: f"{load.result.requests}/{spec.requests} done, {load.result.ok} ok",
            enabled=not args.quiet,
        )
        progress.start()
        try:
            return await load.run()
        finally:
            await progress.stop()

    result = _run(run())
    p99 = result.to_json()["latency_ms"]["p99"]
    problems = Thresholds.from_args(args).check(
        result.amplification, result.total_cost, p99, sum(result.errors.values())
    )
    if args.json:
        print(json.dumps({**result.to_json(), "threshold_violations": problems}, indent=2))
    else:
        print(render(result, spec))
    for problem in problems:
        print(f"threshold crossed: {problem}", file=sys.stderr)
    return EXIT_THRESHOLD if problems else 0


# -- import ------------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    from twsim.config import load_prices
    from twsim.importer import ImportFailed, import_files

    prices = load_prices(args.prices) if args.prices else None
    try:
        result = import_files(
            args.files,
            args.output,
            anonymize=args.anonymize,
            seed=args.seed,
            window_s=args.window,
            prices=prices,
            force=args.force,
        )
    except ImportFailed as exc:
        raise CliError(str(exc)) from None
    for warning in result.warnings:
        print(f"twsim import: warning: {warning}", file=sys.stderr)
    print(
        f"imported {result.messages} messages ({result.inbound} inbound, {result.outbound} "
        f"outbound) from {len(args.files)} file(s) into {result.output}"
        + (" (anonymized)" if args.anonymize else "")
    )
    return 0


# -- parser ------------------------------------------------------------------------------------
def _common_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="YAML", help="gateway configuration (accounts, numbers, prices, ...)"
    )
    parser.add_argument(
        "--prices", metavar="NAME|PATH", help="price table: a shipped name (us) or a YAML file"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twsim",
        description="A local Twilio Messaging simulator plus a burst and replay harness.",
    )
    parser.add_argument("--version", action="version", version=f"twsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the gateway: Twilio REST API + signed webhooks",
        description="Run the gateway until Ctrl-C.",
    )
    _common_config(serve)
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--sms-url", metavar="URL", help="send every number's inbound webhooks to URL"
    )
    serve.add_argument("--record", metavar="PATH", help="write every event to a JSONL recording")
    serve.add_argument("--force", action="store_true", help="overwrite an existing recording")
    serve.set_defaults(handler=cmd_serve)

    send = commands.add_parser(
        "send",
        help="text one of the gateway's numbers as a phone would",
        description="Inject one inbound SMS into a running gateway.",
    )
    send.add_argument("--to", required=True, help="the gateway number to text")
    send.add_argument("--from", dest="from_", required=True, help="the sending phone, E.164")
    send.add_argument("--body", default="", help="the text")
    send.add_argument(
        "--media", action="append", metavar="URL", help="a media URL (repeat for more, up to 10)"
    )
    send.add_argument(
        "--sim", default=DEFAULT_SIM, metavar="URL", help=f"the gateway (default {DEFAULT_SIM})"
    )
    send.add_argument(
        "--wait", action="store_true", help="wait for the webhook and show the replies"
    )
    send.add_argument("--json", action="store_true", help="print the gateway's JSON answer")
    send.set_defaults(handler=cmd_send)

    from twsim import thresholds

    burst = commands.add_parser(
        "burst",
        help="run a scenario: simulated students texting in bursts",
        description="Run a scenario (a shipped name such as 'classroom', or a YAML file) and print the report.",
    )
    burst.add_argument("scenario", help="scenario name or YAML path")
    _common_config(burst)
    burst.add_argument(
        "--app", metavar="URL", help="the app's SMS webhook URL (overrides the scenario and config)"
    )
    burst.add_argument(
        "--sim",
        metavar="URL",
        help="use a running gateway (twsim serve) instead of one in this process",
    )
    burst.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the in-process gateway (default {DEFAULT_PORT}; the app's Twilio base URL must point here)",
    )
    burst.add_argument("--seed", type=int, help="override the scenario's seed")
    burst.add_argument(
        "--speed", type=float, default=1.0, help="run the schedule this many times faster"
    )
    burst.add_argument("--record", metavar="PATH", help="write every event to a JSONL recording")
    burst.add_argument("--force", action="store_true", help="overwrite an existing recording")
    burst.add_argument("--json", action="store_true", help="print the report as JSON")
    burst.add_argument("--quiet", action="store_true", help="no live progress line")
    thresholds.add_arguments(burst)
    burst.set_defaults(handler=cmd_burst)

    demo = commands.add_parser(
        "demo",
        help="the classroom demo: a naive app and a fixed one under the same flash crowd",
        description="Start a gateway and the shipped attendance app, run the classroom scenario against the naive and the fixed app, and compare.",
    )
    demo.add_argument("--scenario", default="classroom", help="scenario to run (default classroom)")
    demo.add_argument("--quiet", action="store_true", help="no live progress line")
    demo.set_defaults(handler=cmd_demo)

    load = commands.add_parser(
        "load",
        help="ab-style load: N signed webhooks straight at an app endpoint",
        description="Send N signed inbound-SMS webhooks to URL, C at a time (or R per second), and estimate what they cost.",
    )
    load.add_argument("url", help="the app's SMS webhook URL")
    load.add_argument(
        "-n", "--requests", type=int, default=1000, help="number of webhooks (default 1000)"
    )
    load.add_argument(
        "-c", "--concurrency", type=int, default=10, help="webhooks in flight at once (default 10)"
    )
    load.add_argument(
        "--rate", type=float, metavar="R", help="start R webhooks per second instead (open model)"
    )
    load.add_argument(
        "--data",
        metavar="ROWS.jsonl",
        help="webhook params or bodies, one JSON object per line, used round-robin",
    )
    load.add_argument("--to", default="+15005550006", help="the Twilio number the texts go to")
    load.add_argument(
        "--method", default="POST", choices=["POST", "GET", "post", "get"], help="webhook method"
    )
    load.add_argument(
        "--account-sid",
        default=DEFAULT_ACCOUNT_SID,
        help="AccountSid sent in the params",
    )
    load.add_argument(
        "--auth-token",
        default=DEFAULT_AUTH_TOKEN,
        help="token the app validates signatures with",
    )
    load.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        help="seconds before a webhook counts as failed (default 15)",
    )
    load.add_argument(
        "--prices", metavar="NAME|PATH", help="price table for the cost estimate (default us)"
    )
    load.add_argument("--json", action="store_true", help="print the result as JSON")
    load.add_argument("--quiet", action="store_true", help="no live progress line")
    thresholds.add_arguments(load)
    load.set_defaults(handler=cmd_load)

    report = commands.add_parser(
        "report",
        help="rebuild the report from a recording",
        description="Rebuild the full report from a JSONL recording alone.",
    )
    report.add_argument("recording", help="a recording (JSONL)")
    report.add_argument(
        "--prices", metavar="NAME|PATH", help="re-price every charge with another table (what-if)"
    )
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    thresholds.add_arguments(report)
    report.set_defaults(handler=cmd_report)

    replay = commands.add_parser(
        "replay",
        help="re-send a recording's inbound texts to the current app",
        description="Replay the inbound texts of a recording with their original relative timing (scaled by --speed); the app produces fresh replies.",
    )
    replay.add_argument("recording", help="a recording (JSONL), e.g. from burst --record or import")
    _common_config(replay)
    replay.add_argument(
        "--app",
        dest="sms_url",
        metavar="URL",
        help="the app's SMS webhook URL for the in-process gateway",
    )
    replay.add_argument(
        "--sim",
        metavar="URL",
        help="use a running gateway (twsim serve) instead of one in this process",
    )
    replay.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the in-process gateway (default {DEFAULT_PORT})",
    )
    replay.add_argument(
        "--speed", default="1", help="2 = twice as fast; max = back to back (default 1)"
    )
    replay.add_argument("--to", help="send every text to this number instead of the recorded one")
    replay.add_argument("--record", metavar="PATH", help="record the new run")
    replay.add_argument("--force", action="store_true", help="overwrite an existing recording")
    replay.add_argument("--json", action="store_true", help="print the report as JSON")
    thresholds.add_arguments(replay)
    replay.set_defaults(handler=cmd_replay)

    diff_cmd = commands.add_parser(
        "diff",
        help="compare two recordings",
        description="Compare two recordings: amplification, cost, latency, errors, and what the app answered.",
    )
    diff_cmd.add_argument("before", help="the baseline recording")
    diff_cmd.add_argument("after", help="the recording to judge")
    diff_cmd.add_argument("--prices", metavar="NAME|PATH", help="price both with this table")
    diff_cmd.add_argument("--json", action="store_true", help="print the comparison as JSON")
    from twsim import diff as diff_module

    diff_module.add_arguments(diff_cmd)
    diff_cmd.set_defaults(handler=cmd_diff)

    import_cmd = commands.add_parser(
        "import",
        help="turn a Twilio message log (Console CSV or REST JSON) into a recording",
        description="Convert Twilio Console message-log CSV exports and REST Messages list JSON (pages, arrays or JSON lines) into a twsim recording, for report, diff and replay.",
    )
    import_cmd.add_argument("files", nargs="+", metavar="FILE", help="CSV or JSON exports")
    import_cmd.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="the recording to write (JSONL)"
    )
    import_cmd.add_argument(
        "--anonymize",
        action="store_true",
        help="fake phone numbers and SIDs, scrub bodies (length, encoding, segments kept)",
    )
    import_cmd.add_argument(
        "--seed", type=int, default=0, help="seed of the fake numbers and bodies (default 0)"
    )
    import_cmd.add_argument(
        "--window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="attribute an outbound message to an inbound at most this long before (default 60)",
    )
    import_cmd.add_argument(
        "--prices",
        metavar="NAME|PATH",
        help="price messages the log has no price for with this table (e.g. us)",
    )
    import_cmd.add_argument("--force", action="store_true", help="overwrite an existing output")
    import_cmd.set_defaults(handler=cmd_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except (CliError, SchemaError, RecordingError) as exc:
        print(f"twsim {args.command}: {exc}", file=sys.stderr)
        return getattr(exc, "code", 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `twsim report rec.jsonl | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
