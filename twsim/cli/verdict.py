"""Printing a command's result (text or `--json`) and the thresholds it crossed."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

from twsim.analysis.report import Report
from twsim.analysis.text import render
from twsim.cli.errors import EXIT_THRESHOLD, CliError
from twsim.cli.options import thresholds
from twsim.recording.journal import Recording, RecordingError, RecordingWarning, read_recording


def verdict(
    args: argparse.Namespace,
    problems: list[str],
    as_json: Callable[[], dict[str, Any]],
    as_text: Callable[[], str],
) -> int:
    """Print a result (`--json` or text) and the thresholds it crossed: exit 3 when any."""
    if args.json:
        print(json.dumps({**as_json(), "threshold_violations": problems}, indent=2))
    else:
        print(as_text())
    for problem in problems:
        print(f"threshold crossed: {problem}", file=sys.stderr)
    return EXIT_THRESHOLD if problems else 0


def finish(report: Report, args: argparse.Namespace, title: str) -> int:
    """Print a report and apply the thresholds: exit 3 when one is crossed."""
    problems = thresholds(args).violations(report)
    return verdict(args, problems, report.to_json, lambda: render(report, title))


def read(path: str, command: str) -> Recording:
    """Read a recording; a bad one is a one-line error, a cut last line a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecordingWarning)
        try:
            recording = read_recording(path)
        except RecordingError as exc:
            raise CliError(str(exc)) from None
    for warning in caught:
        print(f"twsim {command}: warning: {warning.message}", file=sys.stderr)
    return recording
