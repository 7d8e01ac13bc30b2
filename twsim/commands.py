"""What each `twsim` command does: read its arguments, call the library, print.

`twsim.cli` defines the commands' options and the helpers used here. Heavy imports
(aiohttp, the simulator) stay inside the handlers, so `twsim --help` stays quick.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from twsim import __version__
from twsim.cli import CliError, _config, _finish, _positive, _run, _verdict
from twsim.recording import RecordingError

RECORD_NEEDS_LOCAL_GATEWAY = (
    "--record needs the in-process gateway; record on the remote side with `twsim serve --record`"
)


# -- serve -------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from twsim.simulator import Simulator

    config = _config(args)

    async def serve() -> None:
        sim = Simulator(
            config, host=args.host, port=args.port, record=args.record, force=args.force
        )
        await sim.start()
        stop = asyncio.Event()  # listen before the banner: a reader may stop us once it has it
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
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


# -- burst / demo / load -----------------------------------------------------------------------
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
        raise CliError(RECORD_NEEDS_LOCAL_GATEWAY)
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


def cmd_load(args: argparse.Namespace) -> int:
    from twsim.config import load_prices
    from twsim.loadgen import Load, LoadSpec, render
    from twsim.progress import Progress
    from twsim.scenario.spec import read_rows
    from twsim.thresholds import Thresholds

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
    return _verdict(args, problems, result.to_json, lambda: render(result, spec))


# -- report / replay / diff / import -----------------------------------------------------------
def _recording(path: str, command: str) -> Any:
    """Read a recording; a bad one is a one-line error, a cut last line a warning."""
    import warnings

    from twsim.recording import RecordingWarning, read_recording

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
    from twsim.report import build
    from twsim.scenario.replay import inbound_texts
    from twsim.scenario.runner import run_replay

    recording = _recording(args.recording, "replay")
    speed = None if args.speed == "max" else _positive(args.speed, "--speed")
    config = _config(args)
    texts = inbound_texts(recording.events, to=args.to)
    if not texts:
        raise CliError(f"{args.recording} has no inbound texts to replay")
    if args.sim and args.record:
        raise CliError(RECORD_NEEDS_LOCAL_GATEWAY)
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

    meta = {
        "replay_of": str(args.recording),
        "speed": args.speed,
        "scenario": recording.header.scenario,
    }
    work = run_replay(
        texts,
        speed=speed,
        config=config,
        sim_url=args.sim,
        port=args.port,
        record=args.record,
        force=args.force,
        meta=meta,
    )
    try:
        events = _run(work)
    except (RecordingError, ConnectionError) as exc:
        raise CliError(str(exc)) from None
    return _finish(build(events), args, f"twsim replay: {args.recording} at speed {args.speed}")


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
    return _verdict(
        args, problems, result.to_json, lambda: diff.render(result, (args.before, args.after))
    )


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
