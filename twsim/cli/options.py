"""Options several commands share, and turning them into what the library takes.

Every numeric option is checked the same way (finite, positive, `max` where it makes
sense), so a bad value is a one-line usage error, never a traceback.
"""

from __future__ import annotations

import argparse
import math
from decimal import Decimal

from twsim.analysis.diff import DiffThresholds
from twsim.analysis.thresholds import Thresholds
from twsim.cli.errors import CliError
from twsim.config.models import DEFAULT_HOST, DEFAULT_PORT, Config
from twsim.config.reader import load_config
from twsim.model.stopping import DEFAULT_GRACE_S

DEFAULT_SIM = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


# -- value types (argparse turns a ValueError/ArgumentTypeError into a usage error) --------------
def finite_number(text: str) -> float:
    """Any finite number (not nan, not inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def positive_number(text: str) -> float:
    """A finite number above zero."""
    value = finite_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, not {text!r}")
    return value


def non_negative_number(text: str) -> float:
    """A finite number of at least zero."""
    value = finite_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of 0 or more, not {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text!r}")
    return value


def speed(text: str) -> float | None:
    """A speed factor, or `max` (None: back to back)."""
    if text.strip().lower() == "max":
        return None
    try:
        return positive_number(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a number above 0 or 'max', not {text!r}"
        ) from None


def non_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text!r}")
    return value


# -- option groups --------------------------------------------------------------------------------
def add_prices(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--prices", metavar="NAME|PATH", help=help)


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="YAML", help="gateway configuration (accounts, numbers, prices, ...)"
    )
    add_prices(parser, "price table: a shipped name (us) or a YAML file")


def add_gateway_choice(parser: argparse.ArgumentParser, port_help: str) -> None:
    """--sim for a running gateway, or --port for the one this process starts."""
    parser.add_argument(
        "--sim",
        metavar="URL",
        help="use a running gateway (twsim serve) instead of one in this process",
    )
    parser.add_argument("--port", type=non_negative_int, default=DEFAULT_PORT, help=port_help)


def add_record(
    parser: argparse.ArgumentParser, help: str = "write every event to a JSONL recording"
) -> None:
    parser.add_argument("--record", metavar="PATH", help=help)
    parser.add_argument("--force", action="store_true", help="overwrite an existing recording")


def add_store_only(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-only",
        action="store_true",
        help="run even when a number has no webhook URL: its texts are stored, not delivered",
    )


def add_json(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def add_html(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--html",
        metavar="OUT.html",
        help="also write the report as one self-contained HTML file with charts",
    )


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no live progress")


def add_speed(parser: argparse.ArgumentParser, help: str) -> None:
    """--speed: a factor above 0, or `max` (the same parser for burst and replay)."""
    parser.add_argument("--speed", type=speed, default=1.0, metavar="X|max", help=help)


def add_grace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grace",
        type=non_negative_number,
        default=DEFAULT_GRACE_S,
        metavar="SECONDS",
        help="after Ctrl-C, how long sends in flight may finish before the partial report "
        f"(default {DEFAULT_GRACE_S:g})",
    )


def add_thresholds(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("thresholds (exit status 3 when crossed)")
    group.add_argument(
        "--max-amplification",
        type=non_negative_number,
        metavar="X",
        help="outbound messages per inbound text",
    )
    group.add_argument(
        "--max-cost", type=non_negative_number, metavar="USD", help="total cost of the run"
    )
    group.add_argument(
        "--max-p99-ms", type=non_negative_number, metavar="MS", help="webhook latency p99"
    )
    group.add_argument(
        "--max-errors", type=non_negative_int, metavar="N", help="errors of any Twilio code"
    )


def add_diff_thresholds(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("thresholds (exit status 3 when crossed)")
    group.add_argument(
        "--max-amplification-increase",
        type=finite_number,
        metavar="X",
        help="rise in outbound messages per inbound",
    )
    group.add_argument(
        "--max-cost-increase", type=finite_number, metavar="USD", help="rise in total cost"
    )
    group.add_argument(
        "--max-p99-increase-ms",
        type=finite_number,
        metavar="MS",
        help="rise in webhook latency p99",
    )
    group.add_argument(
        "--max-new-errors", type=non_negative_int, metavar="N", help="errors B has beyond A's"
    )


# -- arguments into library values ---------------------------------------------------------------
def _money(value: float | None) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def thresholds(args: argparse.Namespace) -> Thresholds:
    return Thresholds(
        max_amplification=args.max_amplification,
        max_cost=_money(args.max_cost),
        max_p99_ms=args.max_p99_ms,
        max_errors=args.max_errors,
    )


def diff_thresholds(args: argparse.Namespace) -> DiffThresholds:
    return DiffThresholds(
        args.max_amplification_increase,
        _money(args.max_cost_increase),
        args.max_p99_increase_ms,
        args.max_new_errors,
    )


def config(args: argparse.Namespace) -> Config:
    """The gateway's configuration: `--config`, then `--sms-url`/`--app` and `--prices`."""
    result = load_config(getattr(args, "config", None))
    sms_url = getattr(args, "sms_url", None)
    if sms_url:
        for number in result.numbers:
            number.sms_url = sms_url
    prices = getattr(args, "prices", None)
    if prices:
        result.prices = prices
    return result


def refuse_record_with_sim(args: argparse.Namespace) -> None:
    if args.sim and args.record:
        raise CliError(
            "--record needs the in-process gateway; "
            "record on the remote side with `twsim serve --record`"
        )
