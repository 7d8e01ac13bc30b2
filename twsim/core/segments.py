"""SMS segmentation: which encoding a body needs and how it splits into billable segments.

Rules (Twilio's, as its Message Segment Calculator implements them):

- A body is GSM-7 when every character is in the GSM-7 basic or extension table;
  otherwise the *whole* body is UCS-2.
- GSM-7 counts septets: a basic character is 1, an extension character (``\\f [ \\ ] ^
  { | } ~ €``) is 2 (escape + code) and is never split across segments.
- UCS-2 counts UTF-16 code units: a character outside the BMP (most emoji) is 2 (a
  surrogate pair) and is never split.
- One segment holds 160 septets / 70 units. A longer body is sent concatenated, each
  part carrying a header, so each holds 153 septets / 67 units. Parts are filled
  greedily, in order.
- ``\\r\\n`` is two characters.

Beyond code points, UCS-2 bodies keep simple grapheme clusters whole, so a part never
begins with a stray accent or half of an emoji sequence: a character joins the one
before it when it is a combining mark (Unicode category M*), a zero-width joiner or
non-joiner, a variation selector, an emoji skin-tone modifier or a tag character; any
character right after a zero-width joiner joins too; regional indicators pair up into
flags. Controls (line breaks included) never join anything. This is a cheap subset of
full grapheme clustering (no Hangul jamo or prepend rules). A cluster too long for a
whole part (an absurd run of combining marks) is cut where the part is full. Clusters
are only looked at where a part would end, so the cost is per part, not per character.
GSM-7 bodies need none of this: every GSM-7 character is a single code point that joins
nothing.

`segment` does not enforce `MAX_BODY_CHARS`; validation lives with the callers that
answer Twilio's errors.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from twsim.core.smart_encoding import smart_encode


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


"""Longest body Twilio accepts (REST 21617, TwiML 14103)."""

GSM7_SINGLE: Final = 160
"""Septets in a lone GSM-7 segment."""
GSM7_MULTI: Final = 153
"""Septets in each part of a concatenated GSM-7 message."""
UCS2_SINGLE: Final = 70
"""UTF-16 code units in a lone UCS-2 segment."""
UCS2_MULTI: Final = 67
"""UTF-16 code units in each part of a concatenated UCS-2 message."""

GSM7_BASIC: Final = frozenset(
    "\n\r !\"#$%&'()*+,-./0123456789:;<=>?"
    "@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    "¡£¤¥§¿ÄÅÆÉÑÖØÜßàäåæÇèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ"
)
"""Characters of the GSM-7 default alphabet, 1 septet each."""

GSM7_EXTENSION: Final = frozenset("\f[\\]^{|}~€")
"""Characters of the GSM-7 extension table, 2 septets each (escape + code)."""

GSM7_ALL: Final = GSM7_BASIC | GSM7_EXTENSION
"""Every character a GSM-7 body may hold."""

_EXTENSION_CHARS: Final = tuple(sorted(GSM7_EXTENSION))
_BMP_MAX: Final = "\uffff"
_ESCAPE: Final = "\x1b"  # GSM-7 escape to the extension table


@dataclass(frozen=True, slots=True)
class Segmentation:
    """How one body is encoded and split.

    `segments` joined give back `body`, the text actually sent (after Smart Encoding
    when it was asked for). `ucs2_chars` lists, in order of first appearance, each
    distinct character that forced UCS-2; it is empty for GSM-7.
    """

    encoding: Encoding
    segments: tuple[str, ...]
    ucs2_chars: tuple[str, ...]
    body: str

    @property
    def count(self) -> int:
        """Billable segments; an empty body is one (empty) segment."""
        return len(self.segments)


def segment(body: str, *, smart_encoding: bool = False) -> Segmentation:
    """Choose the encoding of `body` and split it into segments."""
    if smart_encoding:
        body = smart_encode(body)
    if GSM7_BASIC.issuperset(body):
        # The common case: plain text, one septet per character.
        if len(body) <= GSM7_SINGLE:
            return Segmentation(Encoding.GSM7, (body,), (), body)
        return Segmentation(Encoding.GSM7, _slices(body, GSM7_MULTI), (), body)
    if GSM7_ALL.issuperset(body):
        return Segmentation(Encoding.GSM7, _split_gsm7(body), (), body)
    ucs2_chars = tuple(sorted(set(body).difference(GSM7_ALL), key=body.index))
    return Segmentation(Encoding.UCS2, _split_ucs2(body), ucs2_chars, body)


def _slices(body: str, size: int) -> tuple[str, ...]:
    return tuple(body[start : start + size] for start in range(0, len(body), size))


def _split_gsm7(body: str) -> tuple[str, ...]:
    # Write each extension character as it goes on the wire, escape + code, so that one
    # character of `escaped` is one septet; a part must not end between the two.
    escaped = body
    for char in _EXTENSION_CHARS:
        if char in escaped:
            escaped = escaped.replace(char, _ESCAPE + char)
    if len(escaped) <= GSM7_SINGLE:
        return (body,)
    parts: list[str] = []
    start = 0
    while len(escaped) - start > GSM7_MULTI:
        end = start + GSM7_MULTI
        if escaped[end - 1] == _ESCAPE:
            end -= 1
        parts.append(escaped[start:end].replace(_ESCAPE, ""))
        start = end
    parts.append(escaped[start:].replace(_ESCAPE, ""))
    return tuple(parts)


def _units(text: str) -> int:
    """UTF-16 code units; a lone surrogate (possible in a Python str) counts as one."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _split_ucs2(body: str) -> tuple[str, ...]:
    remaining = _units(body)
    if remaining <= UCS2_SINGLE:
        return (body,)
    parts: list[str] = []
    start = 0
    while remaining > UCS2_MULTI:
        # The furthest end that fits: start from one character per unit and drop
        # characters while too long. Each character is 1 or 2 units, so dropping half
        # the excess (rounded up) at least halves it and overshoots by at most 1 unit.
        end = min(start + UCS2_MULTI, len(body))
        size = _units(body[start:end])
        while size > UCS2_MULTI:
            end -= (size - UCS2_MULTI + 1) // 2
            size = _units(body[start:end])
        if size < UCS2_MULTI and body[end] <= _BMP_MAX:
            end += 1
            size += 1
        # Back off to the start of the cluster the cut would fall in; a cluster longer
        # than a whole part is cut where the part is full.
        cut = end
        while cut > start and _joins_previous(body, cut):
            cut -= 1
        if start < cut < end:
            size = _units(body[start:cut])
            end = cut
        parts.append(body[start:end])
        remaining -= size
        start = end
    parts.append(body[start:])
    return tuple(parts)


# How a code point behaves when clustering (see the module docstring).
_OTHER: Final = 0
_CONTROL: Final = 1
_EXTEND: Final = 2
_ZWJ: Final = 3
_REGIONAL: Final = 4


def _kind(char: str) -> int:
    if char < "\u0300":
        # No marks or joiners live below the combining diacritics block.
        return _CONTROL if char < " " or "\x7f" <= char < "\xa0" else _OTHER
    code = ord(char)
    if code == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= code <= 0x1F1FF:
        return _REGIONAL
    if code == 0x200C or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return _EXTEND
    category = unicodedata.category(char)
    if category[0] == "M":  # Mn, Mc, Me; variation selectors are Mn
        return _EXTEND
    if category in ("Zl", "Zp"):
        return _CONTROL
    return _OTHER


def _joins_previous(body: str, index: int) -> bool:
    """True when body[index] belongs to the same cluster as body[index - 1]."""
    current = _kind(body[index])
    previous = _kind(body[index - 1])
    if previous == _CONTROL or current == _CONTROL:
        return False
    if current in (_EXTEND, _ZWJ) or previous == _ZWJ:
        return True
    if current != _REGIONAL or previous != _REGIONAL:
        return False
    # Regional indicators pair up from the left: join when an odd run precedes.
    run = 1
    while index - run - 1 >= 0 and _kind(body[index - run - 1]) == _REGIONAL:
        run += 1
    return run % 2 == 1
