"""`twsim diff`: compare two recordings, per conversation too."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from twsim.analysis.diff import compare, render
from twsim.analysis.html import diff_document
from twsim.cli import html_output, options
from twsim.cli.verdict import read, verdict
from twsim.config.shipped import load_prices


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare two recordings",
        description="Compare two recordings: amplification, cost, latency, errors, and what the app answered.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("before", help="the baseline recording")
    parser.add_argument("after", help="the recording to judge")
    options.add_prices(parser, "price both with this table")
    options.add_json(parser, "the comparison")
    options.add_html(parser)
    options.add_diff_thresholds(parser)


def run(args: argparse.Namespace) -> int:
    before, after = read(args.before, "diff"), read(args.after, "diff")
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
    result = compare(before.events, after.events, prices=prices)
    problems = options.diff_thresholds(args).violations(result)
    if args.html:
        names = (args.before, args.after)
        document = diff_document(
            before.events,
            after.events,
            result,
            names=names,
            title=f"twsim diff: {args.before} -> {args.after}",
            prices=prices,
        )
        html_output.save(args.html, document)
    return verdict(
        args, problems, result.to_json, lambda: render(result, (args.before, args.after))
    )
