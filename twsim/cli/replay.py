"""`twsim replay`: re-send a recording's inbound texts to the current app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from twsim.analysis.report import build
from twsim.cli import options
from twsim.cli.errors import CliError
from twsim.cli.running import run as run_async
from twsim.cli.verdict import finish, read
from twsim.config.models import DEFAULT_PORT
from twsim.observe.observers import ObserveError
from twsim.recording.journal import RecordingError
from twsim.scenario.replay import inbound_texts
from twsim.scenario.runner import NoWebhook, run_replay


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="re-send a recording's inbound texts to the current app",
        description="Replay the inbound texts of a recording with their original relative timing (scaled by --speed); the app produces fresh replies.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("recording", help="a recording (JSONL), e.g. from burst --record or import")
    options.add_config(parser)
    parser.add_argument(
        "--app",
        dest="sms_url",
        metavar="URL",
        help="the app's SMS webhook URL for the in-process gateway",
    )
    options.add_gateway_choice(parser, f"port of the in-process gateway (default {DEFAULT_PORT})")
    parser.add_argument(
        "--speed",
        type=options.speed,
        default=1.0,
        help="2 = twice as fast; max = back to back (default 1)",
    )
    parser.add_argument(
        "--to", metavar="NUMBER", help="send every text to this number instead of the recorded one"
    )
    options.add_observe(parser)
    options.add_store_only(parser)
    options.add_record(parser, "record the new run")
    options.add_json(parser, "the report")
    options.add_thresholds(parser)


def run(args: argparse.Namespace) -> int:
    recording = read(args.recording, "replay")
    config = options.config(args)
    texts = inbound_texts(recording.events, to=args.to)
    if not texts:
        raise CliError(f"{args.recording} has no inbound texts to replay")
    options.refuse_record_with_sim(args)
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
    speed_text = "max" if args.speed is None else f"{args.speed:g}"
    meta = {
        "replay_of": str(args.recording),
        "speed": speed_text,
        "scenario": recording.header.scenario,
    }
    work = run_replay(
        texts,
        speed=args.speed,
        config=config,
        sim_url=args.sim,
        port=args.port,
        record=args.record,
        force=args.force,
        meta=meta,
        store_only=args.store_only,
    )
    try:
        events = run_async(work)
    except NoWebhook as exc:
        raise CliError(str(exc)) from None
    except (RecordingError, ConnectionError, ObserveError) as exc:
        raise CliError(str(exc), code=1) from None
    return finish(build(events), args, f"twsim replay: {args.recording} at speed {speed_text}")
