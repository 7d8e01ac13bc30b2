"""The `twsim` command: one subcommand per module of this package, `main` runs one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from twsim import __version__
from twsim.cli import (
    burst,
    demo,
    diff,
    env,
    executing,
    importing,
    load,
    replay,
    report,
    send,
    serve,
)
from twsim.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError
from twsim.config.schema import SchemaError
from twsim.recording.journal import RecordingError

COMMANDS = (serve, send, burst, demo, load, report, replay, diff, importing, executing, env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twsim",
        description="A local Twilio Messaging simulator plus a burst and replay harness.",
    )
    parser.add_argument("--version", action="version", version=f"twsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
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
    try:
        return int(args.handler(args))
    except (CliError, SchemaError, RecordingError) as exc:
        print(f"twsim {args.command}: {exc}", file=sys.stderr)
        return getattr(exc, "code", EXIT_USAGE)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `twsim report rec.jsonl | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
