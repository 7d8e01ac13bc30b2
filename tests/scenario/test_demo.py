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
    # naive: every text is answered and reported to the professor
    assert naive.outbound_by_origin["reply"].count == 12
    assert naive.outbound_by_origin["api"].count == 12
    assert naive.amplification["messages"] == 2.0
    # fixed: one answer per student, one note to the professor for the one wrong code
    assert fixed.outbound_by_origin["reply"].count == 4
    assert fixed.outbound_by_origin["api"].count == 1
    assert fixed.amplification["messages"] == round(5 / 12, 4)
    assert naive.total_cost > fixed.total_cost
    assert naive.errors == fixed.errors == {}

    text = "\n".join(lines)
    assert lines[0] == "twsim demo: 4 students, a wrong code, 3 texts each"
    assert "naive app\n=========" in text and "fixed app\n=========" in text
    assert "side by side" in text
    ratio = 2.0 / round(5 / 12, 4)
    assert lines[-1] == (
        f"\nThe naive app sends {ratio:.1f}x as many messages per inbound text as the fixed one."
    )
