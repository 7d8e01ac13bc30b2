"""Recordings written by earlier releases report exactly as those releases reported them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from twsim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
IMPORTS = ROOT / "fixtures" / "imports"

CASES = [
    (ROOT / "recordings" / "sample-classroom.jsonl", DATA / "sample-classroom.report.json"),
    (DATA / "imported-v0.1.0.jsonl", DATA / "imported-v0.1.0.report.json"),
]


def subset(now: Any, then: Any) -> bool:
    """`now` has every key of `then`, with the same values, at every depth."""
    if isinstance(then, dict):
        return isinstance(now, dict) and all(
            k in now and subset(now[k], v) for k, v in then.items()
        )
    return bool(now == then)


def same_figures(now: dict[str, Any], then: dict[str, Any]) -> bool:
    """Every figure the older report had is there with the same value; newer ones may be added.

    One figure changed on purpose: amplification now counts only what the texts caused, so
    messages no text caused (0.1.0 folded them in) are taken out of the older figure.
    """
    assert subset(now, {k: v for k, v in then.items() if k != "amplification"})
    texts = then["inbound"]["count"]
    unattributed = now["unattributed"]["count"]
    expected = round(then["amplification"]["messages"] - unattributed / texts, 4)
    assert abs(now["amplification"]["messages"] - expected) < 1e-3
    return True


@pytest.mark.parametrize(("recording", "expected"), CASES, ids=lambda p: Path(p).name)
def test_an_old_recording_reports_as_it_did(
    recording: Path, expected: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(recording), "--json"]) == 0
    assert same_figures(json.loads(capsys.readouterr().out), json.loads(expected.read_text()))


def test_importing_the_same_logs_again_gives_the_same_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again.jsonl"
    files = [str(IMPORTS / "console-export.csv"), str(IMPORTS / "messages-page1.json")]
    assert main(["import", *files, "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--json"]) == 0
    expected = json.loads((DATA / "imported-v0.1.0.report.json").read_text())
    assert same_figures(json.loads(capsys.readouterr().out), expected)
