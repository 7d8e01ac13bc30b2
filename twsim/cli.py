"""The `twsim` command: its options, `main`, and the helpers its commands share.

What each command does is in `twsim.commands`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
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


def _finish(report: Any, args: argparse.Namespace, title: str) -> int:
    """Print a report (text or JSON) and apply the thresholds: exit 3 when one is crossed."""
    from twsim.report_text import render
    from twsim.thresholds import Thresholds

    problems = Thresholds.from_args(args).violations(report)
    return _verdict(args, problems, report.to_json, lambda: render(report, title))


def _verdict(
    args: argparse.Namespace,
    problems: list[str],
    as_json: Callable[[], dict[str, Any]],
    as_text: Callable[[], str],
) -> int:
    """Print a result (`--json` or text) and the thresholds it crossed: exit 3 when any."""
    from twsim.thresholds import EXIT_THRESHOLD

    if args.json:
        print(json.dumps({**as_json(), "threshold_violations": problems}, indent=2))
    else:
        print(as_text())
    for problem in problems:
        print(f"threshold crossed: {problem}", file=sys.stderr)
    return EXIT_THRESHOLD if problems else 0


def _positive(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"{flag} takes a number or 'max', not {text!r}") from None
    if value <= 0:
        raise CliError(f"{flag} must be positive")
    return value


# -- parser ------------------------------------------------------------------------------------
def _prices(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--prices", metavar="NAME|PATH", help=help)


def _common_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="YAML", help="gateway configuration (accounts, numbers, prices, ...)"
    )
    _prices(parser, "price table: a shipped name (us) or a YAML file")


def _gateway_choice(parser: argparse.ArgumentParser, port_help: str) -> None:
    """--sim for a running gateway, or --port for the one this process starts."""
    parser.add_argument(
        "--sim",
        metavar="URL",
        help="use a running gateway (twsim serve) instead of one in this process",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=port_help)


def _record(
    parser: argparse.ArgumentParser, help: str = "write every event to a JSONL recording"
) -> None:
    parser.add_argument("--record", metavar="PATH", help=help)
    parser.add_argument("--force", action="store_true", help="overwrite an existing recording")


def _json(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no live progress line")


def build_parser() -> argparse.ArgumentParser:
    from twsim import commands, diff, thresholds  # not at the top: commands imports this module

    parser = argparse.ArgumentParser(
        prog="twsim",
        description="A local Twilio Messaging simulator plus a burst and replay harness.",
    )
    parser.add_argument("--version", action="version", version=f"twsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = subparsers.add_parser(
        "serve",
        help="run the gateway: Twilio REST API + signed webhooks",
        description="Run the gateway until Ctrl-C.",
    )
    serve.set_defaults(handler=commands.cmd_serve)
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
    _record(serve)

    send = subparsers.add_parser(
        "send",
        help="text one of the gateway's numbers as a phone would",
        description="Inject one inbound SMS into a running gateway.",
    )
    send.set_defaults(handler=commands.cmd_send)
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

    burst = subparsers.add_parser(
        "burst",
        help="run a scenario: simulated students texting in bursts",
        description="Run a scenario (a shipped name such as 'classroom', or a YAML file) and print the report.",
    )
    burst.set_defaults(handler=commands.cmd_burst)
    burst.add_argument("scenario", help="scenario name or YAML path")
    _common_config(burst)
    burst.add_argument(
        "--app", metavar="URL", help="the app's SMS webhook URL (overrides the scenario and config)"
    )
    _gateway_choice(
        burst,
        f"port of the in-process gateway (default {DEFAULT_PORT}; the app's Twilio base URL must point here)",
    )
    burst.add_argument("--seed", type=int, help="override the scenario's seed")
    burst.add_argument(
        "--speed", type=float, default=1.0, help="run the schedule this many times faster"
    )
    _record(burst)
    _json(burst, "the report")
    _quiet(burst)
    thresholds.add_arguments(burst)

    demo = subparsers.add_parser(
        "demo",
        help="the classroom demo: a naive app and a fixed one under the same flash crowd",
        description="Start a gateway and the shipped attendance app, run the classroom scenario against the naive and the fixed app, and compare.",
    )
    demo.set_defaults(handler=commands.cmd_demo)
    demo.add_argument("--scenario", default="classroom", help="scenario to run (default classroom)")
    _quiet(demo)

    load = subparsers.add_parser(
        "load",
        help="ab-style load: N signed webhooks straight at an app endpoint",
        description="Send N signed inbound-SMS webhooks to URL, C at a time (or R per second), and estimate what they cost.",
    )
    load.set_defaults(handler=commands.cmd_load)
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
        "--account-sid", default=DEFAULT_ACCOUNT_SID, help="AccountSid sent in the params"
    )
    load.add_argument(
        "--auth-token", default=DEFAULT_AUTH_TOKEN, help="token the app validates signatures with"
    )
    load.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        help="seconds before a webhook counts as failed (default 15)",
    )
    _prices(load, "price table for the cost estimate (default us)")
    _json(load, "the result")
    _quiet(load)
    thresholds.add_arguments(load)

    report = subparsers.add_parser(
        "report",
        help="rebuild the report from a recording",
        description="Rebuild the full report from a JSONL recording alone.",
    )
    report.set_defaults(handler=commands.cmd_report)
    report.add_argument("recording", help="a recording (JSONL)")
    _prices(report, "re-price every charge with another table (what-if)")
    _json(report, "the report")
    thresholds.add_arguments(report)

    replay = subparsers.add_parser(
        "replay",
        help="re-send a recording's inbound texts to the current app",
        description="Replay the inbound texts of a recording with their original relative timing (scaled by --speed); the app produces fresh replies.",
    )
    replay.set_defaults(handler=commands.cmd_replay)
    replay.add_argument("recording", help="a recording (JSONL), e.g. from burst --record or import")
    _common_config(replay)
    replay.add_argument(
        "--app",
        dest="sms_url",
        metavar="URL",
        help="the app's SMS webhook URL for the in-process gateway",
    )
    _gateway_choice(replay, f"port of the in-process gateway (default {DEFAULT_PORT})")
    replay.add_argument(
        "--speed", default="1", help="2 = twice as fast; max = back to back (default 1)"
    )
    replay.add_argument("--to", help="send every text to this number instead of the recorded one")
    _record(replay, "record the new run")
    _json(replay, "the report")
    thresholds.add_arguments(replay)

    diff_cmd = subparsers.add_parser(
        "diff",
        help="compare two recordings",
        description="Compare two recordings: amplification, cost, latency, errors, and what the app answered.",
    )
    diff_cmd.set_defaults(handler=commands.cmd_diff)
    diff_cmd.add_argument("before", help="the baseline recording")
    diff_cmd.add_argument("after", help="the recording to judge")
    _prices(diff_cmd, "price both with this table")
    _json(diff_cmd, "the comparison")
    diff.add_arguments(diff_cmd)

    import_cmd = subparsers.add_parser(
        "import",
        help="turn a Twilio message log (Console CSV or REST JSON) into a recording",
        description="Convert Twilio Console message-log CSV exports and REST Messages list JSON (pages, arrays or JSON lines) into a twsim recording, for report, diff and replay.",
    )
    import_cmd.set_defaults(handler=commands.cmd_import)
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
    _prices(import_cmd, "price messages the log has no price for with this table (e.g. us)")
    import_cmd.add_argument("--force", action="store_true", help="overwrite an existing output")
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
