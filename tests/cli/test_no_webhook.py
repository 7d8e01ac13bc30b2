"""A burst or replay whose texts would reach no app refuses to start, unless asked to
store them; a report of stored-only texts says so first."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from twsim.cli.main import main

SMALL = """
name: two students
seed: 3
population: {size: 2}
texts: {bodies: [{body: CS1O1, weight: 1}]}
arrival: {kind: flash, within_s: 0.05}
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


async def test_a_burst_with_no_app_refuses_to_start(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "rec.jsonl"
    argv = ["burst", str(scenario), "--port", "0", "--quiet", "--record", str(record)]
    status, out, err = await asyncio.to_thread(run, argv, capsys)
    assert status == 2
    assert out == ""
    assert "number +15005550006 has no webhook URL" in err and "--app URL" in err
    assert "--store-only" in err


async def test_store_only_runs_and_the_report_says_no_app_was_involved(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "rec.jsonl"
    argv = ["burst", str(scenario), "--port", "0", "--quiet", "--store-only"]
    status, out, _ = await asyncio.to_thread(run, [*argv, "--record", str(record)], capsys)
    assert status == 0
    assert out.splitlines()[2].startswith("NOTE: no webhook was sent")

    replayed = ["replay", str(record), "--port", "0", "--speed", "max", "--json"]
    status, out, err = await asyncio.to_thread(run, replayed, capsys)
    assert status == 2 and "has no webhook URL" in err
    status, out, _ = await asyncio.to_thread(run, [*replayed, "--store-only"], capsys)
    assert status == 0
    report = json.loads(out)
    assert report["inbound"]["count"] == 2 and report["webhook"]["requests"] == 0
