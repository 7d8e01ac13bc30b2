"""Anonymising imported traffic: fake phone numbers and scrubbed bodies that bill the same.

`Anonymizer` keeps one mapping per run, so the same real number (or SID, or body) gives
the same fake everywhere in a recording. Fakes are drawn in order of first appearance from
generators seeded by `seed` alone, so a fake says nothing about the real value it stands
for, even to someone who knows the seed.

Phone numbers keep what billing and segment reports look at:

- E.164 numbers keep their country calling code, the first national digit and their length.
  NANP (``+1``) numbers keep their country (the area code is drawn from the same country's
  codes) and toll-free-ness; they become ``+1 AAA 555 01XX``, the range set aside for
  fiction, while it has room.
- Short codes stay short codes of the same length; channel prefixes (``whatsapp:``) stay.
- Anything else (alphanumeric sender IDs) is scrubbed like a body.

Bodies are scrubbed one character at a time, within the character's class, so length,
encoding, septets, UTF-16 units and hence segment counts stay what they were:

- ASCII letters become random letters of the same case, digits become digits; other GSM-7
  letters become GSM-7 letters of the same case.
- GSM-7 punctuation and symbols, the GSM-7 extension characters, all punctuation, spaces,
  line breaks and controls are kept.
- A character outside GSM-7 becomes another character outside GSM-7 from the same Unicode
  block and category, so it has the same UTF-16 length (emoji stay surrogate pairs).
  Combining marks, joiners, variation selectors, skin-tone modifiers and tag characters
  are kept, and regional indicators become regional indicators, so grapheme clusters (which
  decide where UCS-2 bodies split) stay the same shape.
- A body that is an opt-out or help keyword (``STOP``, ``HELP``...) is kept as it is: it
  says nothing about the sender, and a replay must still opt out. No scrubbed body becomes
  a keyword.
- Bodies equal apart from case and outer spaces get scrubs equal apart from the same, so
  repeated texts stay visibly repeated.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from faker import Faker

from twsim.core import keywords, phone
from twsim.core.ids import SidFactory, is_sid
from twsim.core.segments import GSM7_ALL, GSM7_BASIC

TOLL_FREE_AREA_CODES = frozenset({"800", "833", "844", "855", "866", "877", "888"})
"""NANP toll-free area codes."""

_TRIES = 64
_GSM_UPPER = "".join(sorted(c for c in GSM7_BASIC if c.isupper() and not c.isascii()))
_GSM_LOWER = "".join(sorted(c for c in GSM7_BASIC if c.islower() and not c.isascii()))
_KEPT_CATEGORIES = ("M", "P", "Z", "C")  # marks, punctuation, separators, controls/format
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_REGIONAL = "".join(chr(c) for c in range(0x1F1E6, 0x1F200))
_FALLBACK_BMP = "".join(chr(c) for c in range(0x4E00, 0x4F00))  # CJK ideographs
_FALLBACK_ASTRAL = "".join(chr(c) for c in range(0x1F600, 0x1F650))  # emoticons


def _kept(char: str) -> bool:
    """Characters carried over unchanged: structure and punctuation, not content."""
    if char in GSM7_ALL:
        return not char.isalnum()
    code = ord(char)
    return (
        unicodedata.category(char).startswith(_KEPT_CATEGORIES)
        or code in _SKIN_TONES
        or code in _TAGS
    )


@lru_cache(maxsize=512)
def _non_gsm_pool(block: int, category: str, astral: bool) -> str:
    """Non-GSM characters of one 128-code-point block and category, never special ones."""
    pool = "".join(
        chr(code)
        for code in range(block, block + 0x80)
        if unicodedata.category(chr(code)) == category
        and chr(code) not in GSM7_ALL
        and chr(code) not in _REGIONAL
        and code not in _SKIN_TONES
    )
    if len(pool) >= 4:
        return pool
    return _FALLBACK_ASTRAL if astral else _FALLBACK_BMP


def _pool(char: str) -> str | None:
    """What `char` may become (None: it is kept)."""
    if char.isascii():
        if char in string.ascii_lowercase:
            return string.ascii_lowercase
        if char in string.ascii_uppercase:
            return string.ascii_uppercase
        if char in string.digits:
            return string.digits
        return None
    if _kept(char):
        return None
    if char in GSM7_BASIC:
        return _GSM_UPPER if char.isupper() else _GSM_LOWER
    if char in _REGIONAL:
        return _REGIONAL
    code = ord(char)
    return _non_gsm_pool(code & ~0x7F, unicodedata.category(char), code > 0xFFFF)


def scrub(text: str, rng: random.Random) -> str:
    """`text` with every content character replaced within its class (one draw each).

    Each scrubbed character takes exactly one draw, whatever its case, so two texts equal
    apart from case get scrubs equal apart from case from equally seeded generators.
    """
    out = []
    for char in text:
        pool = _pool(char)
        if pool is None:
            out.append(char)
        else:
            out.append(pool[int(rng.random() * len(pool))])
    return "".join(out)


def has_content(text: str) -> bool:
    """True when `text` holds something `scrub` replaces."""
    return any(_pool(char) is not None for char in text)


class Anonymizer:
    """Consistent fakes for one import: numbers, SIDs and bodies.

    `avoid` lists real values no fake may equal (every number of the traffic, so a fake
    never lands on another real party).
    """

    def __init__(self, seed: int = 0, *, avoid: Iterable[str] = ()) -> None:
        self._faker = Faker()
        self._faker.seed_instance(seed)
        self._bodies_rng = random.Random(f"{seed}/bodies")
        self._sids = SidFactory(random.Random(f"{seed}/sids"))
        self._avoid = set(avoid)
        self._numbers: dict[str, str] = {}
        self._taken: set[str] = set()
        self._sid_map: dict[str, str] = {}
        self._body_seeds: dict[str, int] = {}

    # -- numbers -------------------------------------------------------------------------------
    def number(self, value: str) -> str:
        """The fake for a phone number, short code or sender ID (channel prefix kept)."""
        prefix, colon, address = value.rpartition(":")
        if colon and prefix.lower() in phone.CHANNELS:
            return f"{prefix}:{self.number(address)}"
        known = self._numbers.get(value)
        if known is not None:
            return known
        fake = value
        for attempt in range(_TRIES):
            fake = self._fake_number(value, attempt)
            if fake not in self._avoid and fake not in self._taken:
                break
        self._numbers[value] = fake
        self._taken.add(fake)
        return fake

    def _fake_number(self, value: str, attempt: int) -> str:
        fake = self._faker
        if phone.is_e164(value):
            digits = value[1:]
            if digits[0] == "1":
                return self._fake_nanp(digits[1:4], fictional=attempt < _TRIES // 2)
            code = _calling_code(digits)
            national = digits[len(code) :]
            return f"+{code}{national[:1]}{fake.numerify('#' * (len(national) - 1))}"
        if phone.SHORT_CODE.match(value):
            return fake.numerify("%" + "#" * (len(value) - 1))
        return scrub(value, self._faker.random)

    def _fake_nanp(self, area: str, *, fictional: bool) -> str:
        fake = self._faker
        if area in TOLL_FREE_AREA_CODES:
            codes: tuple[str, ...] = tuple(sorted(TOLL_FREE_AREA_CODES))
        elif area in phone.NANP_AREA_CODES:
            country = phone.NANP_AREA_CODES[area]
            codes = tuple(sorted(a for a, c in phone.NANP_AREA_CODES.items() if c == country))
        else:
            codes = _US_AREA_CODES
        area = fake.random_element(codes)
        if fictional:
            return f"+1{area}55501{fake.numerify('##')}"
        return f"+1{area}{fake.random_element('23456789')}{fake.numerify('######')}"

    # -- SIDs ----------------------------------------------------------------------------------
    def sid(self, value: str) -> str:
        """A fresh SID with the same prefix (anything not a SID is kept)."""
        if not is_sid(value):
            return value
        known = self._sid_map.get(value)
        if known is None:
            known = self._sid_map[value] = self._sids.new(value[:2])
        return known

    # -- bodies --------------------------------------------------------------------------------
    def body(self, text: str) -> str:
        """`text` scrubbed (see the module notes); keywords and empty bodies are kept."""
        if not has_content(text) or keywords.classify(text) is not None:
            return text
        key = text.strip().lower()
        seed = self._body_seeds.get(key)
        if seed is None:
            seed = self._body_seeds[key] = self._bodies_rng.getrandbits(64)
        rng = random.Random(seed)
        scrubbed = text
        for _ in range(_TRIES):
            scrubbed = scrub(text, rng)
            if scrubbed != text and keywords.classify(scrubbed) is None:
                break
        return scrubbed


def _calling_code(digits: str) -> str:
    """The country calling code `digits` starts with (its first three digits if unknown)."""
    for length in (3, 2, 1):
        if digits[:length] in phone.CALLING_CODES:
            return digits[:length]
    return digits[:3]


_US_AREA_CODES = tuple(
    str(code)
    for code in range(201, 1000)
    if str(code) not in phone.NANP_AREA_CODES
    and str(code) not in TOLL_FREE_AREA_CODES
    and str(code)[1:] != "11"
    and str(code)[1] != "9"
    and not str(code).startswith(("8", "9"))
)
"""Area codes that `country_of` reports as US and that look ordinary."""
