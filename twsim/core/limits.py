"""Twilio's size limits on a message, checked in one place for every way one arrives."""

from __future__ import annotations

from typing import Final

from twsim.core.errors import twilio_error

MAX_BODY_CHARS: Final = 1600  # characters of a message body (21617 beyond)
MAX_MEDIA: Final = 10  # media URLs on one message (21623 beyond)
MAX_MEDIA_BYTES: Final = 5 * 1024 * 1024  # all of one message's media together
MAX_TWIML_REPLIES: Final = 10  # TwiML replies to one incoming message (14109 beyond)


def check_size(body: str, media_count: int) -> None:
    """Raise Twilio's error for a body or a media list over the limits."""
    if len(body) > MAX_BODY_CHARS:
        raise twilio_error(21617)
    if media_count > MAX_MEDIA:
        raise twilio_error(21623)
