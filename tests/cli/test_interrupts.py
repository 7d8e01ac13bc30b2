"""Ctrl-C and SIGTERM during a run: the partial report, the recording intact, exit 130.

Each test starts the real command in its own process and sends the signal once the app
has seen some webhooks (or the command has said something), never after a sleep.
"""

from __future__ import annotations

import re
import signal
import warnings
from pathlib import Path

from cli_harness import Command, CountingApp, slow_scenario

from twsim.config.models import DEFAULT_NUMBER
from twsim.model.events import InboundReceived, SendPlanned
from twsim.recording.journal import read_recording

INTERRUPTED = re.compile(r"interrupted after ([\d,]+) of ([\d,]+) (\w+)")


def figures(found: re.Match[str]) -> tuple[int, int]:
    """(sent, planned) of an "interrupted after N of M" line."""
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def complete_recording(path: Path) -> list[object]:
    """The events of a recording that must have been closed properly (no cut last line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a cut last line would warn
        return list(read_recording(path).events)


async def test_ctrl_c_stops_a_burst_with_a_partial_report_and_a_complete_recording(
    tmp_path: Path, counting_app: CountingApp
) -> None:
    record = tmp_path / "burst.jsonl"
    scenario = slow_scenario(tmp_path / "slow.yaml")
    run = await Command.start(
        "burst", scenario, "--app", counting_app.url, "--port", "0", "--record", record
    )
    await counting_app.seen(5)
    run.send_signal(signal.SIGINT)
    code, out, err = await run.finish()

    assert code == 130, err
    assert "Ctrl-C: stopping - no new sends" in err
    found = INTERRUPTED.search(err)
    assert found is not None, err
    sent, planned = figures(found)
    assert 5 <= sent < planned == 200 and found[3] == "texts"
    assert f"(interrupted after {sent} of 200 texts)" in out.splitlines()[0]
    assert f"the recording {record} is complete up to the interrupt" in err
    assert "Traceback" not in err

    events = complete_recording(record)
    assert sum(isinstance(e, SendPlanned) for e in events) == sent
    assert sum(isinstance(e, InboundReceived) for e in events) == sent


async def test_a_second_ctrl_c_quits_at_once_and_the_recording_stays_readable(
    tmp_path: Path, counting_app: CountingApp
) -> None:
    counting_app.held = True  # answers never come: the grace would wait the whole 600 s
    record = tmp_path / "held.jsonl"
    scenario = slow_scenario(tmp_path / "slow.yaml")
    run = await Command.start(
        "burst",
        scenario,
        *("--app", counting_app.url, "--port", "0", "--record", record, "--grace", "600"),
    )
    await counting_app.seen(2)
    run.send_signal(signal.SIGINT)
    await run.said("Ctrl-C again to quit at once")
    run.send_signal(signal.SIGINT)
    code, out, err = await run.finish()

    assert code == 130, err
    assert "Ctrl-C again: quitting at once" in err
    assert "twsim burst: quit at once, before the report" in err
    assert out == "" and "Traceback" not in err
    assert sum(isinstance(e, InboundReceived) for e in complete_recording(record)) >= 2


async def test_sigterm_stops_a_replay_with_its_partial_report(
    tmp_path: Path, counting_app: CountingApp
) -> None:
    rows = ["From,To,Direction,SentDate,Body"]
    rows += [
        f"+1617555{i:04d},{DEFAULT_NUMBER},inbound,2024-03-05 10:{i // 60:02d}:{i % 60:02d},CS1O1"
        for i in range(100)
    ]  # one text a second for 100 seconds
    export = tmp_path / "log.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = tmp_path / "imported.jsonl"
    done = await Command.start("import", export, "-o", imported)
    code, out, err = await done.finish()
    assert code == 0, err
    assert "imported 100 messages" in out
    assert "import imported.jsonl" in err and "done" in err  # its progress, once at the end

    record = tmp_path / "replayed.jsonl"
    run = await Command.start(
        "replay", imported, "--app", counting_app.url, "--port", "0", "--record", record
    )
    await counting_app.seen(3)
    run.send_signal(signal.SIGTERM)
    code, out, err = await run.finish()

    assert code == 130, err
    assert "SIGTERM: stopping" in err
    found = INTERRUPTED.search(err)
    assert found is not None and 3 <= figures(found)[0] < figures(found)[1] == 100, err
    assert "interrupted after" in out.splitlines()[0]
    events = complete_recording(record)
    assert sum(isinstance(e, InboundReceived) for e in events) == figures(found)[0]


async def test_ctrl_c_stops_a_load_with_its_partial_result(counting_app: CountingApp) -> None:
    run = await Command.start("load", counting_app.url, "-n", "1000000", "-c", "2", "--json")
    await counting_app.seen(20)
    run.send_signal(signal.SIGINT)
    code, out, err = await run.finish()

    assert code == 130, err
    found = INTERRUPTED.search(err)
    assert found is not None and found[3] == "requests", err
    assert 20 <= figures(found)[0] < figures(found)[1] == 1_000_000
    assert '"ending"' in out and '"interrupted": true' in out


async def test_serve_says_how_many_events_it_recorded_and_where(tmp_path: Path) -> None:
    record = tmp_path / "served.jsonl"
    run = await Command.start("serve", "--port", "0", "--record", record)
    await run.said("Press Ctrl-C to stop", stdout=True)
    run.send_signal(signal.SIGINT)
    code, out, err = await run.finish()
    assert code == 0, err
    written = len(complete_recording(record))
    assert f"recorded {written} event(s) to {record}" in out
    assert "twsim serve: stopped after 0:" in out
