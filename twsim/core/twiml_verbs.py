"""Messaging TwiML verbs, and Twilio's rule for executing them.

`parse_twiml` (in `twsim.core.twiml`) turns the app's answer into a `TwimlDocument`: the
valid verbs in document order and the warnings met while reading them. `TwimlDocument.plan`
applies the execution rule: verbs run top to bottom, and a ``<Redirect>``, or a
``<Message>`` with an ``action``, ends the document (every later verb is unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from twsim.core.errors import TwimlError


@dataclass(frozen=True, slots=True)
class MessageVerb:
    """One ``<Message>``: a reply to send, with its optional overrides and callback."""

    body: str
    media: tuple[str, ...] = ()
    to: str | None = None
    from_: str | None = None
    action: str | None = None
    method: str = "POST"
    status_callback: str | None = None

    @property
    def callback_url(self) -> str | None:
        """Where status callbacks go: ``action`` when set, else ``statusCallback``."""
        return self.action if self.action is not None else self.status_callback


@dataclass(frozen=True, slots=True)
class RedirectVerb:
    """One ``<Redirect>``: fetch the next TwiML from `url` (absolute or relative)."""

    url: str
    method: str = "POST"


Verb: TypeAlias = MessageVerb | RedirectVerb


@dataclass(frozen=True, slots=True)
class Plan:
    """What executing a document does: the messages sent, then the redirect followed, if any."""

    messages: tuple[MessageVerb, ...]
    redirect: RedirectVerb | None


@dataclass(frozen=True, slots=True)
class TwimlDocument:
    """Every valid verb in document order, and the warnings met while reading them."""

    verbs: tuple[Verb, ...]
    warnings: tuple[TwimlError, ...]

    def plan(self) -> Plan:
        """Apply Twilio's rule: verbs run top to bottom; a ``<Redirect>``, or a
        ``<Message>`` with an ``action``, makes every later verb unreachable."""
        messages: list[MessageVerb] = []
        for verb in self.verbs:
            if isinstance(verb, RedirectVerb):
                return Plan(tuple(messages), verb)
            messages.append(verb)
            if verb.action is not None:
                break
        return Plan(tuple(messages), None)
