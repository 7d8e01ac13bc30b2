"""Reading a message the app mailed: subject, a short text excerpt, and the raw message
without its attachments (what a recording keeps)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

EXCERPT_CHARS = 200
RAW_LIMIT = 64 * 1024  # characters of a message (attachments removed) kept in a recording
MENTION_LIMIT = 64 * 1024  # characters of its text searched for MessageSids and senders

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_PARSER = BytesParser(policy=policy.default)


@dataclass(frozen=True, slots=True)
class Mail:
    """A received message, as twsim records it."""

    subject: str
    excerpt: str
    text: str
    raw: str
    truncated: bool
    attachments: int


def read_mail(content: bytes) -> Mail:
    """Read `content` (the DATA of one SMTP transaction); what cannot be read stays text."""
    try:
        return _read(content)
    except Exception:  # any message the app sends is recorded, however broken
        raw = content.decode("utf-8", "replace")
        return Mail(
            "", _excerpt(raw), raw[:MENTION_LIMIT], raw[:RAW_LIMIT], len(raw) > RAW_LIMIT, 0
        )


def _read(content: bytes) -> Mail:
    message = _PARSER.parsebytes(content)
    assert isinstance(message, EmailMessage)  # what policy.default parses into
    subject = _flat(str(message.get("subject", "") or ""))
    text = _body_text(message)
    attachments = _strip_attachments(message)
    try:
        raw = message.as_string()
    except (LookupError, ValueError, UnicodeError):  # headers or charsets beyond repair
        raw = content.decode("utf-8", "replace")
    truncated = len(raw) > RAW_LIMIT
    return Mail(
        subject=subject,
        excerpt=_excerpt(text),
        text=f"{subject}\n{text}"[:MENTION_LIMIT],
        raw=raw[:RAW_LIMIT],
        truncated=truncated,
        attachments=attachments,
    )


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError, UnicodeError):
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if body.get_content_subtype() == "html":
        content = _TAG.sub(" ", content)
    return content


def _strip_attachments(message: EmailMessage) -> int:
    """Replace every attachment by a one-line note; how many there were."""
    count = 0
    for part in message.walk():
        if not isinstance(part, EmailMessage) or not part.is_attachment():
            continue
        count += 1
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        name = part.get_filename() or "unnamed"
        note = f"[attachment {name!r}, {size} bytes, not kept by twsim]"
        try:
            part.set_content(note)
        except (TypeError, KeyError, ValueError):  # a part set_content will not take
            part.set_payload(note)
    return count


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _excerpt(text: str) -> str:
    flat = _flat(text)
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 3] + "..."
