"""What an app's answer means for a load run's figures, read with the gateway's rules.

`twsim.core.answer.interpret` decides (TwiML, plain text, empty, or a Twilio error); this
module keeps only what the figures need: the replies (segments, media, recipient), the
warnings, and a failure's code with a plain reason. Reading is a pure function of the
status, the content type and the body, and an app under load answers the same few bodies
over and over, so verdicts are memoised by those three.
"""

from __future__ import annotations

from dataclasses import dataclass

from twsim.core.answer import AnswerKind, interpret
from twsim.core.errors import message_for
from twsim.core.limits import MAX_TWIML_REPLIES
from twsim.core.segments import segment

_CACHE_LIMIT = 512
_CACHED_BODY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed webhook: Twilio's code and what went wrong, in plain words."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Reply:
    body: str
    segments: int
    media: bool
    to: str | None  # None: back to the sender


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    replies: tuple[Reply, ...] = ()
    warnings: tuple[Failure, ...] = ()
    failure: Failure | None = None


def status_reason(status: int) -> str:
    """A non-2xx answer, in words a user can act on."""
    reason = f"HTTP {status} from the app"
    if status in (401, 403):
        return f"{reason}: signature rejected? (check --auth-token and the URL the app validates)"
    if status == 404:
        return f"{reason}: wrong path?"
    return reason


def read(status: int, content_type: str, body: bytes) -> Verdict:
    """The verdict on one answer (uncached)."""
    if not 200 <= status < 300:
        return Verdict(str(AnswerKind.ERROR), failure=Failure(11200, status_reason(status)))
    answer = interpret(status, content_type, body)
    if answer.kind is AnswerKind.ERROR:
        assert answer.error is not None
        return Verdict(str(answer.kind), failure=Failure(answer.error.code, answer.error.message))
    if answer.kind is AnswerKind.TEXT:
        replies = (
            (Reply(answer.text, segment(answer.text).count, False, None),) if answer.text else ()
        )
        return Verdict(str(answer.kind), replies)
    if answer.document is None:
        return Verdict(str(answer.kind))
    messages = answer.document.plan().messages
    warnings = [Failure(w.code, w.message) for w in answer.document.warnings]
    over = len(messages) - MAX_TWIML_REPLIES
    if over > 0:  # Twilio sends at most 10 replies to one incoming message
        warnings.append(Failure(14109, f"{message_for(14109)}: {over} <Message> verb(s) not sent"))
    return Verdict(
        str(answer.kind),
        tuple(
            Reply(m.body, segment(m.body).count, bool(m.media), m.to)
            for m in messages[:MAX_TWIML_REPLIES]
        ),
        tuple(warnings),
    )


class AnswerReader:
    """`read`, memoised for small bodies."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, bytes], Verdict] = {}

    def read(self, status: int, content_type: str, body: bytes) -> Verdict:
        if len(body) > _CACHED_BODY_BYTES:
            return read(status, content_type, body)
        key = (status, content_type, body)
        verdict = self._cache.get(key)
        if verdict is None:
            verdict = read(status, content_type, body)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = verdict
        return verdict
