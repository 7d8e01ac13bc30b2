"""Phone numbers, sender IDs and the country a number belongs to.

Rules (chosen to be predictable; Twilio itself is fuzzier at the edges):

- Canonical form is E.164: ``+`` then 7 to 15 digits, the first not ``0``. Spaces, tabs,
  dashes, dots and parentheses are removed first, so ``+1 (555) 123-4567`` becomes
  ``+15551234567``. Only ASCII digits count.
- Numbers under the NANP calling code ``+1`` must have exactly ten national digits with
  an area code that starts 2-9 (``+1555`` and ``+10123456789`` are rejected).
- Without a ``+``, only US-style NANP numbers are accepted: ten digits with an area code
  starting 2-9 (``5551234567``), or eleven starting with the trunk prefix ``1``
  (``15551234567``); both become ``+1...``, as Twilio does for US accounts. Other digit
  strings (international numbers without ``+``, ``00`` prefixes) are rejected rather than
  guessed at.
- Channel addresses keep their prefix (lower-cased): ``whatsapp:`` and ``rcs:`` wrap a
  phone number, normalised as above; ``messenger:`` wraps a numeric page-scoped ID, kept
  as is. As a ``From``, ``rcs:`` may also name an RCS agent (``rcs:acme_agent``).
- Short codes are 5 or 6 digits (the US and Canadian rule; other countries use 3-8, which
  twsim does not model).
- Alphanumeric sender IDs are 1-11 characters of ASCII letters, digits, spaces and
  ``+ - _ &``, with at least one letter.

Checks that depend on state (To equal to From, Twilio's magic test numbers, numbers the
account owns) belong to the model, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from twsim.core.errors import twilio_error

E164 = re.compile(r"^\+[1-9][0-9]{6,14}\Z")
"""E.164 syntax: ``+``, a non-zero digit, 6 to 14 more ASCII digits."""

SHORT_CODE = re.compile(r"^[0-9]{5,6}\Z")
ALPHANUMERIC = re.compile(r"^(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9 +\-_&]{1,11}\Z")

_NANP_NATIONAL = re.compile(r"^[2-9][0-9]{9}\Z")
_DIGITS = re.compile(r"^[0-9]+\Z")
_MESSENGER_ID = re.compile(r"^[0-9]{1,32}\Z")
_RCS_AGENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}\Z")
_FORMATTING = str.maketrans("", "", " \t-.()")

PHONE_CHANNELS = frozenset({"whatsapp", "rcs"})
"""Channels whose address is a phone number."""
CHANNELS = PHONE_CHANNELS | {"messenger"}


class SenderKind(StrEnum):
    PHONE_NUMBER = "phone_number"
    SHORT_CODE = "short_code"
    ALPHANUMERIC = "alphanumeric"


@dataclass(frozen=True, slots=True)
class Geo:
    """Webhook geo fields (``FromCity``...); empty strings when unknown, as Twilio sends."""

    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""


def is_e164(value: str) -> bool:
    """True when `value` is already a canonical number (see the module rules)."""
    if E164.match(value) is None:
        return False
    return not value.startswith("+1") or _NANP_NATIONAL.match(value[2:]) is not None


def _normalize_number(raw: str) -> str | None:
    value = raw.strip().translate(_FORMATTING)
    if value.startswith("+"):
        return value if is_e164(value) else None
    if _DIGITS.match(value) is None:
        return None
    if len(value) == 11 and value[0] == "1":
        value = value[1:]
    if _NANP_NATIONAL.match(value) is not None:
        return "+1" + value
    return None


def _split_channel(value: str) -> tuple[str, str] | None:
    """``(channel, address)`` for a known channel prefix, else None."""
    channel, colon, address = value.partition(":")
    if not colon:
        return None
    channel = channel.strip().lower()
    return (channel, address) if channel in CHANNELS else None


@lru_cache(maxsize=65536)
def normalize(raw: str) -> str | None:
    """The canonical E.164 number (or channel address) for `raw`, or None if invalid.

    Memoised: the same few thousand numbers come back with every message of a burst.
    """
    split = _split_channel(raw)
    if split is None:
        return _normalize_number(raw)
    channel, address = split
    if channel in PHONE_CHANNELS:
        number = _normalize_number(address)
        return None if number is None else f"{channel}:{number}"
    address = address.strip()
    return f"{channel}:{address}" if _MESSENGER_ID.match(address) else None


def sender_kind(value: str) -> SenderKind | None:
    """What kind of sender `value` is, or None if it is none of them.

    Channel addresses wrapping a phone number (``whatsapp:+1...``) count as phone numbers;
    Messenger IDs and RCS agents are not SMS senders and give None.
    """
    value = value.strip()
    if SHORT_CODE.match(value):
        return SenderKind.SHORT_CODE
    if ALPHANUMERIC.match(value):
        return SenderKind.ALPHANUMERIC
    normalized = normalize(value)
    if normalized is None or normalized.startswith("messenger:"):
        return None
    return SenderKind.PHONE_NUMBER


def parse_to(raw: str | None) -> str:
    """A message's ``To`` in canonical form; raises 21604 when missing, 21211 when invalid.

    Short codes and alphanumeric IDs cannot receive messages, so they are invalid here.
    """
    if raw is None or not raw.strip():
        raise twilio_error(21604)
    normalized = normalize(raw)
    if normalized is None:
        raise twilio_error(21211, number=raw)
    return normalized


def parse_from(raw: str | None) -> str:
    """A message's ``From`` in canonical form; raises 21603 when missing, 21212 when invalid.

    Accepts phone numbers and channel addresses (normalised), short codes, alphanumeric
    sender IDs and ``rcs:`` agents (returned with surrounding whitespace removed).
    """
    if raw is None or not raw.strip():
        raise twilio_error(21603)
    value = raw.strip()
    if SHORT_CODE.match(value) or ALPHANUMERIC.match(value):
        return value
    normalized = normalize(value)
    if normalized is not None:
        return normalized
    split = _split_channel(value)
    if split is not None and split[0] == "rcs":
        agent = split[1].strip()
        if _RCS_AGENT.match(agent):
            return f"rcs:{agent}"
    raise twilio_error(21212, number=raw)


# Canadian area codes (NANP), geographic ones by province plus the non-geographic 600/622.
CANADIAN_AREA_CODES = frozenset(
    {
        # Alberta
        "368", "403", "587", "780", "825",
        # British Columbia
        "236", "250", "257", "604", "672", "778",
        # Manitoba
        "204", "431", "584",
        # New Brunswick
        "428", "506",
        # Newfoundland and Labrador
        "709", "879",
        # Nova Scotia and Prince Edward Island
        "782", "902",
        # Ontario
        "226", "249", "289", "343", "365", "382", "387", "416", "437", "519", "548",
        "613", "647", "683", "705", "742", "753", "807", "905", "942",
        # Quebec
        "263", "354", "367", "418", "438", "450", "468", "514", "579", "581", "819", "873",
        # Saskatchewan
        "306", "474", "639",
        # Yukon, Northwest Territories, Nunavut
        "867",
        # Non-geographic
        "600", "622",
    }
)  # fmt: skip

# Other NANP members and US territories with their own ISO code; every remaining +1 area
# code (including toll-free 8xx) is reported as US.
NANP_AREA_CODES: dict[str, str] = {
    "242": "BS", "246": "BB", "264": "AI", "268": "AG", "284": "VG", "340": "VI",
    "345": "KY", "441": "BM", "473": "GD", "649": "TC", "658": "JM", "876": "JM",
    "664": "MS", "670": "MP", "671": "GU", "684": "AS", "721": "SX", "758": "LC",
    "767": "DM", "784": "VC", "787": "PR", "939": "PR", "809": "DO", "829": "DO",
    "849": "DO", "868": "TT", "869": "KN",
    **{code: "CA" for code in CANADIAN_AREA_CODES},
}  # fmt: skip

# Calling code -> ISO 3166-1 alpha-2; matched longest prefix first. Shared codes map to
# their main member (+44 includes GG/JE/IM, +39 the Vatican, +47 Svalbard).
CALLING_CODES: dict[str, str] = {
    "1": "US", "7": "RU", "76": "KZ", "77": "KZ",
    "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES",
    "36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK",
    "46": "SE", "47": "NO", "48": "PL", "49": "DE", "51": "PE", "52": "MX", "53": "CU",
    "54": "AR", "55": "BR", "56": "CL", "57": "CO", "58": "VE", "60": "MY", "61": "AU",
    "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR",
    "84": "VN", "86": "CN", "90": "TR", "91": "IN", "92": "PK", "94": "LK", "95": "MM",
    "98": "IR",
    "212": "MA", "213": "DZ", "216": "TN", "221": "SN", "225": "CI", "233": "GH",
    "234": "NG", "237": "CM", "244": "AO", "250": "RW", "251": "ET", "254": "KE",
    "255": "TZ", "256": "UG", "260": "ZM", "263": "ZW",
    "351": "PT", "352": "LU", "353": "IE", "354": "IS", "356": "MT", "357": "CY",
    "358": "FI", "370": "LT", "371": "LV", "372": "EE", "380": "UA", "381": "RS",
    "385": "HR", "386": "SI", "420": "CZ", "421": "SK",
    "502": "GT", "503": "SV", "504": "HN", "505": "NI", "506": "CR", "507": "PA",
    "591": "BO", "593": "EC", "595": "PY", "598": "UY",
    "852": "HK", "853": "MO", "855": "KH", "880": "BD", "886": "TW",
    "961": "LB", "962": "JO", "964": "IQ", "965": "KW", "966": "SA", "968": "OM",
    "971": "AE", "972": "IL", "973": "BH", "974": "QA", "977": "NP",
}  # fmt: skip

_LONGEST_CODE = max(map(len, CALLING_CODES))


def country_of(number: str) -> str | None:
    """ISO 3166-1 alpha-2 country of a phone number (or phone channel address), or None.

    Short codes, alphanumeric IDs and calling codes missing from the table give None.
    """
    normalized = normalize(number)
    if normalized is None:
        return None
    plus = normalized.find("+")
    if plus < 0:
        return None
    digits = normalized[plus + 1 :]
    if digits[0] == "1":
        return NANP_AREA_CODES.get(digits[1:4], "US")
    for length in range(min(_LONGEST_CODE, len(digits)), 0, -1):
        country = CALLING_CODES.get(digits[:length])
        if country is not None:
            return country
    return None


def geo_of(number: str) -> Geo:
    """Webhook geo fields for a number: the country when known, everything else empty."""
    return Geo(country=country_of(number) or "")
