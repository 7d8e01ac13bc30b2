"""The side effects in the report, the text, the thresholds and the diff, from events alone."""

from __future__ import annotations

from twsim.analysis.diff import compare
from twsim.analysis.report import build
from twsim.analysis.text import render, side_by_side
from twsim.analysis.thresholds import Thresholds
from twsim.model.events import (
    AppSample,
    DbRows,
    EmailReceived,
    Event,
    InboundReceived,
    LogLines,
    ObserveStarted,
)

ANN, BOB = "+15551230001", "+15551230002"


def run(emails_per_text: int = 1) -> list[Event]:
    """Ann texts twice, Bob once; each text mails, logs and writes; some effects are nobody's."""
    events: list[Event] = [
        ObserveStarted(
            smtp="127.0.0.1:2525", logs=["app.log"], databases=["sqlite:///a.db"], pids=[7]
        )
    ]
    for sid, phone in (("SM1", ANN), ("SM2", BOB), ("SM3", ANN)):
        events.append(InboundReceived(inbound=sid, message=sid, from_=phone, body="CS1O1"))
        events += [
            EmailReceived(inbound=sid, to=["prof@x"], subject="Invalid code", attributed="mention")
            for _ in range(emails_per_text)
        ]
        events.append(LogLines(inbound=sid, lines=10, errors=1, bytes=500, attributed="mention"))
        events.append(DbRows(inbound=sid, database="sqlite:///a.db", table="attempts", delta=4))
    events.append(DbRows(database="sqlite:///a.db", table="audit", delta=3))  # unattributed
    events.append(AppSample(cpu_ms=30.0, rss_mb=50.0))
    events.append(AppSample(inbound="SM2", cpu_ms=6.0, rss_mb=50.9, attributed="in-flight"))
    return events


def test_totals_per_text_and_what_no_text_was_given() -> None:
    report = build(run())
    side = report.to_json()["side_effects"]
    assert side["totals"] == {
        "emails": 3, "log_lines": 30, "log_errors": 3, "log_bytes": 1500, "db_rows": 15,
        "db_rows_removed": 0, "app_cpu_ms": 36.0, "app_rss_peak_mb": 50.9,
    }  # fmt: skip
    assert side["per_text"] == {
        "emails": 1.0, "log_lines": 10.0, "db_rows": 5.0, "app_cpu_ms": 12.0, "app_rss_peak_mb": 0.3
    }  # fmt: skip
    assert side["unattributed"] == {"emails": 0, "log_lines": 0, "db_rows": 3, "app_cpu_ms": 30.0}
    assert side["db_rows_by_table"] == {
        "a.db:attempts": {"rows": 12, "per_text": 4.0},
        "a.db:audit": {"rows": 3, "per_text": 1.0},
    }
    assert side["inbox"] == [{"subject": "Invalid code", "emails": 3}]
    assert side["watched"]["smtp"] == "127.0.0.1:2525"


def test_positions_and_senders_get_the_attributed_effects() -> None:
    report = build(run())
    first, second = report.by_position
    assert (first["position"], first["inbound"]) == (1, 2)
    assert (first["emails"], first["log_lines"], first["db_rows"]) == (1.0, 10.0, 4.0)
    assert first["app_cpu_ms"] == 3.0  # Bob's 6 ms over the two first texts
    assert (second["emails"], second["app_cpu_ms"]) == (1.0, 0.0)
    ann = next(row for row in report.worst_senders if row["sender"] == ANN)
    assert (ann["inbound"], ann["emails"], ann["db_rows"]) == (2, 1.0, 4.0)


def test_the_text_report_has_a_side_effects_block_and_columns() -> None:
    text = render(build(run()), "run")
    assert "side effects (per inbound text, in total, and not attributed to any text):" in text
    assert "emails/text" in text and "log lines/text" in text
    assert "inbox: 3 email(s) to prof@x (3)" in text
    assert "a.db:audit" in text
    assert "not watched" not in text


def test_thresholds_gate_per_text() -> None:
    report = build(run(emails_per_text=2))
    gates = Thresholds(
        max_emails_per_text=1.5,
        max_log_lines_per_text=10,
        max_db_rows_per_text=5,
        max_app_cpu_ms_per_text=11.9,
    )
    assert gates.violations(report) == [
        "emails 2 per inbound text > 1.5",
        "app CPU ms 12 per inbound text > 11.9",
    ]


def test_diff_compares_side_effects_per_text() -> None:
    diff = compare(run(emails_per_text=2), run(emails_per_text=1))
    side = diff.to_json()["side_effects"]
    assert side["before"]["emails"] == 2.0 and side["after"]["emails"] == 1.0
    assert side["increase"]["emails"] == -1.0 and side["increase"]["log_lines"] == 0.0
    assert "emails" in side_by_side(diff.before, diff.after, ("a", "b"))


def test_side_effects_are_not_part_of_the_runs_duration() -> None:
    events = run()
    late = AppSample(cpu_ms=1.0, rss_mb=1.0)
    late.t = 999.0
    assert build([*events, late]).duration_s == build(events).duration_s
