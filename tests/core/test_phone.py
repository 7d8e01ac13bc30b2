from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twsim.core.errors import ApiError
from twsim.core.phone import (
    CALLING_CODES,
    CANADIAN_AREA_CODES,
    E164,
    NANP_AREA_CODES,
    Geo,
    SenderKind,
    country_of,
    geo_of,
    is_e164,
    normalize,
    parse_from,
    parse_to,
    sender_kind,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+15551234567", "+15551234567"),
        ("+1 (555) 123-4567", "+15551234567"),
        ("+1.555.123.4567", "+15551234567"),
        ("  +1 555 123 4567\n", "+15551234567"),
        ("+1\t555-123-4567", "+15551234567"),
        ("(555) 123-4567", "+15551234567"),
        ("555-123-4567", "+15551234567"),
        ("5551234567", "+15551234567"),
        ("15551234567", "+15551234567"),
        ("1 (555) 123-4567", "+15551234567"),
        ("+15005550006", "+15005550006"),
        ("+44 20 7946 0321", "+442079460321"),
        ("+4915112345678", "+4915112345678"),
        ("+61 412 345 678", "+61412345678"),
        ("+6831234", "+6831234"),  # 7 digits: shortest accepted
        ("+123456789012345", None),  # +1 with more than ten national digits
        ("+999999999999999", "+999999999999999"),  # 15 digits: longest accepted
        ("whatsapp:+14155238886", "whatsapp:+14155238886"),
        ("WhatsApp: +1 (415) 523-8886", "whatsapp:+14155238886"),
        ("whatsapp:4155238886", "whatsapp:+14155238886"),
        ("rcs:+447700900123", "rcs:+447700900123"),
        ("messenger:1234567890123456", "messenger:1234567890123456"),
        ("Messenger: 42 ", "messenger:42"),
    ],
)
def test_normalize_valid(raw: str, expected: str | None) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "+0123456789",  # no calling code starts with 0
        "+1555",  # NANP needs ten national digits
        "+1555123456",
        "+155512345678",
        "+10551234567",  # NANP area codes start 2-9
        "+11551234567",
        "+123456",  # fewer than 7 digits
        "+44 (0)20",
        "+9999999999999999",  # 16 digits
        "555123456",  # 9 digits, no +
        "0551234567",  # 10 digits but area code starts 0
        "1555123456",  # 10 digits but area code starts 1
        "25551234567",  # 11 digits not starting with the trunk prefix 1
        "447700900123",  # international without +
        "00447700900123",  # 00 international prefix
        "12345",  # short code
        "ACME",  # alphanumeric
        "+1 555 123 4567 x12",
        "+1/555/123/4567",
        "++15551234567",
        "+1555123456７",  # full-width digit
        "+1555١٢٣4567",  # Arabic-Indic digits
        "+15551234567\x00",
        "tel:+15551234567",
        "sms:+15551234567",
        "whatsapp:",
        "whatsapp:ACME",
        "whatsapp:12345",
        "rcs:acme_agent",  # an RCS agent is a sender, not a number
        "messenger:",
        "messenger:abc",
        "messenger:+15551234567",
        ":+15551234567",
    ],
)
def test_normalize_invalid(raw: str) -> None:
    assert normalize(raw) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+15551234567", True),
        ("+447700900123", True),
        ("+1 555 123 4567", False),
        ("5551234567", False),
        ("+1555", False),
        ("+15551234567\n", False),
    ],
)
def test_is_e164(value: str, expected: bool) -> None:
    assert is_e164(value) is expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("+15551234567", SenderKind.PHONE_NUMBER),
        ("+1 (555) 123-4567", SenderKind.PHONE_NUMBER),
        ("5551234567", SenderKind.PHONE_NUMBER),
        ("+447700900123", SenderKind.PHONE_NUMBER),
        ("whatsapp:+14155238886", SenderKind.PHONE_NUMBER),
        ("rcs:+14155238886", SenderKind.PHONE_NUMBER),
        ("12345", SenderKind.SHORT_CODE),
        ("898211", SenderKind.SHORT_CODE),
        (" 22395 ", SenderKind.SHORT_CODE),
        ("ACME", SenderKind.ALPHANUMERIC),
        ("A", SenderKind.ALPHANUMERIC),
        ("My Shop", SenderKind.ALPHANUMERIC),
        ("Shop-24_7&+", SenderKind.ALPHANUMERIC),
        ("ABCDEFGHIJK", SenderKind.ALPHANUMERIC),  # 11 characters
        ("1a", SenderKind.ALPHANUMERIC),
        ("ABCDEFGHIJKL", None),  # 12 characters
        ("1234", None),  # too short for a short code, no letter
        ("1234567", None),  # too long for a short code, not a number
        ("+1234", None),
        ("12-34", None),  # no letter
        ("Shop!", None),
        ("Café", None),  # ASCII letters only
        ("", None),
        ("   ", None),
        ("messenger:123", None),
        ("rcs:acme_agent", None),
    ],
)
def test_sender_kind(value: str, kind: SenderKind | None) -> None:
    assert sender_kind(value) == kind


def test_sender_kind_values() -> None:
    assert [k.value for k in SenderKind] == ["phone_number", "short_code", "alphanumeric"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+15551234567", "+15551234567"),
        (" +1 (555) 123-4567 ", "+15551234567"),
        ("5551234567", "+15551234567"),
        ("whatsapp:+14155238886", "whatsapp:+14155238886"),
        ("messenger:42", "messenger:42"),
    ],
)
def test_parse_to_valid(raw: str, expected: str) -> None:
    assert parse_to(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (None, 21604, "A 'To' phone number is required."),
        ("", 21604, "A 'To' phone number is required."),
        ("  ", 21604, "A 'To' phone number is required."),
        ("12345", 21211, "The 'To' number 12345 is not a valid phone number."),
        ("ACME", 21211, "The 'To' number ACME is not a valid phone number."),
        ("+1555", 21211, "The 'To' number +1555 is not a valid phone number."),
        ("555-1234", 21211, "The 'To' number 555-1234 is not a valid phone number."),
        ("rcs:acme_agent", 21211, "The 'To' number rcs:acme_agent is not a valid phone number."),
        ("whatsapp:ACME", 21211, "The 'To' number whatsapp:ACME is not a valid phone number."),
    ],
)
def test_parse_to_errors(raw: str | None, code: int, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_to(raw)
    error = caught.value
    assert (error.code, error.status, error.message) == (code, 400, message)
    assert error.to_json()["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+15551234567", "+15551234567"),
        ("+1 (555) 123-4567", "+15551234567"),
        ("15551234567", "+15551234567"),
        ("12345", "12345"),
        (" 898211 ", "898211"),
        ("ACME", "ACME"),
        (" My Shop ", "My Shop"),
        ("whatsapp:+14155238886", "whatsapp:+14155238886"),
        ("messenger:42", "messenger:42"),
        ("rcs:acme_agent", "rcs:acme_agent"),
        ("RCS:acme-agent.1", "rcs:acme-agent.1"),
    ],
)
def test_parse_from_valid(raw: str, expected: str) -> None:
    assert parse_from(raw) == expected


_BAD_FROM = (
    "The 'From' number {} is not a valid phone number, shortcode, or alphanumeric sender ID."
)


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (None, 21603, "A 'From' phone number is required."),
        ("", 21603, "A 'From' phone number is required."),
        (" \t", 21603, "A 'From' phone number is required."),
        ("1234567", 21212, _BAD_FROM.format("1234567")),
        ("+1555", 21212, _BAD_FROM.format("+1555")),
        ("ABCDEFGHIJKL", 21212, _BAD_FROM.format("ABCDEFGHIJKL")),
        ("Shop!", 21212, _BAD_FROM.format("Shop!")),
        ("1234", 21212, _BAD_FROM.format("1234")),
        ("rcs:_bad agent", 21212, _BAD_FROM.format("rcs:_bad agent")),
        ("fax:+15551234567", 21212, _BAD_FROM.format("fax:+15551234567")),
    ],
)
def test_parse_from_errors(raw: str | None, code: int, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_from(raw)
    error = caught.value
    assert (error.code, error.status, error.message) == (code, 400, message)


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+15551234567", "US"),
        ("+12125550198", "US"),
        ("+18005551212", "US"),  # toll-free
        ("+14165550123", "CA"),  # Toronto
        ("+16045550123", "CA"),  # Vancouver
        ("+15145550123", "CA"),  # Montreal
        ("+18675550123", "CA"),  # the territories
        ("+19425550123", "CA"),  # newest Toronto overlay
        ("+18765550123", "JM"),
        ("+17875550123", "PR"),
        ("+14415550123", "BM"),
        ("+18095550123", "DO"),
        ("+442079460321", "GB"),
        ("+61412345678", "AU"),
        ("+4915112345678", "DE"),
        ("+33612345678", "FR"),
        ("+34612345678", "ES"),
        ("+393123456789", "IT"),
        ("+31612345678", "NL"),
        ("+46701234567", "SE"),
        ("+4791234567", "NO"),
        ("+4520123456", "DK"),
        ("+353851234567", "IE"),
        ("+5215512345678", "MX"),
        ("+5511912345678", "BR"),
        ("+919812345678", "IN"),
        ("+819012345678", "JP"),
        ("+8613812345678", "CN"),
        ("+821012345678", "KR"),
        ("+6591234567", "SG"),
        ("+64211234567", "NZ"),
        ("+27821234567", "ZA"),
        ("+2348031234567", "NG"),
        ("+254712345678", "KE"),
        ("+971501234567", "AE"),
        ("+972501234567", "IL"),
        ("+79161234567", "RU"),
        ("+77011234567", "KZ"),
        ("+3512123456789", "PT"),  # 351 wins over 35
        ("+8521234567", "HK"),
        ("+2421234567", None),  # +242 (Congo) is not in the table
        ("+8001234567", None),  # +800 international freephone
        ("whatsapp:+442079460321", "GB"),
        ("+1 (416) 555-0123", "CA"),
        ("12345", None),  # short code
        ("ACME", None),
        ("messenger:42", None),
        ("not a number", None),
    ],
)
def test_country_of(number: str, country: str | None) -> None:
    assert country_of(number) == country


def test_canadian_area_codes() -> None:
    # one per province and territory, plus the newest overlays
    assert {"403", "604", "204", "506", "709", "902", "416", "514", "306", "867"} <= (
        CANADIAN_AREA_CODES
    )
    assert {"257", "263", "354", "368", "382", "428", "468", "474", "584", "753", "942"} <= (
        CANADIAN_AREA_CODES
    )
    assert not {"212", "415", "305", "876", "787", "800"} & CANADIAN_AREA_CODES
    for code in CANADIAN_AREA_CODES:
        assert len(code) == 3 and code.isdigit() and code[0] in "23456789"
        assert country_of(f"+1{code}5550123") == "CA"


def test_tables_are_well_formed() -> None:
    for code, country in CALLING_CODES.items():
        assert code.isdigit() and code[0] != "0" and len(code) <= 3
        assert len(country) == 2 and country.isupper()
    for area, country in NANP_AREA_CODES.items():
        assert len(area) == 3 and area[0] in "23456789"
        assert len(country) == 2 and country.isupper() and country != "US"


@pytest.mark.parametrize(
    ("number", "geo"),
    [
        ("+16505551111", Geo(country="US")),
        ("+14165550123", Geo(country="CA")),
        ("+442079460321", Geo(country="GB")),
        ("12345", Geo()),
        ("ACME", Geo()),
    ],
)
def test_geo_of(number: str, geo: Geo) -> None:
    assert geo_of(number) == geo


def test_geo_defaults_are_empty_strings() -> None:
    assert Geo() == Geo(city="", state="", zip="", country="")


# --- properties --------------------------------------------------------------------------

_noise = st.text(st.sampled_from(" -.()\t"), max_size=2)


@st.composite
def formatted_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(canonical number, the same number written with formatting noise)."""
    if draw(st.booleans()):
        digits = "1" + draw(st.from_regex(r"[2-9][0-9]{9}", fullmatch=True))
    else:
        digits = draw(st.from_regex(r"[2-9][0-9]{6,14}", fullmatch=True))
    written = "+" + "".join(digit + draw(_noise) for digit in digits)
    return "+" + digits, draw(_noise) + written


@given(formatted_numbers())
def test_property_formatting_is_removed(case: tuple[str, str]) -> None:
    canonical, written = case
    assert normalize(written) == canonical


_raw = st.one_of(
    st.text(),
    st.text(st.sampled_from("+0123456789 -.()"), max_size=20),
    formatted_numbers().map(lambda case: case[1]),
    st.tuples(
        st.sampled_from(["whatsapp:", "rcs:", "messenger:", "WhatsApp:", "x:"]), st.text()
    ).map("".join),
)


@given(_raw)
def test_property_normalize_is_idempotent_and_e164(raw: str) -> None:
    normalized = normalize(raw)
    if normalized is None:
        return
    assert normalize(normalized) == normalized
    channel, _, address = normalized.rpartition(":")
    if channel == "messenger":
        assert address.isascii() and address.isdigit()
    else:
        assert channel in ("", "whatsapp", "rcs")
        assert E164.match(address) is not None
        assert is_e164(address)
        assert sender_kind(normalized) is SenderKind.PHONE_NUMBER
        assert parse_to(raw) == normalized
        assert parse_from(raw) == normalized
