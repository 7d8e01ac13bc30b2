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
the document is kept. The warnings, and how URLs, attributes and bodies are read, are listed
in `twsim.core.twiml_reader`, whose `VerbReader` is the set of expat callbacks. The verb
records and the execution rule (`TwimlDocument.plan`) are in `twsim.core.twiml_verbs`;
every public name is importable from here.
"""

from __future__ import annotations

import codecs
import re
from typing import NoReturn
from xml.parsers import expat

from twsim.core.errors import CATALOG, TwimlError
from twsim.core.limits import MAX_MEDIA
from twsim.core.twiml_reader import VerbReader
from twsim.core.twiml_verbs import MessageVerb, Plan, RedirectVerb, TwimlDocument, Verb

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

    reader = VerbReader()
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
