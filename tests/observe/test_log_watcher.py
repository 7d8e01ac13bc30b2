"""The log watcher: real files appended, rotated and truncated while it follows them."""

from __future__ import annotations

import os
from pathlib import Path

from twsim.model.clock import ManualClock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import EventLog, LogLines
from twsim.observe.log_watcher import LogWatcher
from twsim.observe.witness import Witness

ANN_SID = "SM" + "a" * 32
BOB_SID = "SM" + "b" * 32
ANN, BOB = "+15551230001", "+15551230002"


def watcher(patterns: list[str], level: str | None = None) -> tuple[LogWatcher, EffectAttribution]:
    clock = ManualClock()
    effects = EffectAttribution(clock, 0.0)
    effects.watch()
    return LogWatcher(Witness(EventLog(clock), effects), patterns, level), effects


def seen(w: LogWatcher) -> list[LogLines]:
    events = w.witness.events.of_type(LogLines)
    w.witness.events.clear()
    return events


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def lines(events: list[LogLines]) -> int:
    return sum(e.lines for e in events)


async def test_lines_already_there_do_not_count_new_ones_do(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("started\nready\n")
    w, _ = watcher([str(log)], level="ERROR|WARN")
    await w.start()
    append(log, "INFO one\nERROR two\nWARN three\n")
    await w.look()
    (event,) = seen(w)
    assert (event.lines, event.errors, event.bytes) == (
        3,
        2,
        len("INFO one\nERROR two\nWARN three\n"),
    )
    assert event.path == str(log) and event.sample == "INFO one"
    await w.look()
    assert seen(w) == []
    await w.stop()


async def test_a_line_counts_once_its_newline_is_written(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    w, _ = watcher([str(log)])
    await w.start()
    append(log, "half a li")
    await w.look()
    assert seen(w) == []
    append(log, "ne\nand another\n")
    await w.look()
    (event,) = seen(w)
    assert event.lines == 2 and event.sample == "half a line"
    await w.stop()


async def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    w, _ = watcher([str(log)])
    await w.start()
    append(log, "one\ntwo\n")
    os.rename(log, tmp_path / "app.log.1")
    append(tmp_path / "app.log.1", "three (still written to the old file)\n")
    append(log, "four\nfive\n")  # the new file
    await w.look()
    assert lines(seen(w)) == 5
    append(tmp_path / "app.log.1", "six, late\n")
    append(log, "seven\n")
    await w.look()
    assert lines(seen(w)) == 2
    await w.stop()


async def test_truncation_starts_over_at_the_top(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("x" * 1000 + "\n")
    w, _ = watcher([str(log)])
    await w.start()
    log.write_text("after copytruncate\n")
    await w.look()
    (event,) = seen(w)
    assert event.lines == 1 and event.sample == "after copytruncate"
    await w.stop()


async def test_a_glob_follows_files_that_appear_later_from_their_start(tmp_path: Path) -> None:
    (tmp_path / "web.log").write_text("old\n")
    w, _ = watcher([str(tmp_path / "*.log")])
    await w.start()
    append(tmp_path / "web.log", "new\n")
    (tmp_path / "worker.log").write_text("first\nsecond\n")
    await w.look()
    events = seen(w)
    assert {e.path: e.lines for e in events} == {
        str(tmp_path / "web.log"): 1,
        str(tmp_path / "worker.log"): 2,
    }
    await w.stop()


async def test_a_file_that_does_not_exist_yet_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    w, _ = watcher([str(log)])
    await w.start()
    log.write_text("a\nb\n")
    await w.look()
    assert lines(seen(w)) == 2
    await w.stop()


async def test_lines_are_attributed_line_by_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    w, effects = watcher([str(log)])
    await w.start()
    effects.opened(ANN_SID, "WA1", ANN)
    effects.opened(BOB_SID, "WA2", BOB)
    append(log, f"invalid code from {ANN}\nhandled {BOB_SID}\nhandled {ANN_SID}\nGC ran\n")
    await w.look()
    by = {e.inbound: (e.lines, e.attributed) for e in seen(w)}
    assert by == {ANN_SID: (2, "mention"), BOB_SID: (1, "mention"), None: (1, None)}
    await w.stop()


async def test_a_webhook_starting_or_ending_makes_it_look(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    clock = ManualClock()
    effects = EffectAttribution(clock, 0.5)
    effects.watch()
    w = LogWatcher(Witness(EventLog(clock), effects), [str(log)])
    await w.start()
    effects.opened(ANN_SID, "WA1", ANN)
    append(log, "working on it\n")  # no mention: only timing can tell
    effects.closed(ANN_SID)  # the watcher looks before the webhook is over
    await clock.advance(1.0)
    append(log, "idle\n")
    effects.opened(BOB_SID, "WA2", BOB)
    (during, after) = seen(w)
    assert (during.inbound, during.attributed, during.lines) == (ANN_SID, "in-flight", 1)
    assert (after.inbound, after.lines) == (None, 1)  # past the window: nobody's
    await w.stop()
