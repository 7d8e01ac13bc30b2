"""Done when: a burst against an app that, per text, writes N log lines, inserts M rows into
SQLite and PostgreSQL and sends one email, reports exactly N, M and 1 per inbound text;
and the thresholds gate on those figures. All through the real `twsim` command line, with
the app started by `--app-cmd` in its own process.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from twsim.cli.main import main

APP = Path(__file__).with_name("noisy_app.py")
N_LINES, M_ROWS = 4, 3
SCENARIO = """\
name: noisy
description: 5 students, 2 texts each
seed: 3
population: {size: 5}
texts: {bodies: [hello]}
arrival: {kind: flash, within_s: 0.3}
students:
  retry_when: "got it"
  retry_probability: 1
  max_retries: 1
  delay_s: 0.1
  no_reply_after_s: 5
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def observe_args(tmp_path: Path, pg_database: str, port: int) -> list[str]:
    log, lite = tmp_path / "app.log", tmp_path / "app.sqlite"
    command = shlex.join(
        [
            sys.executable, str(APP), "--port", str(port), "--log", str(log),
            "--sqlite", str(lite), "--pg", pg_database,
            "--lines", str(N_LINES), "--rows", str(M_ROWS),
        ]
    )  # fmt: skip
    return [
        "--smtp", "127.0.0.1:0",
        "--observe-log", str(log), "--log-level-regex", "^ERROR",
        "--observe-db", f"sqlite:///{lite}", "--observe-db", pg_database,
        "--app-cmd", command,
    ]  # fmt: skip


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, json.loads(captured.out), captured.err


def test_a_burst_reports_exactly_what_each_text_caused(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "noisy.yaml"
    scenario.write_text(SCENARIO)
    port = free_port()
    record = tmp_path / "run.jsonl"
    status, report, err = run(
        [
            "burst", str(scenario), "--app", f"http://127.0.0.1:{port}/sms", "--port", "0",
            "--quiet", "--json", "--record", str(record),
            *observe_args(tmp_path, pg_database, port),
            "--max-db-rows-per-text", "1",  # crossed: 6 rows per text
            "--max-emails-per-text", "1",  # met exactly: not crossed
        ],
        capsys,
    )  # fmt: skip
    side = report["side_effects"]
    texts = report["inbound"]["count"]
    assert texts == 10
    assert side["totals"]["emails"] == texts
    assert side["per_text"]["emails"] == 1.0
    assert side["per_text"]["log_lines"] == N_LINES
    assert side["totals"]["log_errors"] == texts  # one ERROR line per text
    assert side["per_text"]["db_rows"] == 2 * M_ROWS
    tables = {
        name.rpartition(":")[2]: t["per_text"] for name, t in side["db_rows_by_table"].items()
    }
    assert tables == {"visits": M_ROWS, "deliveries": M_ROWS}
    assert side["per_text"]["app_cpu_ms"] > 0 and side["totals"]["app_rss_peak_mb"] > 0
    # emails and log lines name the MessageSid: each is attributed to its own text
    assert side["unattributed"]["emails"] == side["unattributed"]["log_lines"] == 0
    for row in report["by_position"]:
        assert (row["emails"], row["log_lines"]) == (1.0, N_LINES)
    assert side["inbox"] == [] or sum(i["emails"] for i in side["inbox"]) <= texts
    assert side["emails_by_recipient"] == {"professor@school.test": texts}
    # the threshold on rows is crossed (exit 3); the one on emails is met, not crossed
    assert status == 3
    assert report["threshold_violations"] == [f"database rows {2 * M_ROWS:g} per inbound text > 1"]
    assert "threshold crossed: database rows" in err

    # the recording reports the same figures, and gates on them too
    status, again, _ = run(["report", str(record), "--json"], capsys)
    assert status == 0 and again["side_effects"]["per_text"] == side["per_text"]
    status, gated, _ = run(
        [
            "report", str(record), "--json",
            "--max-emails-per-text", "0.5", "--max-log-lines-per-text", str(N_LINES),
            "--max-app-cpu-ms-per-text", "1000000",
        ],
        capsys,
    )  # fmt: skip
    assert status == 3
    assert gated["threshold_violations"] == ["emails 1 per inbound text > 0.5"]

    # replayed against the same app, the texts cause the same; diff compares the two runs
    replayed = tmp_path / "replay.jsonl"
    status, replay, _ = run(
        [
            "replay", str(record), "--app", f"http://127.0.0.1:{port}/sms", "--port", "0",
            "--speed", "max", "--json", "--record", str(replayed),
            *observe_args(tmp_path, pg_database, port),
        ],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert replay["side_effects"]["per_text"]["emails"] == 1.0
    assert replay["side_effects"]["per_text"]["log_lines"] == N_LINES
    assert replay["side_effects"]["per_text"]["db_rows"] == 2 * M_ROWS
    status, diff, _ = run(["diff", str(record), str(replayed), "--json"], capsys)
    assert status == 0
    rise = diff["side_effects"]["increase"]
    assert (rise["emails"], rise["log_lines"], rise["db_rows"]) == (0.0, 0.0, 0.0)


def test_load_reports_the_same_side_effects(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    status, result, _ = run(
        [
            "load", f"http://127.0.0.1:{port}/sms", "-n", "8", "-c", "2", "--quiet", "--json",
            *observe_args(tmp_path, pg_database, port),
            "--max-log-lines-per-text", "1",
        ],
        capsys,
    )  # fmt: skip
    side = result["side_effects"]
    assert result["requests"] == 8 and result["successes"] == 8
    assert side["per_text"]["emails"] == 1.0
    assert side["per_text"]["log_lines"] == N_LINES
    assert side["per_text"]["db_rows"] == 2 * M_ROWS
    assert side["unattributed"]["emails"] == side["unattributed"]["log_lines"] == 0
    assert status == 3
    assert result["threshold_violations"] == [f"log lines {N_LINES:g} per inbound text > 1"]


def test_a_gate_on_a_channel_nobody_watched_fails(capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).resolve().parents[2] / "recordings" / "sample-classroom.jsonl"
    status, report, _ = run(["report", str(sample), "--json", "--max-emails-per-text", "5"], capsys)
    assert status == 3
    assert report["threshold_violations"] == [
        "emails per inbound text: not watched in this run (--smtp)"
    ]
