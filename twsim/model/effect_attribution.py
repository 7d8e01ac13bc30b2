"""Which inbound text caused a side effect: an email, log lines, database rows, CPU time.

The same rule family as REST sends (`twsim.model.attribution`), for effects that name no
recipient and may be seen a little after they happened (by sampling):

1. a mention wins: an effect whose text (an email, a log line) names the MessageSid of a
   known inbound text, or else the phone number (E.164, `+` and digits) of a sender, belongs
   to that text (the sender's latest); a text naming several inbound texts or senders is
   not attributed;
2. else the webhook in flight: an effect seen over an interval (the time since the
   observer last looked) belongs to the one inbound text whose webhook was in flight at
   some point of it (`in-flight`);
3. else the window: to the one inbound text whose webhook finished at most `window_s`
   before (`window`).

When two or more texts are candidates at the first step that has any, the effect is
unattributed: it is never spread over them. Observers look again whenever a webhook
starts or ends (`settle` callbacks), so an app handling one text at a time has every
effect attributed exactly. Those looks are skipped while they could not help: when both
the interval so far and the one about to start saw two or more texts in flight (under a
flash crowd, timing attributes nothing, and looking at every webhook would cost CPU),
unless a sender texts again (what names them until then belongs to their earlier text).
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from twsim.model.attribution import Cause
from twsim.model.clock import Clock

MENTION = "mention"
IN_FLIGHT = "in-flight"
WINDOW = "window"

_SID = re.compile(r"\b(?:SM|MM)[0-9a-f]{32}\b")
_PHONE = re.compile(r"\+[1-9]\d{7,14}\b")
_UNATTRIBUTED = Cause()
_REMEMBERED = 100_000  # inbound texts and senders kept for mentions (oldest forgotten first)
_KEEP_CLOSED_S = 10.0  # finished webhooks kept beyond the window, for observers that look late


@dataclass(slots=True)
class _Span:
    """One inbound text's webhook: when it started, and how many of its requests are open."""

    inbound: str
    attempt: str | None
    phone: str
    in_flight: int = 0


class EffectAttribution:
    """Attributes side effects to inbound texts by mention, in-flight webhook, or window."""

    def __init__(self, clock: Clock, window_s: float) -> None:
        self._clock = clock
        self.window_s = window_s
        self._open: dict[str, _Span] = {}
        self._closed: deque[tuple[float, _Span]] = deque()  # by the time they finished
        self._known: OrderedDict[str, str | None] = OrderedDict()  # inbound -> latest attempt
        self._senders: OrderedDict[str, str] = OrderedDict()  # phone -> latest inbound
        self._settlers: list[Callable[[], None]] = []
        self._seen: set[str] = set()  # texts in flight at some point since observers looked
        self._watchers = 0  # observers running: with none, nothing need be remembered

    # -- what the gateway tells it -----------------------------------------------------------
    def watch(self) -> Callable[[], None]:
        """Remember webhooks from now on (an observer started); returns the undo."""
        self._watchers += 1
        undone = False

        def unwatch() -> None:
            nonlocal undone
            if not undone:
                undone = True
                self._watchers -= 1
                if not self._watchers:
                    self.clear()

        return unwatch

    def on_change(self, settle: Callable[[], None]) -> Callable[[], None]:
        """Call `settle()` just before each webhook starts or ends; returns the undo."""
        self._settlers.append(settle)
        return lambda: self._settlers.remove(settle) if settle in self._settlers else None

    def opened(self, inbound: str, attempt: str | None, phone: str) -> None:
        """A webhook for `inbound`, texted by `phone`, started."""
        if not self._watchers:
            return  # no observer to ask: a gateway without them keeps nothing here
        if self._settlers:
            after = len(self._open) + (inbound not in self._open)
            # a sender texting again: what names them so far is their earlier text's
            retext = self._senders.get(phone, inbound) != inbound
            self._settle_if_it_helps(0 if retext else after)
            self._seen.add(inbound)
        span = self._open.get(inbound)
        if span is None:
            span = self._open[inbound] = _Span(inbound, attempt, phone)
        span.attempt = attempt
        span.in_flight += 1
        _remember(self._known, inbound, attempt)
        if phone:
            _remember(self._senders, phone, inbound)

    def closed(self, inbound: str) -> None:
        """A webhook for `inbound` ended (answered, failed or timed out)."""
        now = self._clock.monotonic()  # before the observers look: what they see is before it
        span = self._open.get(inbound)
        if span is None:
            return
        ending = span.in_flight <= 1
        if self._settlers and self._settle_if_it_helps(len(self._open) - ending) and ending:
            self._seen.discard(inbound)  # the next interval starts after it ended
        span.in_flight -= 1
        if span.in_flight <= 0:
            del self._open[inbound]
            self._closed.append((now, span))
            horizon = now - self.window_s - _KEEP_CLOSED_S
            while self._closed and self._closed[0][0] < horizon:
                self._closed.popleft()

    # -- what observers ask ------------------------------------------------------------------
    def cause(self, text: str = "", since: float | None = None) -> Cause:
        """The inbound an effect belongs to: one whose `text` is given (may be empty), seen
        now and happened after `since` (the observer's previous look; None: just now)."""
        if text:
            mentioned = self._mentioned(text)
            if mentioned is not None:
                return mentioned
        now = self._clock.monotonic()
        start = now if since is None else min(since, now)
        count, span = _one(self._active(start))
        if count:
            return Cause(span.inbound, span.attempt, IN_FLIGHT) if span else _UNATTRIBUTED
        count, span = _one(self._finished(now - self.window_s, start))
        if span is not None:
            return Cause(span.inbound, span.attempt, WINDOW)
        return _UNATTRIBUTED

    def now(self) -> float:
        """The time observers pass back as `since` at their next look."""
        return self._clock.monotonic()

    def clear(self) -> None:
        self._open.clear()
        self._closed.clear()
        self._known.clear()
        self._senders.clear()

    # -- the rule's steps --------------------------------------------------------------------
    def _mentioned(self, text: str) -> Cause | None:
        inbounds = {sid for sid in _SID.findall(text) if sid in self._known}
        if not inbounds:
            inbounds = {self._senders[p] for p in _PHONE.findall(text) if p in self._senders}
        if not inbounds:
            return None
        if len(inbounds) > 1:
            return _UNATTRIBUTED
        inbound = inbounds.pop()
        return Cause(inbound, self._known.get(inbound), MENTION)

    def _active(self, start: float) -> Iterator[_Span]:
        """Texts whose webhook was in flight at some point after `start`."""
        yield from self._open.values()
        for closed_at, span in reversed(self._closed):
            if closed_at <= start:
                return
            yield span

    def _finished(self, earliest: float, start: float) -> Iterator[_Span]:
        """Texts whose webhook finished between `earliest` and `start`."""
        for closed_at, span in reversed(self._closed):
            if closed_at < earliest:
                return
            if closed_at <= start:
                yield span

    def _settle_if_it_helps(self, open_after: int) -> bool:
        """Let observers look now, if the interval so far or the next one can be attributed."""
        if len(self._seen) > 1 and open_after > 1:
            return False
        for settle in tuple(self._settlers):
            settle()
        self._seen = set(self._open)
        return True


def _one(spans: Iterator[_Span]) -> tuple[int, _Span | None]:
    """How many texts `spans` name (0, 1, or 2 for "several"), and the one when just one."""
    first: _Span | None = None
    for span in spans:
        if first is None:
            first = span
        elif span.inbound != first.inbound:
            return 2, None
    return (0, None) if first is None else (1, first)


K = TypeVar("K")
V = TypeVar("V")


def _remember(memory: OrderedDict[K, V], key: K, value: V) -> None:
    """Keep `key` as the newest entry of a bounded memory, forgetting the oldest past the bound."""
    memory[key] = value
    memory.move_to_end(key)
    if len(memory) > _REMEMBERED:
        memory.popitem(last=False)
