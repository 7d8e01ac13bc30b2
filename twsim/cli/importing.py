"""`twsim import`: a Twilio Console CSV export or REST Messages JSON into a recording."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from twsim.cli.errors import CliError
from twsim.config.shipped import load_prices
from twsim.recording.exports import ImportFailed
from twsim.recording.importer import import_files


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="turn a Twilio message log (Console CSV or REST JSON) into a recording",
        description="Convert Twilio Console message-log CSV exports and REST Messages list JSON (pages, arrays or JSON lines) into a twsim recording, for report, diff and replay.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV or JSON exports")
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="the recording to write (JSONL)"
    )
    parser.add_argument(
        "--anonymize",
        action="store_true",
        help="fake phone numbers and SIDs, scrub bodies (length, encoding, segments kept)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the fake numbers and bodies (default 0)"
    )
    parser.add_argument(
        "--window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="attribute an outbound message to an inbound at most this long before (default 60)",
    )
    parser.add_argument(
        "--prices",
        metavar="NAME|PATH",
        help="price messages the log has no price for with this table (e.g. us)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")


def run(args: argparse.Namespace) -> int:
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
