from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twsim.core.segments import GSM7_ALL, GSM7_BASIC, GSM7_EXTENSION, Encoding, segment
from twsim.core.smart_encoding import SMART_ENCODING_MAP, smart_encode

MAPPED = "".join(sorted(SMART_ENCODING_MAP))
GSM = "".join(sorted(GSM7_ALL))


@pytest.mark.parametrize(
    ("source", "replacement"),
    [
        # quotation marks and apostrophes
        ("\u201c", '"'),  # “
        ("\u201d", '"'),  # ”
        ("\u201e", '"'),  # „
        ("\u201f", '"'),  # ‟
        ("\u00ab", '"'),  # «
        ("\u00bb", '"'),  # »
        ("\uff02", '"'),  # ＂
        ("\u2018", "'"),  # ‘
        ("\u2019", "'"),  # ’
        ("\u201b", "'"),  # ‛
        ("\u00b4", "'"),  # ´
        ("\u02ca", "'"),  # ˊ
        ("`", "'"),
        ("\uff07", "'"),  # ＇
        ("\u02b9", "'"),  # ʹ
        ("\u02bb", "'"),  # ʻ
        ("\u02bc", "'"),  # ʼ
        # dashes, bullets
        ("\u2013", "-"),  # –
        ("\u2014", "-"),  # —
        ("\u2015", "-"),  # ―
        ("\u2010", "-"),  # ‐
        ("\u2043", "-"),  # ⁃
        ("\uff0d", "-"),  # －
        ("\u2022", "-"),  # •
        # multi-character replacements
        ("\u2026", "..."),  # …
        ("\u203c", "!!"),  # ‼
        ("\u00bc", "1/4"),
        ("\u00bd", "1/2"),
        ("\u00be", "3/4"),
        # slashes and angle quotes
        ("\u00f7", "/"),  # ÷
        ("\u2044", "/"),  # ⁄
        ("\u2215", "/"),  # ∕
        ("\uff0f", "/"),  # ／
        ("\u2039", "<"),  # ‹
        ("\u203a", ">"),  # ›
        # fullwidth ASCII
        ("\uff01", "!"),
        ("\uff10", "0"),
        ("\uff19", "9"),
        ("\uff21", "A"),
        ("\uff3a", "Z"),
        ("\uff41", "a"),
        ("\uff5a", "z"),
        ("\uff3b", "["),
        ("\uff5e", "~"),
        ("\uff40", "'"),
        # small capitals
        ("\u1d00", "A"),  # ᴀ
        ("\u0299", "B"),  # ʙ
        ("\u1d04", "C"),  # ᴄ
        ("\u0262", "G"),  # ɢ
        ("\ua731", "S"),  # ꜱ
        ("\u1d22", "Z"),  # ᴢ
        # spaces
        ("\u00a0", "  "),
        ("\u2002", "  "),
        ("\u2009", "  "),
        ("\u202f", "  "),
        ("\u3000", "  "),
        ("\u2001", " "),
        ("\u2028", " "),
        ("\u2029", " "),
        ("\t", " " * 7),
        # removed
        ("\u200b", ""),
        ("\u2060", ""),
        ("\ufeff", ""),
        ("\x00", ""),
    ],
)
def test_look_alikes(source: str, replacement: str) -> None:
    assert SMART_ENCODING_MAP[source] == replacement
    assert smart_encode(f"x{source}y") == f"x{replacement}y"


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("“Don’t” – he said…", '"Don\'t" - he said...'),
        ("ＴＷＩＬＩＯ\u3000１２３", "TWILIO  123"),
        ("ᴄᴏᴅᴇ", "CODE"),
        ("a\u200bb\ufeffc", "abc"),
        ("col1\tcol2", "col1       col2"),
        ("emoji 😀 stays, ’ goes", "emoji 😀 stays, ' goes"),
        ("€ [ok] ~ {x}", "€ [ok] ~ {x}"),
    ],
)
def test_smart_encode(text: str, encoded: str) -> None:
    assert smart_encode(text) == encoded


@pytest.mark.parametrize("char", ["\u200d", "\u200c", "ç", "Ж", "😀", "\u0301", "\x01"])
def test_unmapped_characters_are_kept(char: str) -> None:
    assert char not in SMART_ENCODING_MAP
    assert smart_encode(char) == char


def test_table_keys_are_single_non_gsm_characters() -> None:
    for key in SMART_ENCODING_MAP:
        assert len(key) == 1
        assert key not in GSM7_ALL, f"U+{ord(key):04X} is already GSM-7"


def test_table_values_are_gsm7() -> None:
    for key, value in SMART_ENCODING_MAP.items():
        assert GSM7_ALL.issuperset(value), f"U+{ord(key):04X} -> {value!r}"


def test_values_are_basic_unless_the_look_alike_is_an_extension_character() -> None:
    extension_targets = {
        value for value in SMART_ENCODING_MAP.values() if GSM7_EXTENSION & set(value)
    }
    assert extension_targets == {"[", "]", "\\", "^", "{", "}", "|", "~"}
    assert all(
        GSM7_BASIC.issuperset(value)
        for value in SMART_ENCODING_MAP.values()
        if value not in extension_targets
    )


@given(st.text(alphabet=st.sampled_from(MAPPED + GSM), max_size=300))
def test_mapped_and_gsm_text_encodes_to_gsm7(text: str) -> None:
    encoded = smart_encode(text)
    assert GSM7_ALL.issuperset(encoded)
    result = segment(text, smart_encoding=True)
    assert result.encoding is Encoding.GSM7
    assert result.body == encoded
    assert result.ucs2_chars == ()


@given(st.text(alphabet=st.sampled_from(GSM), max_size=300))
def test_gsm7_text_is_unchanged(text: str) -> None:
    assert smart_encode(text) == text


@given(st.text())
def test_per_character_and_idempotent(text: str) -> None:
    encoded = smart_encode(text)
    assert encoded == "".join(SMART_ENCODING_MAP.get(char, char) for char in text)
    assert smart_encode(encoded) == encoded
