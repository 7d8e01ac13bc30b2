from __future__ import annotations

import asyncio

import pytest

from twsim.clock import ManualClock
from twsim.events import Event, EventLog, EventType


async def test_events_are_numbered_timed_and_linked() -> None:
    clock = ManualClock()
    log = EventLog(clock)
    first = log.emit(EventType.INBOUND_RECEIVED, inbound="SM1", message="SM1", body="hi")
    await clock.advance(1.5)
    second = log.emit(EventType.CHARGE, inbound="SM1", message="SM1", total="0.0083")
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


async def test_subscribers_see_every_event_until_they_stop() -> None:
    log = EventLog(ManualClock())
    seen: list[int] = []
    stop = log.subscribe(lambda e: seen.append(e.seq))
    log.emit(EventType.RESET)
    stop()
    log.emit(EventType.RESET)
    assert seen == [1]


async def test_since_and_clear_keep_numbering() -> None:
    log = EventLog(ManualClock())
    for _ in range(5):
        log.emit(EventType.RESET)
    assert [e.seq for e in log.since(3)] == [4, 5]
    log.clear()
    log.emit(EventType.RESET)
    assert [e.seq for e in log.since(0)] == [6]
    assert [e.seq for e in log.since(5)] == [6]


async def test_wait_for_wakes_on_the_event_that_makes_it_true() -> None:
    log = EventLog(ManualClock())
    waiter = asyncio.create_task(
        log.wait_for(lambda: len(log.of_type(EventType.CHARGE)) == 2, timeout=5)
    )
    await asyncio.sleep(0)
    log.emit(EventType.CHARGE)
    await asyncio.sleep(0)
    assert not waiter.done()
    log.emit(EventType.CHARGE)
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
