"""Where observers report what they saw: each sighting attributed, then appended to the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import (
    AppSample,
    DbRows,
    EmailReceived,
    EventLog,
    LogLines,
    ObserveWarning,
)

Sighting = EmailReceived | LogLines | DbRows | AppSample


class Observer(Protocol):
    """One channel of the app's side effects: started, looked at, stopped."""

    name: str

    async def start(self) -> None:
        """Open what is watched and take its starting point (nothing before it counts)."""
        ...

    async def look(self) -> None:
        """Look once and report whatever changed since the last look."""
        ...

    async def stop(self) -> None: ...


class Witness:
    """Attributes each sighting to an inbound text (or none) and appends it to the event log."""

    def __init__(self, events: EventLog, effects: EffectAttribution) -> None:
        self.events = events
        self.effects = effects
        self._warned: set[tuple[str, str]] = set()

    def now(self) -> float:
        """The time to pass back as `since` at the next look."""
        return self.effects.now()

    def saw(self, event: Sighting, text: str = "", since: float | None = None) -> None:
        """Report `event`, mentioning `text`, which happened after `since` (None: just now)."""
        cause = self.effects.cause(text, since)
        event.inbound, event.attempt, event.attributed = cause.inbound, cause.attempt, cause.how
        self.events.emit(event)

    def attributed(
        self, text: str, since: float | None
    ) -> tuple[str | None, str | None, str | None]:
        """The (inbound, attempt, how) an effect mentioning `text` seen after `since` has."""
        cause = self.effects.cause(text, since)
        return cause.inbound, cause.attempt, cause.how

    def emit(self, event: Sighting) -> None:
        """Append an event whose cause is already set."""
        self.events.emit(event)

    def warn(self, observer: str, problem: str) -> None:
        """Record a problem once (an observer keeps trying; the log is not flooded)."""
        if (observer, problem) in self._warned:
            return
        self._warned.add((observer, problem))
        self.events.emit(ObserveWarning(observer=observer, problem=problem))

    def on_change(self, settle: Callable[[], None]) -> Callable[[], None]:
        """Call `settle()` just before any webhook starts or ends; returns the undo."""
        return self.effects.on_change(settle)
