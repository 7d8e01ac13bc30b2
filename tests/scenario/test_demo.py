"""The classroom demo: the shipped attendance app, naive then fixed, under one small crowd.

Every student texts the wrong code and re-texts twice whatever happens (an "invalid"
answer and silence both make them retry), so the counts do not depend on how fast the
app answers; only what the app sends differs.
"""

from __future__ import annotations

from pathlib import Path

from twsim.cli.demo import run_demo

SCENARIO = """\
name: tiny classroom
description: 4 students, a wrong code, 3 texts each
seed: 5
population:
  size: 4
texts:
  bodies: [CS1O1]
arrival:
  kind: flash
  within_s: 0.2
students:
  retry_when: "invalid|not today's code"
  retry_probability: 1
  max_retries: 2
  delay_s: 0.3
  no_reply_after_s: 0.6
"""


async def test_demo_compares_the_naive_and_the_fixed_app(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    lines: list[str] = []

    naive, fixed = await run_demo(str(path), show_progress=False, write=lines.append)

    assert naive.inbound.count == fixed.inbound.count == 12
    # naive: every text is answered, logged ten times, written four times, and mailed
    assert naive.outbound_by_origin["reply"].count == 12
    assert naive.outbound_by_origin["api"].count == 0
    assert naive.amplification["messages"] == 1.0
    side = naive.side_effects
    assert side is not None
    assert (side.total.emails, side.total.log_lines, side.total.db_rows) == (12, 120, 48)
    assert side.per_text["emails"] == 1.0 and side.per_text["db_rows"] == 4.0
    assert side.unattributed.emails == 0 and side.unattributed.log_lines == 0
    assert side.subjects == [("Attendance: invalid code 'CS1O1'", 12)]
    # fixed: one answer per student, one row and one line per text, one digest at the end
    assert fixed.outbound_by_origin["reply"].count == 4
    assert fixed.outbound_by_origin["api"].count == 0
    assert fixed.amplification["messages"] == round(4 / 12, 4)
    side = fixed.side_effects
    assert side is not None
    assert (side.total.emails, side.total.log_lines, side.total.db_rows) == (1, 12, 12)
    assert side.subjects == [("Attendance digest: 12 invalid text(s) for CS101", 1)]
    assert side.unattributed.emails == 1  # a digest is about every text, so no one text's
    assert naive.total_cost > fixed.total_cost
    assert naive.errors == fixed.errors == {}

    text = "\n".join(lines)
    assert lines[0] == "twsim demo: 4 students, a wrong code, 3 texts each"
    assert "naive app\n=========" in text and "fixed app\n=========" in text
    assert "side by side" in text
    inbox = text[text.index("the professor's inbox") :]
    assert "naive: 12 emails\n      12 x Attendance: invalid code 'CS1O1'" in inbox
    assert "fixed: 1 email\n       1 x Attendance digest: 12 invalid text(s) for CS101" in inbox
    assert lines[-1] == (
        "\nThe naive app: 12 texts caused 12 SMS, 12 email(s) to the professor, 48 database "
        "rows and 120 log lines.\nThe fixed app: 12 texts caused 4 SMS, 1 email(s) to the "
        "professor, 12 database rows and 12 log lines."
    )
