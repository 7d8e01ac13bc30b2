"""What the app's answer to a webhook means, as Twilio reads it.

The HTTP status decides first (non-2xx is error 11200), then the Content-Type: XML and
HTML are parsed as TwiML, plain text is sent back as the reply's body, an empty answer
or a 204 means "no reply", a body without a Content-Type is error 11200 (as Twilio counts
it among retrieval failures), and any other type is error 12300.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twsim.core.errors import TwilioError, TwimlError, WebhookError
from twsim.core.twiml import TwimlDocument, parse_twiml

TWIML_TYPES = frozenset({"text/xml", "application/xml", "text/html"})
TEXT_TYPE = "text/plain"


class AnswerKind(StrEnum):
    TWIML = "twiml"
    TEXT = "text"
    EMPTY = "empty"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Answer:
    kind: AnswerKind
    document: TwimlDocument | None = None
    text: str = ""
    error: TwilioError | None = None


def interpret(status: int, content_type: str, body: bytes) -> Answer:
    """Read one HTTP answer to a messaging webhook."""
    if not 200 <= status < 300:
        return Answer(
            AnswerKind.ERROR,
            error=WebhookError(11200, f"HTTP retrieval failure: the app answered {status}"),
        )
    if status == 204 or not body.strip():
        return Answer(AnswerKind.EMPTY)
    if content_type in TWIML_TYPES:
        try:
            return Answer(AnswerKind.TWIML, document=parse_twiml(body))
        except TwimlError as error:
            return Answer(AnswerKind.ERROR, error=error)
    if content_type == TEXT_TYPE:
        return Answer(AnswerKind.TEXT, text=body.decode("utf-8", errors="replace").strip())
    if not content_type:
        return Answer(
            AnswerKind.ERROR,
            error=WebhookError(11200, "HTTP retrieval failure: the answer has no Content-Type"),
        )
    return Answer(
        AnswerKind.ERROR, error=WebhookError(12300, f"Invalid Content-Type: {content_type}")
    )
