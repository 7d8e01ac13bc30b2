"""`twsim report`: the report again, from a recording alone (optionally re-priced)."""

from __future__ import annotations

import argparse
from typing import Any

from twsim.analysis.html import report_document, run_figures
from twsim.analysis.report import build
from twsim.cli import html_output, options
from twsim.cli.verdict import finish, read
from twsim.config.shipped import load_prices


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="rebuild the report from a recording",
        description="Rebuild the full report from a JSONL recording alone.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("recording", help="a recording (JSONL)")
    options.add_prices(parser, "re-price every charge with another table (what-if)")
    options.add_json(parser, "the report")
    options.add_html(parser)
    options.add_thresholds(parser)


def run(args: argparse.Namespace) -> int:
    recording = read(args.recording, "report")
    prices = load_prices(args.prices) if args.prices else None
    report = build(recording.events, prices=prices)
    title = f"twsim report: {args.recording}" + (f" (priced with {prices.name})" if prices else "")
    if args.html:
        html_output.save(args.html, report_document(run_figures(recording.events, prices), title=title))
    return finish(report, args, title)
