"""Twilio SIDs: a two-letter prefix and 32 lowercase hex digits, drawn from an injected RNG."""

from __future__ import annotations

import random
import re
import uuid
from enum import StrEnum


class Prefix(StrEnum):
    ACCOUNT = "AC"
    SMS = "SM"
    MMS = "MM"
    MEDIA = "ME"
    PHONE_NUMBER = "PN"
    API_KEY = "SK"
    MESSAGING_SERVICE = "MG"
    APPLICATION = "AP"
    CONTENT = "HX"
    REQUEST = "RQ"
    WEBHOOK_ATTEMPT = "WA"
    NOTIFICATION = "NO"
    USAGE_RECORD = "UR"
    FEEDBACK = "MF"
    PAGE_TOKEN = "PA"


_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


class SidFactory:
    """Makes SIDs from one `random.Random`, so one seed gives one sequence."""

    __slots__ = ("_rng",)

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new(self, prefix: str) -> str:
        if len(prefix) != 2 or not prefix.isupper():
            raise ValueError(f"SID prefix must be two capital letters, got {prefix!r}")
        return f"{prefix}{self._rng.getrandbits(128):032x}"

    def secret(self) -> str:
        """32 hex digits, the shape of an auth token, from the same RNG."""
        return f"{self._rng.getrandbits(128):032x}"

    def token(self) -> str:
        """A UUID4-shaped token (Twilio's I-Twilio-Idempotency-Token), from the same RNG."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def is_sid(value: str, prefix: str | None = None) -> bool:
    """True when `value` is a well-formed SID (of `prefix`, when given).

    Twilio accepts upper-case hex in paths (its patterns say [0-9a-fA-F]), so this does too.
    """
    if len(value) != 34:
        return False
    normalized = value[:2] + value[2:].lower()
    if _SID.match(normalized) is None:
        return False
    return prefix is None or value.startswith(prefix)
