"""Replay: send a recording's inbound texts again, with their original relative timing.

Only inbound texts are re-sent, at their recorded offsets divided by `speed` (or back to
back with `speed=None`, "max"); the app under test produces fresh replies, which the new
run records like any other.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable

from twsim.model.clock import Clock
from twsim.model.events import Event, InboundReceived, of_kind
from twsim.scenario.scheduler import OpenScheduler
from twsim.scenario.target import Target, Text


def inbound_texts(events: Iterable[Event], to: str | None = None) -> list[Text]:
    """The recorded inbound texts, in order, with offsets from the first."""
    texts: list[Text] = []
    first: float | None = None
    counts: dict[str, int] = {}
    for event in of_kind(events, InboundReceived):
        first = event.t if first is None else first
        phone = event.from_
        number = counts.get(phone, 0)
        counts[phone] = number + 1
        texts.append(
            Text(
                phone=phone,
                to=to or event.to,
                body=event.body,
                planned_s=event.t - first,
                kind="replay",
                number=number,
                media=tuple(event.media),
            )
        )
    return texts


async def replay(
    texts: list[Text], target: Target, *, speed: float | None = 1.0, clock: Clock | None = None
) -> None:
    """Send `texts` to `target` at `speed` times their pace (None: back to back, in order)."""
    if speed is not None:
        scheduler = OpenScheduler(speed, clock=clock)
        scheduler.start()
        for text in texts:
            scheduler.at(text.planned_s, functools.partial(_send, target, text))
        await scheduler.idle()
    else:
        for index, text in enumerate(texts):
            target.send(text, 0.0)
            if index % 100 == 99:
                await asyncio.sleep(0)  # let webhooks start while the rest queue up
    await target.quiet(None)


def _send(target: Target, text: Text, lateness_s: float) -> None:
    target.send(text, lateness_s)
