"""Messaging TwiML: a safe parser from the app's answer to verbs, and Twilio's execution rule.

The app's TwiML is untrusted input. `parse_twiml` drives the stdlib's expat directly and
never lets a DTD through: a document over `max_bytes`, or one containing ``<!DOCTYPE``
anywhere (even inside a comment), is refused before expat sees it, so no entity can be
declared, expanded or fetched. (The check has to come first: when an expat callback raises,
pyexpat goes on parsing the rest of the input with its handlers cleared.) Expat's own
DOCTYPE, entity-declaration and external-entity hooks refuse as well, as a second line of
defence. Expat's callbacks build the verbs directly, with no tree in between; without
namespace processing ``xmlns`` is a plain attribute and ``tw:Message`` a plain name.

Fatal problems raise `TwimlError` (``fatal=True``):

- 12100 the document is empty, too large, not well formed, not decodable in its declared
  encoding, or has a DOCTYPE;
- 12102 the root element is not ``<Response>``.

Everything else is a warning (`TwimlError` with ``fatal=False``) collected in
`TwimlDocument.warnings`, in document order; the offending part is dropped and the rest of
the document is kept:

- 12200 unknown verb (``<Say>``, ``<message>``; names are case-sensitive), unknown noun in
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

import codecs
import re
from dataclasses import dataclass
from typing import NoReturn, TypeAlias
from urllib.parse import urlsplit
from xml.parsers import expat

from twsim.core.errors import CATALOG, TwimlError
from twsim.core.segments import MAX_BODY_CHARS

__all__ = [
    "MAX_MEDIA",
    "MAX_TWIML_BYTES",
    "MessageVerb",
    "Plan",
    "RedirectVerb",
    "TwimlDocument",
    "Verb",
    "parse_twiml",
]

MAX_TWIML_BYTES = 64 * 1024
MAX_MEDIA = 10

_METHODS = frozenset({"GET", "POST"})


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


def parse_twiml(document: bytes | str, *, max_bytes: int = MAX_TWIML_BYTES) -> TwimlDocument:
    """Parse Messaging TwiML. Raises `TwimlError` (fatal) for 12100 and 12102.

    `document` may be bytes in any encoding its XML declaration (or BOM) names, UTF-8 by
    default, or an already decoded str (its declared encoding is then ignored). `max_bytes`
    bounds the raw size (a str is measured as UTF-8).
    """
    if isinstance(document, bytes):
        if len(document) > max_bytes:
            raise _too_large(len(document), max_bytes)
        text = _decode(document)
    else:
        text = document
        size = len(text)
        if size > max_bytes or (
            size * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes
        ):
            raise _too_large(len(text.encode("utf-8", "surrogatepass")), max_bytes)
    if "<!DOCTYPE" in text:
        raise _parse_failure("DOCTYPE declarations are not allowed")
    if not text or text.isspace():
        raise _parse_failure("the document is empty")

    reader = _Reader()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise _parse_failure(str(exc)) from None
    except _Refused as exc:
        raise _parse_failure(str(exc)) from None
    except UnicodeError:
        raise _parse_failure("the document is not valid Unicode") from None
    if reader.wrong_root is not None:
        raise TwimlError(
            12102,
            f"{_wording(12102)}: the root element is <{reader.wrong_root}>, not <Response>",
        )
    return TwimlDocument(tuple(reader.verbs), tuple(reader.warnings))


# ---------------------------------------------------------------------------------------
# Decoding and fatal errors


_ENCODING_DECL = re.compile(rb"""\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# What the official generators emit, recognised without a regex.
_UTF8_DECLARATIONS = (
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<?xml version="1.0" encoding="utf-8"?>',
    b"<?xml version='1.0' encoding='UTF-8'?>",
    b"<?xml version='1.0' encoding='utf-8'?>",
)
# Codecs that rewrite escape sequences rather than name a character set.
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode"})


def _decode(data: bytes) -> str:
    """Decode per XML's rules: a BOM first, then the declaration, else UTF-8."""
    if data.startswith(_UTF8_DECLARATIONS):
        return _decode_as(data, "utf-8")
    head = data[:4]
    encoding = "utf-8"
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        encoding = "utf-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head == b"<\x00?\x00":
        encoding = "utf-16-le"
    elif head == b"\x00<\x00?":
        encoding = "utf-16-be"
    elif data.startswith(b"<?xml") and data[5:6].isspace():
        end = data.find(b"?>")
        match = _ENCODING_DECL.search(data, 0, end) if end > 0 else None
        if match is not None:
            declared = (match.group(1) or match.group(2) or b"").decode("ascii", "replace")
            try:
                encoding = codecs.lookup(declared).name
            except LookupError:
                raise _parse_failure(f"unknown encoding {declared!r}") from None
            if encoding in _NOT_CHARSETS:
                raise _parse_failure(f"unsupported encoding {declared!r}")
            if encoding in ("utf-16", "utf-32"):
                # No BOM and no NUL-interleaved '<?': the declaration contradicts the bytes.
                raise _parse_failure(f"encoding {declared!r} declared without a byte order mark")
    return _decode_as(data, encoding)


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise _parse_failure(f"the document is not valid {encoding}: {exc}") from None


def _wording(code: int) -> str:
    return CATALOG[code][1]


def _parse_failure(reason: str) -> TwimlError:
    return TwimlError(12100, f"{_wording(12100)}: {reason}")


def _too_large(size: int, limit: int) -> TwimlError:
    return _parse_failure(f"the document is {size} bytes, over the {limit} byte limit")


class _Refused(Exception):
    """Raised from expat's DTD hooks, which must never run on accepted input."""


def _refuse(*args: object) -> NoReturn:
    raise _Refused("DTD content (DOCTYPE, entity declarations) is not allowed")


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
# The reader: expat callbacks building verbs


def _warning(code: int, detail: str) -> TwimlError:
    return TwimlError(code, f"{_wording(code)}: {detail}", fatal=False)


_MESSAGE = 1
_REDIRECT = 2


class _Reader:
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
            if name == "Message":
                self._start_message(attrs)
            elif name == "Redirect":
                self._start_redirect(attrs)
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
