"""The open-model scheduler: planned order is kept, whatever the loop's lateness."""

from __future__ import annotations

import pytest

from twsim.model.clock import ManualClock
from twsim.scenario.scheduler import OpenScheduler

# At this speed a planned second is a real microsecond, so every action is already due
# (late) by the time the loop gets to it: the worst case for keeping order.
EVERYTHING_LATE = 1e6


async def test_actions_planned_by_actions_keep_planned_order_when_late() -> None:
    scheduler = OpenScheduler(EVERYTHING_LATE)
    scheduler.start()
    order: list[str] = []

    def first(lateness: float) -> None:
        order.append("a@1")
        scheduler.at(1.0, lambda _: order.append("b@1 (planned by a)"))
        scheduler.at(2.5, lambda _: order.append("d@2.5 (planned by a)"))

    scheduler.at(3.0, lambda _: order.append("e@3"))
    scheduler.at(2.0, lambda _: order.append("c@2"))
    scheduler.at(1.0, first)
    await scheduler.idle()

    assert order == ["a@1", "b@1 (planned by a)", "c@2", "d@2.5 (planned by a)", "e@3"]
    assert (scheduler.fired, scheduler.pending) == (5, 0)


async def test_ties_run_in_the_order_they_were_planned() -> None:
    scheduler = OpenScheduler(EVERYTHING_LATE)
    scheduler.start()
    order: list[int] = []
    for n in range(20):
        scheduler.at(5.0 if n % 2 else 4.0, lambda _, n=n: order.append(n))
    await scheduler.idle()

    assert order == list(range(0, 20, 2)) + list(range(1, 20, 2))


async def test_lateness_is_handed_to_each_action_and_never_negative() -> None:
    scheduler = OpenScheduler(EVERYTHING_LATE)
    scheduler.start()
    lateness: list[float] = []
    for planned in (0.0, 0.5, 1.0):
        scheduler.at(planned, lateness.append)
    await scheduler.idle()

    assert len(lateness) == 3 and all(late >= 0.0 for late in lateness)


async def test_idle_waits_for_chains_of_planned_actions() -> None:
    scheduler = OpenScheduler(1000.0)  # 1 planned second = 1 ms
    scheduler.start()
    done: list[int] = []

    def step(n: int) -> None:
        done.append(n)
        if n < 10:
            scheduler.at(n + 1.0, lambda _: step(n + 1))

    scheduler.at(0.0, lambda _: step(0))
    await scheduler.idle()

    assert done == list(range(11))
    assert scheduler.pending == 0


async def test_an_earlier_action_planned_later_still_runs_first() -> None:
    scheduler = OpenScheduler(1000.0)
    scheduler.start()
    order: list[str] = []
    scheduler.at(50.0, lambda _: order.append("late"))
    scheduler.at(5.0, lambda _: order.append("early"))
    await scheduler.idle()

    assert order == ["early", "late"]


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        OpenScheduler(0)


async def test_on_a_manual_clock_actions_fire_exactly_when_planned() -> None:
    clock = ManualClock()
    scheduler = OpenScheduler(2.0, clock=clock)  # twice as fast: planned 4 s = 2 clock s
    scheduler.start()
    fired: list[tuple[str, float, float]] = []
    for name, planned in (("b", 4.0), ("a", 1.0), ("c", 10.0)):
        scheduler.at(planned, lambda late, name=name: fired.append((name, clock.monotonic(), late)))

    await clock.advance(0.4)
    assert fired == []
    await clock.advance(0.1)  # 0.5 clock s = planned 1 s
    assert fired == [("a", 0.5, 0.0)]
    await clock.advance(3.0)  # past b (2 s) and to 3.5 s: b fires at its time, not late
    assert fired[1] == ("b", 2.0, 0.0)
    await clock.advance(1.5)
    assert [name for name, _, _ in fired] == ["a", "b", "c"] and fired[2][1] == 5.0
    await scheduler.idle()
    assert scheduler.pending == 0 and clock.sleeping == 0
