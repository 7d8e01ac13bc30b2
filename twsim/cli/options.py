"""Options several commands share, and turning them into what the library takes.

Every numeric option is checked the same way (finite, positive, `max` where it makes
sense), so a bad value is a one-line usage error, never a traceback.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from twsim.analysis.diff import DiffThresholds
from twsim.analysis.thresholds import Thresholds
from twsim.cli.errors import CliError
from twsim.config.models import DEFAULT_HOST, DEFAULT_PORT, Config
from twsim.config.observing import database_url, level_regex, port_number, smtp_address
from twsim.config.reader import load_config
from twsim.model.stopping import DEFAULT_GRACE_S

DEFAULT_SIM = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
T = TypeVar("T")


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


def _checked(parse: Callable[[str], T], name: str) -> Callable[[str], T]:
    """An argparse type from one of the config's value rules (same message either way)."""

    def check(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    check.__name__ = name
    return check


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
    group.add_argument(
        "--max-emails-per-text",
        type=non_negative_number,
        metavar="X",
        help="emails the app sent per inbound",
    )
    group.add_argument(
        "--max-log-lines-per-text",
        type=non_negative_number,
        metavar="X",
        help="log lines per inbound",
    )
    group.add_argument(
        "--max-db-rows-per-text",
        type=non_negative_number,
        metavar="X",
        help="database rows added per inbound",
    )
    group.add_argument(
        "--max-app-cpu-ms-per-text",
        type=non_negative_number,
        metavar="MS",
        help="app CPU time per inbound",
    )


def add_observe(parser: argparse.ArgumentParser) -> None:
    """Observers of the app's other channels: mail, logs, databases, its process."""
    group = parser.add_argument_group(
        "side effects (the app's mail, logs, database rows, CPU and memory per inbound text)"
    )
    group.add_argument(
        "--smtp",
        type=_checked(smtp_address, "smtp"),
        metavar="[HOST:]PORT",
        help="run an SMTP sink there (never relays); point the app's SMTP host at it",
    )
    group.add_argument(
        "--observe-log",
        action="append",
        default=[],
        metavar="PATH",
        help="follow a log file (a glob too; repeatable)",
    )
    group.add_argument(
        "--log-level-regex",
        type=_checked(level_regex, "regex"),
        metavar="REGEX",
        help="count log lines matching it as errors, e.g. 'ERROR|WARN'",
    )
    group.add_argument(
        "--observe-db",
        action="append",
        default=[],
        type=_checked(database_url, "url"),
        metavar="URL",
        help="count rows per table: sqlite:///path or postgresql://... (read-only; repeatable)",
    )
    group.add_argument(
        "--observe-pid",
        action="append",
        default=[],
        type=positive_int,
        metavar="PID",
        help="sample the app's process tree: CPU, memory, files, threads",
    )
    group.add_argument(
        "--observe-port",
        action="append",
        default=[],
        type=_checked(port_number, "port"),
        metavar="PORT",
        help="sample the process listening on PORT (with --app-cmd: the port to wait for)",
    )
    group.add_argument(
        "--app-cmd",
        metavar='"CMD"',
        help="start the app with this shell command, wait until its port answers, "
        "observe it, stop it at the end",
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
        max_emails_per_text=args.max_emails_per_text,
        max_log_lines_per_text=args.max_log_lines_per_text,
        max_db_rows_per_text=args.max_db_rows_per_text,
        max_app_cpu_ms_per_text=args.max_app_cpu_ms_per_text,
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
    observe(args, result)
    return result


def observe(args: argparse.Namespace, config: Config) -> None:
    """Add the command line's observers to the config file's (`observe:`)."""
    if not hasattr(args, "observe_log"):
        return  # a command without the side-effect options
    watch = config.observe
    if args.smtp is not None:
        watch.smtp = args.smtp
    watch.logs += args.observe_log
    if args.log_level_regex is not None:
        watch.log_level_regex = args.log_level_regex
    watch.databases += args.observe_db
    watch.pids += args.observe_pid
    watch.ports += args.observe_port
    if args.app_cmd:
        watch.app_cmd = args.app_cmd
    if watch.active and getattr(args, "sim", None):
        raise CliError(
            "observing side effects needs the in-process gateway; "
            "observe on the remote side with `twsim serve --smtp ... --observe-log ...`"
        )


def refuse_record_with_sim(args: argparse.Namespace) -> None:
    if args.sim and args.record:
        raise CliError(
            "--record needs the in-process gateway; "
            "record on the remote side with `twsim serve --record`"
        )
