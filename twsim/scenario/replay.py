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
from twsim.scenario.pace import Pace
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


class Replay:
    """Sends `texts` to `target` at `speed` times their pace (None: back to back, in order)."""

    def __init__(
        self,
        texts: list[Text],
        target: Target,
        *,
        speed: float | None = 1.0,
        clock: Clock | None = None,
    ) -> None:
        self.texts = texts
        self.target = target
        self.speed = speed
        self.scheduler = OpenScheduler(speed, clock=clock) if speed is not None else None
        self.pace = Pace()
        self.sent = 0
        self.halted = False

    def _send(self, text: Text, lateness_s: float) -> None:
        self.sent += 1
        self.target.send(text, lateness_s)

    def halt(self) -> None:
        """Send nothing more (a run stopped early)."""
        self.halted = True
        if self.scheduler is not None:
            self.scheduler.close()

    async def run(self) -> None:
        scheduler = self.scheduler
        if scheduler is not None:
            scheduler.start()
            for text in self.texts:
                self.pace.plan(text.planned_s)
                scheduler.at(text.planned_s, functools.partial(self._send, text))
            await scheduler.idle()
        else:
            for index, text in enumerate(self.texts):
                if self.halted:
                    break
                self._send(text, 0.0)
                if index % 100 == 99:
                    await asyncio.sleep(0)  # let webhooks start while the rest queue up
        await self.target.quiet(None)


async def replay(
    texts: list[Text], target: Target, *, speed: float | None = 1.0, clock: Clock | None = None
) -> None:
    """Send `texts` to `target` at `speed` times their pace (None: back to back, in order)."""
    await Replay(texts, target, speed=speed, clock=clock).run()
