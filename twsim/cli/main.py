"""The `twsim` command: one subcommand per module of this package, `main` runs one.

Every failure is one line (`twsim COMMAND: what went wrong`), sometimes a hint under it,
and an exit status: 2 for a usage error, 1 for a failure while running, 3 for a crossed
threshold, 130 for an interrupt. `--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from twsim import __version__
from twsim.cli import (
    burst,
    demo,
    diff,
    env,
    executing,
    hints,
    importing,
    load,
    replay,
    report,
    send,
    serve,
)
from twsim.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError
from twsim.config.models import DEFAULT_HOST, DEFAULT_PORT
from twsim.config.schema import SchemaError
from twsim.recording.journal import RecordingError

COMMANDS = (serve, send, burst, demo, load, report, replay, diff, importing, executing, env)

_DEBUG_HELP = "show the traceback of any error"


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in two lines instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_USAGE,
            f"{self.prog}: {message}\n  hint: `{self.prog} --help` lists the options\n",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="twsim",
        description="A local Twilio Messaging simulator plus a burst and replay harness.",
    )
    parser.add_argument("--version", action="version", version=f"twsim {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    for sub in subparsers.choices.values():  # `twsim burst ... --debug` works too
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, or a usage error argparse printed
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    command = args.command
    try:
        return int(args.handler(args))
    except CliError as exc:
        error = exc
    except (SchemaError, RecordingError) as exc:
        error = CliError(str(exc))
    except (KeyboardInterrupt, asyncio.CancelledError):
        error = CliError("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # e.g. `twsim report rec.jsonl | head`
        sys.stderr.close()
        return 0
    except OSError as exc:
        _traceback(args)
        port = getattr(args, "port", DEFAULT_PORT)
        error = hints.os_error(command, exc, getattr(args, "host", DEFAULT_HOST), port)
    except Exception as exc:
        _traceback(args)
        error = hints.unexpected(command, exc)
    print(f"twsim {command}: {error}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {error.hint}", file=sys.stderr)
    return error.code


def _traceback(args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()


if __name__ == "__main__":
    sys.exit(main())
