from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from twsim.model.clock import ManualClock
from twsim.model.events import (
    EVENT_CLASSES,
    Charged,
    Event,
    EventLog,
    EventType,
    InboundReceived,
    MessageCreated,
    NumberChanged,
    Reset,
    SendPlanned,
)

SAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "sample-classroom.jsonl"


async def test_events_are_numbered_timed_and_linked() -> None:
    clock = ManualClock()
    log = EventLog(clock)
    first = log.emit(InboundReceived(inbound="SM1", message="SM1", body="hi"))
    await clock.advance(1.5)
    second = log.emit(Charged(inbound="SM1", message="SM1", total="0.0083"))
    assert (first.seq, second.seq) == (1, 2)
    assert (first.t, second.t) == (0.0, 1.5)
    assert second.to_json() == {
        "seq": 2,
        "t": 1.5,
        "type": "charge",
        "inbound": "SM1",
        "message": "SM1",
        "data": {"total": "0.0083"},
    }
    assert Event.from_json(second.to_json()) == second
    assert log.last_seq == 2 and len(log) == 2


def test_every_event_type_has_one_class_and_round_trips() -> None:
    assert set(EVENT_CLASSES) == {str(t) for t in EventType}
    for name, kind in EVENT_CLASSES.items():
        event = kind(seq=3, t=0.5, inbound="SM1")
        assert str(event.type) == name
        assert Event.from_json(event.to_json()) == event


def test_twilio_names_keep_their_capitals_in_json() -> None:
    created = MessageCreated(message="SM2", from_="+15005550006", to="+12025550123", body="x")
    data = created.to_json()["data"]
    assert (data["From"], data["To"]) == ("+15005550006", "+12025550123")
    assert "from_" not in data and "to" not in data
    # a harness's plan names its recipient in lower case, as version 1 wrote it
    assert SendPlanned(to="+15005550006").to_json()["data"]["to"] == "+15005550006"


def test_version_1_keys_that_are_sometimes_absent_stay_absent() -> None:
    assert Charged(message="SM1", unpriced="no price").to_json()["data"] == {"unpriced": "no price"}
    assert NumberChanged(action="removed", number="+1555").to_json()["data"] == {
        "action": "removed",
        "number": "+1555",
    }
    assert NumberChanged(action="added", number="+1555").to_json()["data"] == {
        "action": "added",
        "number": "+1555",
        "sms_url": None,
    }


def test_the_sample_recording_reads_and_writes_back_byte_for_byte() -> None:
    lines = SAMPLE.read_bytes().splitlines()[1:]
    assert len(lines) > 100
    for line in lines:
        event = Event.from_json(orjson.loads(line))
        assert orjson.dumps(event.to_json(), option=orjson.OPT_NON_STR_KEYS) == line


def test_reading_ignores_unknown_data_keys_and_refuses_unknown_types() -> None:
    raw = {"seq": 1, "t": 0, "type": "reset", "data": {"later": 1}}
    assert Event.from_json(raw) == Reset(seq=1)
    with pytest.raises(ValueError, match="unknown event type"):
        Event.from_json({**raw, "type": "no.such"})


async def test_subscribers_see_every_event_until_they_stop() -> None:
    log = EventLog(ManualClock())
    seen: list[int] = []
    stop = log.subscribe(lambda e: seen.append(e.seq))
    log.emit(Reset())
    stop()
    log.emit(Reset())
    assert seen == [1]


async def test_since_and_clear_keep_numbering() -> None:
    log = EventLog(ManualClock())
    for _ in range(5):
        log.emit(Reset())
    assert [e.seq for e in log.since(3)] == [4, 5]
    log.clear()
    log.emit(Reset())
    assert [e.seq for e in log.since(0)] == [6]
    assert [e.seq for e in log.since(5)] == [6]


async def test_wait_for_wakes_on_the_event_that_makes_it_true() -> None:
    log = EventLog(ManualClock())
    waiter = asyncio.create_task(log.wait_for(lambda: len(log.of_type(Charged)) == 2, timeout=5))
    await asyncio.sleep(0)
    log.emit(Charged())
    await asyncio.sleep(0)
    assert not waiter.done()
    log.emit(Charged())
    await waiter


async def test_wait_for_times_out() -> None:
    log = EventLog(ManualClock())
    with pytest.raises(TimeoutError):
        await log.wait_for(lambda: False, timeout=0.01)


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f"{name}@{clock.monotonic():g}")

    tasks = [
        asyncio.create_task(sleeper("b", 2)),
        asyncio.create_task(sleeper("a", 1)),
        asyncio.create_task(sleeper("c", 5)),
    ]
    await asyncio.sleep(0)
    await clock.advance(3)
    assert woke == ["a@1", "b@2"]
    await clock.advance(2)
    await asyncio.gather(*tasks)
    assert woke == ["a@1", "b@2", "c@5"]


async def test_retention_keeps_the_latest_events_and_subscribers_see_all() -> None:
    log = EventLog(ManualClock(), retention=5)
    seen: list[int] = []
    log.subscribe(lambda e: seen.append(e.seq))
    for n in range(12):
        log.emit(InboundReceived(inbound=f"SM{n}", message=f"SM{n}"))
    assert len(log) == 5 and log.first_seq == 8 and log.last_seq == 12
    assert [e.seq for e in log] == [8, 9, 10, 11, 12]
    assert [e.seq for e in log.since(0)] == [8, 9, 10, 11, 12]
    assert [e.seq for e in log.since(9)] == [10, 11, 12]
    assert [e.seq for e in log.since(11)] == [12]
    assert log.since(12) == [] and log.since(99) == []
    assert seen == list(range(1, 13))
    log.clear()
    assert len(log) == 0 and log.first_seq == 13


async def test_a_subscriber_of_some_kinds_hears_only_those() -> None:
    log = EventLog(ManualClock())
    charges: list[int] = []
    everything: list[int] = []
    stop = log.subscribe(lambda e: charges.append(e.seq), Charged)
    log.subscribe(lambda e: everything.append(e.seq))
    log.emit(Reset())
    log.emit(Charged())
    stop()
    log.emit(Charged())
    assert charges == [2]
    assert everything == [1, 2, 3]
