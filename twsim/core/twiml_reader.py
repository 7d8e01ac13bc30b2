"""The TwiML verb reader: expat callbacks that build verbs and collect warnings.

`VerbReader` is driven by `parse_twiml` (in `twsim.core.twiml`), which owns the document-level
checks (size, encoding, DOCTYPE, well-formedness, root element). Everything the reader finds
wrong is a warning (`TwimlError` with ``fatal=False``) collected in `VerbReader.warnings`, in
document order; the offending part is dropped and the rest of the document is kept:

- 14110 a verb of voice TwiML (``<Say>``, ``<Dial>``...): the valid verbs in a messaging
  answer are ``<Message>``, ``<Sms>`` (its old name, read like ``<Message>``) and
  ``<Redirect>``; the verb is skipped;
- 12200 unknown verb (``<Foo>``, ``<message>``; names are case-sensitive), unknown noun in
  ``<Message>``, any element inside ``<Redirect>``, ``<Body>`` or ``<Media>``, non-blank
  text directly inside ``<Response>``, an unknown attribute (the attribute is ignored and
  the element kept), an empty ``<Media>``, more than 10 ``<Media>`` (the first 10 are
  kept), and a ``<Redirect>`` whose URL is empty or invalid (the redirect is dropped) or
  whose ``method`` is not GET/POST (the attribute is ignored);
- 14101 / 14102 ``to=""`` / ``from=""`` (blank): the message is dropped. Non-blank values
  are kept verbatim; checking them against the account is the gateway's job;
- 14103 a ``<Message>`` with neither body nor media, or a body over `MAX_BODY_CHARS` (1600)
  characters, counted as code points like the REST API's check: the message is dropped;
- 14104 a ``<Message>`` ``method`` other than GET/POST (any case; stored upper-case): the
  attribute is ignored (POST), the message is kept;
- 14105 a ``<Message>`` ``action`` or ``statusCallback`` that is not a valid URL: the
  attribute is ignored, the message is kept.

A valid URL is an absolute http(s) URL with a host, or a relative reference (no scheme);
either way non-empty and without whitespace or control characters. Attribute values are
taken exactly as written; text content (body, ``<Body>``, ``<Media>``, ``<Redirect>``) is
stripped of surrounding whitespace.

The body of a ``<Message>`` is its direct text (all runs joined, then stripped) followed by
the stripped text of each ``<Body>`` noun, in order. Attributes on ``<Response>`` (such as
``xmlns``) are ignored without a warning. Comments and processing instructions are ignored.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from twsim.core.errors import CATALOG, TwimlError
from twsim.core.limits import MAX_BODY_CHARS, MAX_MEDIA
from twsim.core.twiml_verbs import MessageVerb, RedirectVerb, Verb

_METHODS = frozenset({"GET", "POST"})
# the verbs of voice TwiML: known to Twilio, but not allowed in a messaging answer (14110)
VOICE_VERBS = frozenset(
    {
        "Say", "Play", "Dial", "Gather", "Record", "Hangup", "Pause", "Reject", "Enqueue",
        "Leave", "Connect", "Pay", "Prompt", "Refer", "Start", "Stop", "Echo", "Queue",
    }
)  # fmt: skip


# ---------------------------------------------------------------------------------------
# URLs


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_BAD_URL_CHAR = re.compile(r"[\x00-\x20\x7f\s]")


def _is_url(value: str) -> bool:
    """An absolute http(s) URL with a host, or a relative reference; no whitespace."""
    if not value or _BAD_URL_CHAR.search(value) is not None:
        return False
    scheme = _SCHEME.match(value)
    if scheme is None:
        return True
    if scheme.group(1).lower() not in ("http", "https"):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return False
    return bool(parts.hostname)


# ---------------------------------------------------------------------------------------
# Expat callbacks building verbs


def _warning(code: int, detail: str) -> TwimlError:
    return TwimlError(code, f"{CATALOG[code][1]}: {detail}", fatal=False)


_MESSAGE = 1
_REDIRECT = 2


class VerbReader:
    """Expat callbacks. Depth 1 is <Response>, 2 a verb, 3 a noun of <Message>."""

    __slots__ = (
        "_action",
        "_bodies",
        "_depth",
        "_drop",
        "_from",
        "_kind",
        "_media",
        "_method",
        "_noun",
        "_noun_text",
        "_skip",
        "_status_callback",
        "_text",
        "_to",
        "verbs",
        "warnings",
        "wrong_root",
    )

    def __init__(self) -> None:
        self.verbs: list[Verb] = []
        self.warnings: list[TwimlError] = []
        self.wrong_root: str | None = None
        self._depth = 0
        self._skip = 0  # depth of the ignored element being skipped, 0 when none
        self._kind = 0
        self._drop = False
        self._text: list[str] = []
        self._to: str | None = None
        self._from: str | None = None
        self._action: str | None = None
        self._status_callback: str | None = None
        self._method = "POST"
        self._bodies: list[str] = []
        self._media: list[str] = []
        self._noun = ""
        self._noun_text: list[str] = []

    def _warn(self, code: int, detail: str) -> None:
        self.warnings.append(_warning(code, detail))

    # expat callbacks --------------------------------------------------------------

    def start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self._depth = self._depth + 1
        if self._skip:
            return
        if depth == 2:
            if name == "Message" or name == "Sms":
                self._start_message(attrs)
            elif name == "Redirect":
                self._start_redirect(attrs)
            elif name in VOICE_VERBS:
                self._warn(14110, f"<{name}>: valid verbs are Message, Sms and Redirect; skipped")
                self._skip = depth
            else:
                self._warn(12200, f"unknown verb <{name}> ignored")
                self._skip = depth
        elif depth == 3:
            if self._kind == _MESSAGE and (name == "Body" or name == "Media"):
                self._noun = name
                self._noun_text = []
                for key in attrs:
                    self._warn(12200, f"unknown attribute {key!r} on <{name}> ignored")
            else:
                parent = "Message" if self._kind == _MESSAGE else "Redirect"
                self._warn(12200, f"<{name}> is not allowed inside <{parent}>; ignored")
                self._skip = depth
        elif depth == 1:
            if name != "Response":
                self.wrong_root = name
                self._skip = depth
        else:
            self._warn(12200, f"<{name}> is not allowed inside <{self._noun}>; ignored")
            self._skip = depth

    def end(self, name: str) -> None:
        depth = self._depth
        self._depth = depth - 1
        if self._skip:
            if depth == self._skip:
                self._skip = 0
        elif depth == 3:
            self._end_noun()
        elif depth == 2:
            if self._kind == _MESSAGE:
                self._end_message()
            else:
                self._end_redirect()

    def data(self, text: str) -> None:
        if self._skip:
            return
        depth = self._depth
        if depth == 3:
            self._noun_text.append(text)
        elif depth == 2:
            self._text.append(text)
        elif depth == 1 and not text.isspace():
            self._warn(12200, f"text outside a verb ignored: {text.strip()[:40]!r}")

    # <Message> ----------------------------------------------------------------------

    def _start_message(self, attrs: dict[str, str]) -> None:
        self._kind = _MESSAGE
        self._text = []
        self._bodies = []
        self._media = []
        self._drop = False
        self._to = self._from = self._action = self._status_callback = None
        self._method = "POST"
        for key, value in attrs.items():
            if key == "to":
                if value.strip():
                    self._to = value
                else:
                    self._warn(14101, "<Message> 'to' attribute is empty; message dropped")
                    self._drop = True
            elif key == "from":
                if value.strip():
                    self._from = value
                else:
                    self._warn(14102, "<Message> 'from' attribute is empty; message dropped")
                    self._drop = True
            elif key == "action" or key == "statusCallback":
                if not _is_url(value):
                    self._warn(14105, f"<Message> {key}={value!r} is not a valid URL; ignored")
                elif key == "action":
                    self._action = value
                else:
                    self._status_callback = value
            elif key == "method":
                upper = value.upper()
                if upper in _METHODS:
                    self._method = upper
                else:
                    self._warn(14104, f"<Message> method={value!r} is not GET or POST; ignored")
            else:
                self._warn(12200, f"unknown attribute {key!r} on <Message> ignored")

    def _end_noun(self) -> None:
        value = "".join(self._noun_text).strip()
        if self._noun == "Body":
            self._bodies.append(value)
        elif value:
            self._media.append(value)
        else:
            self._warn(12200, "empty <Media> ignored")

    def _end_message(self) -> None:
        body = "".join(self._text).strip() + "".join(self._bodies)
        media = self._media
        drop = self._drop
        if len(media) > MAX_MEDIA:
            self._warn(
                12200,
                f"<Message> has {len(media)} <Media> nouns; only the first {MAX_MEDIA} are kept",
            )
            media = media[:MAX_MEDIA]
        if not body and not media:
            self._warn(14103, "<Message> has no body and no media; message dropped")
            drop = True
        elif len(body) > MAX_BODY_CHARS:
            self._warn(
                14103,
                f"<Message> body is {len(body)} characters, over {MAX_BODY_CHARS}; message dropped",
            )
            drop = True
        if not drop:
            self.verbs.append(
                MessageVerb(
                    body,
                    tuple(media),
                    self._to,
                    self._from,
                    self._action,
                    self._method,
                    self._status_callback,
                )
            )

    # <Redirect> ---------------------------------------------------------------------

    def _start_redirect(self, attrs: dict[str, str]) -> None:
        self._kind = _REDIRECT
        self._text = []
        self._method = "POST"
        for key, value in attrs.items():
            if key == "method":
                upper = value.upper()
                if upper in _METHODS:
                    self._method = upper
                else:
                    self._warn(12200, f"<Redirect> method={value!r} is not GET or POST; ignored")
            else:
                self._warn(12200, f"unknown attribute {key!r} on <Redirect> ignored")

    def _end_redirect(self) -> None:
        url = "".join(self._text).strip()
        if not url:
            self._warn(12200, "<Redirect> has no URL; redirect dropped")
        elif not _is_url(url):
            self._warn(12200, f"<Redirect> URL {url!r} is not a valid URL; redirect dropped")
        else:
            self.verbs.append(RedirectVerb(url, self._method))
