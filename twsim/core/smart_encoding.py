"""Smart Encoding: Unicode look-alikes replaced by GSM-7 text before a body is segmented.

Twilio's Smart Encoding (a Messaging Service setting, or ``SmartEncoded=true`` on create)
swaps characters that merely *look* like GSM-7 ones (curly quotes, dashes, fullwidth
forms, exotic spaces...) for their GSM-7 counterparts, so one stray ``’`` does not turn a
whole message into UCS-2 and halve its segment capacity.

The replacement is per code point and unconditional: it also happens in a message that
stays UCS-2 for other reasons (an emoji, say).

`SMART_ENCODING_MAP` follows the mapping of Twilio's Message Segment Calculator
(``SmartEncodingMap``), the published reference for this feature, value for value --
including its quirks that change lengths: most exotic spaces and a few C1 controls become
*two* spaces, TAB becomes seven. Deliberate differences, none of which changes a segment
count except the last:

- ``‹`` maps to ``<`` and ``›`` to ``>`` (the calculator has them crossed);
- U+2017 DOUBLE LOW LINE maps to ``_`` (the calculator says ``'``);
- the whole fullwidth ASCII block U+FF01..U+FF5E is mapped (the calculator omits the
  lowercase letters and the grave accent), fullwidth grave accent becoming ``'`` like
  the ASCII one, since a backtick is not GSM-7.

Every key is a single character outside the GSM-7 tables and every value is GSM-7 text
(possibly empty); the tests hold the table to that.
"""

from __future__ import annotations

import re
from typing import Final

# Replacement text -> the characters that become it.
_BY_REPLACEMENT: Final[tuple[tuple[str, str], ...]] = (
    # Quotation marks, primes and apostrophe look-alikes.
    ('"', "\u00ab\u00bb\u201c\u201d\u201e\u201f\u02ba\u02ee\u275d\u275e\u301d\u301e"),
    (
        "'",
        "\u2018\u2019\u201b\u02b9\u02bb\u02bc\u02bd\u02c8\u02ca\u02cb\u00b4\u0060"
        "\u275b\u275c\u0313\u0314\ufe10\ufe11",
    ),
    # Slashes, bars, low lines.
    ("/", "\u00f7\u2044\u2215\u29f8\u0337\u0338"),
    ("\\", "\u29f5\u29f9\u20e5\ufe68"),
    ("_", "\u0332\u2017"),
    ("|", "\u20d2\u20d3\u2223\u239c\u239f\u23b8\u23b9\u23d0"),
    # Dashes and bullets.
    ("-", "\u2010\u2013\u2014\u2015\u2022\u2043\u23bc\u23bd\ufe63"),
    # Punctuation in small / presentation / ornament forms.
    ("@", "\ufe6b"),
    ("$", "\ufe69"),
    ("!", "\u01c3\ufe15\ufe57"),
    ("!!", "\u203c"),
    ("#", "\ufe5f"),
    ("%", "\ufe6a"),
    ("&", "\ufe60"),
    (",", "\u201a\u0326\ufe50\ufe51\u3001\uff64"),
    ("(", "\u2768\u276a\u27ee\u2985\ufe59"),
    (")", "\u2769\u276b\u27ef\u2986\ufe5a"),
    (
        "*",
        "\u204e\u2217\u229b\u2722\u2723\u2724\u2725\u2731\u2732\u2733\u273a\u273b"
        "\u273c\u273d\u2743\u2749\u274a\u274b\u29c6\ufe61",
    ),
    ("+", "\u02d6\ufe62"),
    (".", "\u3002\ufe52\uff61"),
    ("...", "\u2026"),
    (":", "\u02d0\u02f8\u2982\ua789\ufe13"),
    (";", "\u204f\ufe14\ufe54"),
    ("<", "\u2039\ufe64"),
    (">", "\u203a\ufe65"),
    ("=", "\u0347\ua78a\ufe66"),
    ("?", "\ufe16\ufe56"),
    ("^", "\u02c6\u0302\u1dcd"),
    ("{", "\u2774\ufe5b"),
    ("}", "\u2775\ufe5c"),
    ("~", "\u02dc\u02f7\u0303\u0330\u0334\u223c"),
    # Fractions.
    ("1/4", "\u00bc"),
    ("1/2", "\u00bd"),
    ("3/4", "\u00be"),
    # Latin letter small capitals (there are none for Q and X).
    ("A", "\u1d00"),
    ("B", "\u0299"),
    ("C", "\u1d04"),
    ("D", "\u1d05"),
    ("E", "\u1d07"),
    ("F", "\ua730"),
    ("G", "\u0262"),
    ("H", "\u029c"),
    ("I", "\u026a"),
    ("J", "\u1d0a"),
    ("K", "\u1d0b"),
    ("L", "\u029f"),
    ("M", "\u1d0d"),
    ("N", "\u0274"),
    ("O", "\u1d0f"),
    ("P", "\u1d18"),
    ("R", "\u0280"),
    ("S", "\ua731"),
    ("T", "\u1d1b"),
    ("U", "\u1d1c"),
    ("V", "\u1d20"),
    ("W", "\u1d21"),
    ("Y", "\u028f"),
    ("Z", "\u1d22"),
    # Spaces: most widths (and a few C1 controls that render as blanks) become two.
    (
        "  ",
        "\u00a0\u2000\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
        "\u205f\u3000\u0080\u008d\u0090\u009b\u009f",
    ),
    (" ", "\u2001\u2028\u2029"),
    ("       ", "\t"),
    # Invisible characters and non-printing C0 controls disappear.
    ("", "\u200b\u2060\ufeff\u0000\u0003\u0004\u0010\u0011\u0012\u0013\u0014\u0017\u0019"),
)

_FULLWIDTH_OFFSET: Final = 0xFEE0  # U+FF01 FULLWIDTH EXCLAMATION MARK - U+0021 "!"


def _fullwidth_ascii() -> dict[str, str]:
    table = {chr(code + _FULLWIDTH_OFFSET): chr(code) for code in range(0x21, 0x7F)}
    table["\uff40"] = "'"  # a grave accent is not GSM-7 in either width
    return table


def _build() -> dict[str, str]:
    table = _fullwidth_ascii()
    for replacement, sources in _BY_REPLACEMENT:
        for source in sources:
            if source in table:
                raise ValueError(f"duplicate smart-encoding key U+{ord(source):04X}")
            table[source] = replacement
    return table


SMART_ENCODING_MAP: Final[dict[str, str]] = _build()
"""Character -> GSM-7 replacement text (possibly empty)."""

# One character class of every key: most bodies hold few look-alikes or none, and a
# regex scan with a replacement per hit beats a per-character translation table there.
_LOOKALIKE: Final = re.compile("[" + "".join(map(re.escape, sorted(SMART_ENCODING_MAP))) + "]")


def _replacement(match: re.Match[str]) -> str:
    return SMART_ENCODING_MAP[match.group()]


def smart_encode(text: str) -> str:
    """Replace every character found in `SMART_ENCODING_MAP` by its GSM-7 replacement."""
    return _LOOKALIKE.sub(_replacement, text)
