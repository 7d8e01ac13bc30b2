from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twsim.core.limits import MAX_BODY_CHARS
from twsim.core.segments import (
    GSM7_ALL,
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    Segmentation,
    segment,
)

# The GSM-7 tables written out independently of the module (twilio-facts §8).
BASIC = (
    "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    "abcdefghijklmnopqrstuvwxyz¡£¤¥§¿ÄÅÆÉÑÖØÜßàäåæÇèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ"
)
EXTENSION = "\f[\\]^{|}~€"

EMOJI = "😀"  # outside the BMP: a surrogate pair, 2 units
FAMILY = "👩\u200d👩\u200d👧"  # ZWJ sequence: 5 code points, 8 units
FLAG = "🇫🇷"  # two regional indicators, 4 units
THUMB = "👍🏽"  # emoji + skin-tone modifier, 4 units
E_ACUTE = "e\u0301"  # e + combining acute accent
KEYCAP = "1\ufe0f\u20e3"  # digit + variation selector + combining keycap


def septets(text: str) -> int:
    return sum(2 if char in EXTENSION else 1 for char in text)


def units(text: str) -> int:
    # a lone surrogate, which a Python str can hold, is one unit
    return sum(2 if char > "\uffff" else 1 for char in text)


def size(text: str, encoding: Encoding) -> int:
    return septets(text) if encoding is Encoding.GSM7 else units(text)


def capacity(encoding: Encoding, count: int) -> int:
    if encoding is Encoding.GSM7:
        return 160 if count == 1 else 153
    return 70 if count == 1 else 67


def expected_count(total: int, single: int, multi: int) -> int:
    return 1 if total <= single else math.ceil(total / multi)


# -- the tables ---------------------------------------------------------------------


def test_tables_match_the_facts() -> None:
    assert len(BASIC) == 127
    assert frozenset(BASIC) == GSM7_BASIC
    assert frozenset(EXTENSION) == GSM7_EXTENSION
    assert GSM7_ALL == GSM7_BASIC | GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("char", ["`", "ç", "\t", "\x1b", "\u00a0", "’", "–", "…", "Ж", EMOJI])
def test_characters_outside_gsm7(char: str) -> None:
    assert char not in GSM7_ALL
    assert segment(char).encoding is Encoding.UCS2


def test_constants_and_record() -> None:
    assert MAX_BODY_CHARS == 1600
    assert Encoding("GSM-7") is Encoding.GSM7
    assert Encoding("UCS-2") is Encoding.UCS2
    assert f"{Encoding.GSM7}/{Encoding.UCS2}" == "GSM-7/UCS-2"
    result = segment("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.body = "x"  # type: ignore[misc]
    assert not hasattr(result, "__dict__")


# -- exact boundaries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoding", "lengths"),
    [
        # empty body: one empty segment
        ("", Encoding.GSM7, [0]),
        # GSM-7 basic
        ("a" * 20, Encoding.GSM7, [20]),
        ("a" * 160, Encoding.GSM7, [160]),
        ("a" * 161, Encoding.GSM7, [153, 8]),
        ("a" * 306, Encoding.GSM7, [153, 153]),
        ("a" * 307, Encoding.GSM7, [153, 153, 1]),
        ("a" * 1600, Encoding.GSM7, [153] * 10 + [70]),
        # GSM-7 extension characters cost 2 septets and stay whole
        ("€" * 80, Encoding.GSM7, [80]),
        ("€" * 81, Encoding.GSM7, [76, 5]),
        ("a" * 158 + "€", Encoding.GSM7, [159]),
        ("a" * 159 + "€", Encoding.GSM7, [153, 7]),
        ("a" * 152 + "€" + "b" * 7, Encoding.GSM7, [152, 8]),
        ("a" * 151 + "€" + "b" * 8, Encoding.GSM7, [152, 8]),
        ("a" * 152 + "b" + "€" * 4, Encoding.GSM7, [153, 4]),
        ("a" * 153 + "{" + "a" * 152 + "}", Encoding.GSM7, [153, 152, 2]),
        # "\r\n" is two characters
        ("\r\n" * 80, Encoding.GSM7, [160]),
        ("a" + "\r\n" * 80, Encoding.GSM7, [153, 8]),
        ("a" * 152 + "\r\n" + "a" * 7, Encoding.GSM7, [153, 8]),
        # UCS-2, BMP only
        ("Ж" * 70, Encoding.UCS2, [70]),
        ("Ж" * 71, Encoding.UCS2, [67, 4]),
        ("Ж" * 134, Encoding.UCS2, [67, 67]),
        ("Ж" * 135, Encoding.UCS2, [67, 67, 1]),
        ("a" * 69 + "ç", Encoding.UCS2, [70]),
        ("a" * 70 + "ç", Encoding.UCS2, [67, 4]),
        # UCS-2 with surrogate pairs: 2 units each, never split
        (EMOJI * 35, Encoding.UCS2, [35]),
        (EMOJI * 36, Encoding.UCS2, [33, 3]),
        ("Ж" * 68 + EMOJI, Encoding.UCS2, [69]),
        ("Ж" * 69 + EMOJI, Encoding.UCS2, [67, 3]),
        ("Ж" * 66 + EMOJI + "Ж" * 3, Encoding.UCS2, [66, 4]),
        ("Ж" * 65 + EMOJI + "Ж" * 4, Encoding.UCS2, [66, 4]),
        (EMOJI * 100, Encoding.UCS2, [33, 33, 33, 1]),
        # an extension character in a UCS-2 body is an ordinary 1-unit character
        ("€" * 70 + "ç", Encoding.UCS2, [67, 4]),
    ],
)
def test_boundaries(body: str, encoding: Encoding, lengths: list[int]) -> None:
    result = segment(body)
    assert result.encoding is encoding
    assert [len(part) for part in result.segments] == lengths
    assert result.count == len(lengths)
    assert "".join(result.segments) == body == result.body


@pytest.mark.parametrize(
    ("cluster", "per_part"),
    [
        (FAMILY, 8),  # 8 units each: 8 * 8 = 64 <= 67
        (FLAG, 16),  # 4 units each
        (THUMB, 16),  # 4 units each
        (E_ACUTE, 33),  # 2 units each
        (KEYCAP, 22),  # 3 units each
    ],
)
def test_clusters_stay_whole(cluster: str, per_part: int) -> None:
    result = segment(cluster * 40)
    assert result.encoding is Encoding.UCS2
    assert result.count == math.ceil(40 / per_part)
    for part in result.segments:
        assert len(part) % len(cluster) == 0
        assert part == cluster * (len(part) // len(cluster))


def test_cluster_at_the_boundary_moves_whole() -> None:
    # 64 units of Cyrillic, then an 8-unit family: it cannot end part 1 (72 > 67).
    body = "Ж" * 64 + FAMILY + "Ж"
    assert [*segment(body).segments] == ["Ж" * 64, FAMILY + "Ж"]


def test_odd_flag_run_pairs_from_the_left() -> None:
    run = "\U0001f1eb" * 37  # 37 regional indicators, 74 units
    parts = segment(run).segments
    assert [units(part) for part in parts] == [64, 10]


def test_line_breaks_do_not_join() -> None:
    body = "Ж" * 66 + "\n\u0301" + "Ж" * 3
    assert [len(part) for part in segment(body).segments] == [67, 4]


def test_runaway_combining_marks_are_capped() -> None:
    body = "a" + "\u0301" * 200
    result = segment(body)
    assert all(units(part) <= 67 for part in result.segments)
    assert "".join(result.segments) == body


# -- which characters forced UCS-2 ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ucs2_chars"),
    [
        ("plain [text] {€}", ()),
        ("it’s ok", ("’",)),
        ("“a” ‘b’ “c”", ("“", "”", "‘", "’")),
        (f"hi {EMOJI}{EMOJI} ç", (EMOJI, "ç")),
        (FAMILY, ("👩", "\u200d", "👧")),
        ("café" + "\u0301", ("\u0301",)),
        ("tab\there", ("\t",)),
    ],
)
def test_ucs2_chars(body: str, ucs2_chars: tuple[str, ...]) -> None:
    result = segment(body)
    assert result.ucs2_chars == ucs2_chars
    assert result.encoding is (Encoding.UCS2 if ucs2_chars else Encoding.GSM7)


# -- smart encoding ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "sent", "encoding", "count"),
    [
        ("it’s “fine” — really…", 'it\'s "fine" - really...', Encoding.GSM7, 1),
        ("it’s " + EMOJI, "it's " + EMOJI, Encoding.UCS2, 1),
        ("’" * 100, "'" * 100, Encoding.GSM7, 1),
        ("\u00a0" * 81, " " * 162, Encoding.GSM7, 2),
        ("ＡＢＣ", "ABC", Encoding.GSM7, 1),
    ],
)
def test_smart_encoding_applied_first(body: str, sent: str, encoding: Encoding, count: int) -> None:
    result = segment(body, smart_encoding=True)
    assert result.body == sent
    assert result.encoding is encoding
    assert result.count == count
    assert segment(body).body == body


# -- properties ----------------------------------------------------------------------

gsm_basic = st.text(alphabet=st.sampled_from(BASIC), max_size=700)
gsm_any = st.text(alphabet=st.sampled_from(BASIC + EXTENSION), max_size=700)
bmp_non_gsm = st.text(alphabet=st.sampled_from("aЖçé€`’–中ß "), min_size=1, max_size=400).filter(
    lambda text: not GSM7_ALL.issuperset(text)
)
anything = st.text(
    alphabet=st.one_of(
        st.sampled_from(BASIC + EXTENSION),
        st.sampled_from(["Ж", "ç", EMOJI, "\u0301", "\u200d", "\ufe0f", "\U0001f1eb", "🏽"]),
        st.characters(),
    ),
    max_size=600,
)
clusters = st.lists(
    st.sampled_from(["a", "Ж", "ç", "€", "\n", "\r", EMOJI, FAMILY, FLAG, THUMB, E_ACUTE, KEYCAP]),
    max_size=200,
)


def check_invariants(result: Segmentation, body: str) -> None:
    assert result.body == body
    assert "".join(result.segments) == body
    assert result.count == len(result.segments) >= 1
    assert all(result.segments) or result.segments == ("",)
    cap = capacity(result.encoding, result.count)
    assert all(size(part, result.encoding) <= cap for part in result.segments)
    total = size(body, result.encoding)
    if result.encoding is Encoding.GSM7:
        assert result.count == 1 or total > 160
        assert result.count >= expected_count(total, 160, 153)
    else:
        assert result.count == 1 or total > 70
        assert result.count >= expected_count(total, 70, 67)


@given(anything)
def test_segments_rebuild_the_body_within_capacity(body: str) -> None:
    check_invariants(segment(body), body)


@given(anything)
def test_ucs2_iff_a_character_is_outside_gsm7(body: str) -> None:
    result = segment(body)
    outside = [char for char in body if char not in BASIC and char not in EXTENSION]
    assert (result.encoding is Encoding.UCS2) == bool(outside)
    assert result.ucs2_chars == tuple(dict.fromkeys(outside))


@given(gsm_basic)
def test_gsm7_basic_count_matches_formula(body: str) -> None:
    result = segment(body)
    assert result.encoding is Encoding.GSM7
    assert result.count == expected_count(len(body), 160, 153)


@given(bmp_non_gsm)
def test_ucs2_bmp_count_matches_formula(body: str) -> None:
    result = segment(body)
    assert result.encoding is Encoding.UCS2
    assert result.count == expected_count(len(body), 70, 67)


@given(gsm_any)
def test_gsm7_parts_are_filled_greedily(body: str) -> None:
    result = segment(body)
    assert result.encoding is Encoding.GSM7
    if result.count > 1:
        for part, following in zip(result.segments, result.segments[1:], strict=False):
            assert septets(part) + septets(following[0]) > 153


@given(st.text(alphabet=st.sampled_from(["Ж", "ç", "a", EMOJI, "€"]), max_size=400))
def test_ucs2_parts_are_filled_greedily(body: str) -> None:
    result = segment(body)
    if result.encoding is Encoding.UCS2 and result.count > 1:
        for part, following in zip(result.segments, result.segments[1:], strict=False):
            assert units(part) + units(following[0]) > 67


@given(clusters)
def test_boundaries_fall_between_clusters(pieces: list[str]) -> None:
    body = "".join(pieces)
    result = segment(body)
    check_invariants(result, body)
    if result.encoding is Encoding.UCS2:
        cluster_ends = {0}
        position = 0
        for piece in pieces:
            position += len(piece)
            cluster_ends.add(position)
        position = 0
        for part in result.segments:
            position += len(part)
            assert position in cluster_ends


@given(st.text(alphabet=st.sampled_from(["Ж", "a", EMOJI, "🎉", "中"]), max_size=400))
def test_no_surrogate_pair_is_split(body: str) -> None:
    # On the wire each part is UTF-16 of its own; every part must decode strictly.
    wire = [part.encode("utf-16-le") for part in segment(body).segments]
    assert [chunk.decode("utf-16-le") for chunk in wire] == list(segment(body).segments)
    assert b"".join(wire) == body.encode("utf-16-le")


@given(gsm_any)
def test_no_escape_pair_is_split(body: str) -> None:
    # Each extension character's two septets land in the same part.
    parts = segment(body).segments
    assert sum(septets(part) for part in parts) == septets(body)
