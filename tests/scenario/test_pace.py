"""A plan's pace (texts due by a time) and reading a server-sent event stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

from twsim.scenario.pace import Pace
from twsim.scenario.target import sse_data


def test_due_counts_texts_planned_up_to_a_time_in_any_order() -> None:
    pace = Pace()
    for at in (0.0, 2.5, 0.05, 1.0, 10.0):
        pace.plan(at)
    assert (pace.planned, pace.last_s) == (5, 10.0)
    assert [pace.due(t) for t in (0.0, 0.99, 1.0, 3.0, 9.0, 10.0)] == [2, 2, 3, 4, 4, 5]


def test_a_text_planned_in_the_past_counts_as_due_at_once() -> None:
    pace = Pace()
    pace.plan(5.0)
    assert pace.due(4.0) == 0
    pace.plan(1.0)  # a re-text decided late, for a time already gone by
    assert pace.due(4.0) == 1
    assert pace.due(1000.0) == 2  # a long jump walks the few buckets left


async def test_sse_data_gives_each_events_data() -> None:
    async def lines() -> AsyncIterator[bytes]:
        for line in (
            b": a comment\n",
            b"id: 7\n",
            b"event: inbound.received\n",
            b'data: {"seq": 7}\n',
            b"\n",
            b"id: 8\r\n",
            b'data:{"seq":\r\n',
            b"data: 8}\r\n",
            b"\r\n",
            b'data: {"seq": 9}\n',
        ):
            yield line

    assert [d async for d in sse_data(lines())] == [b'{"seq": 7}', b'{"seq":\n8}', b'{"seq": 9}']
