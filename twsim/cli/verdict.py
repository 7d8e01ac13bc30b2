"""Printing a command's result (text or `--json`) and the thresholds it crossed."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twsim.analysis.report import Report
from twsim.analysis.text import render
from twsim.cli.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_THRESHOLD, CliError
from twsim.cli.options import thresholds
from twsim.recording.journal import Recording, RecordingError, RecordingWarning, read_recording
from twsim.scenario.runner import Ending

_EXPORTS = (".csv", ".json")


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


def ending_json(ending: Ending) -> dict[str, Any]:
    """`{"ending": ...}` for a run's JSON when it stopped early (nothing for a whole run)."""
    if ending.complete:
        return {}
    return {
        "ending": {
            "interrupted": ending.interrupted,
            "lost_gateway": ending.lost,
            "sent": ending.sent,
            "planned": ending.planned,
            "unfinished_webhooks": ending.unfinished,
        }
    }


def stopped_early(ending: Ending, unit: str = "texts") -> str:
    """ " (interrupted after N of M texts)" for a title, or nothing for a whole run."""
    if ending.complete:
        return ""
    how = "interrupted" if ending.interrupted else "gateway lost"
    return f" ({how} after {ending.sent:,} of {ending.planned:,} {unit})"


def finish_run(
    report: Report,
    args: argparse.Namespace,
    title: str,
    ending: Ending,
    command: str,
    unit: str = "texts",
) -> int:
    """Print a run's report, marked when it stopped early, and say where its recording is.

    Exit 130 when interrupted, 1 when the gateway went away, else as `finish`.
    """
    problems = thresholds(args).violations(report)
    code = verdict(
        args,
        problems,
        lambda: {**report.to_json(), **ending_json(ending)},
        lambda: render(report, title + stopped_early(ending, unit)),
    )
    return conclude(ending, command, unit, code, getattr(args, "sim", None))


def conclude(ending: Ending, command: str, unit: str, code: int, sim: str | None = None) -> int:
    """The lines after a run's result (interrupt, lost gateway, recording) and its exit."""
    say = f"twsim {command}:"
    if ending.unfinished:
        print(
            f"{say} note: {ending.unfinished} webhook(s) still had no answer from the app "
            "when the run stopped waiting; the report counts what finished",
            file=sys.stderr,
        )
    if ending.interrupted:
        print(
            f"{say} interrupted after {ending.sent:,} of {ending.planned:,} {unit}; "
            "the report covers those",
            file=sys.stderr,
        )
    if ending.lost is not None:
        print(
            f"{say} lost the gateway at {sim} after {ending.sent:,} of {ending.planned:,} "
            f"{unit} ({ending.lost}); the report covers what it saw",
            file=sys.stderr,
        )
        print("  hint: is `twsim serve` still running there?", file=sys.stderr)
    if ending.recording is not None and not ending.complete:
        print(
            f"{say} the recording {ending.recording} is complete up to the interrupt",
            file=sys.stderr,
        )
    if ending.interrupted:
        return EXIT_INTERRUPTED
    if ending.lost is not None:
        return EXIT_RUNTIME
    return code


def read(path: str, command: str) -> Recording:
    """Read a recording; a bad one is a one-line error, a cut last line a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecordingWarning)
        try:
            recording = read_recording(path)
        except RecordingError as exc:
            hint = None
            if "not a twsim recording" in str(exc) or Path(path).suffix.lower() in _EXPORTS:
                hint = (
                    f"a Twilio message log? `twsim import {path} -o run.jsonl` makes it a recording"
                )
            raise CliError(str(exc), hint=hint) from None
    for warning in caught:
        print(f"twsim {command}: warning: {warning.message}", file=sys.stderr)
    return recording
