"""The simulated phones of a scenario and what each of them texts."""

from __future__ import annotations

import string
from functools import cached_property
from itertools import accumulate
from typing import Any

from faker import Faker

from twsim.config.schema import SchemaError
from twsim.core import phone
from twsim.scenario.draws import Draws
from twsim.scenario.spec import Scenario

# Purposes: the first key of every draw, so different decisions never share a value.
PHONE, BODY, TYPO, TYPO_KIND, TYPO_AT = 1, 2, 3, 4, 5

_TOLL_FREE = {800, 833, 844, 855, 866, 877, 888}


def _area_codes(country: str) -> tuple[int, ...]:
    codes = []
    for code in range(201, 990):
        text = str(code)
        if (
            text[1] == "9"
            or text[1:] == "11"
            or code in _TOLL_FREE
            or 500 <= code < 600
            or code == 900
        ):
            continue
        if phone.country_of(f"+1{code}2345678") == country:
            codes.append(code)
    return tuple(codes)


class Population:
    """N phones (repeatable from the seed) and their texts: weighted bodies, templates or data rows."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.draws = Draws(f"{scenario.seed}/population")
        self.phones = self._phones()
        self._own_rows: dict[str, dict[str, Any]] = {}
        for row in scenario.data_rows:
            if row.get("From"):
                self._own_rows.setdefault(
                    phone.normalize(str(row["From"])) or str(row["From"]), row
                )
        self._cumulative = list(accumulate(b.weight for b in scenario.bodies))
        self._check_templates()

    def __len__(self) -> int:
        return len(self.phones)

    def _phones(self) -> list[str]:
        rows = self.scenario.data_rows
        from_rows = [str(r["From"]) for r in rows if r.get("From")]
        if from_rows:
            unique = list(dict.fromkeys(phone.normalize(p) or p for p in from_rows))
            return (
                unique[: self.scenario.students]
                if len(unique) >= self.scenario.students
                else unique
            )
        areas = _area_codes(self.scenario.country)
        seen: set[str] = set()
        phones: list[str] = []
        attempt = 0
        while len(phones) < self.scenario.students:
            bits = self.draws.bits(PHONE, attempt)
            attempt += 1
            area = areas[bits % len(areas)]
            exchange = 200 + (bits >> 16) % 800
            line = (bits >> 32) % 10_000
            if exchange % 100 == 11 or exchange == 555:
                continue
            number = f"+1{area}{exchange:03d}{line:04d}"
            if number not in seen:
                seen.add(number)
                phones.append(number)
        return phones

    @cached_property
    def _faker(self) -> Faker:
        return Faker(self.scenario.locale)

    def fields(self, student: int) -> dict[str, Any]:
        """What a template may use: first_name, last_name, name, phone, index, and the variables."""
        faker = self._faker
        faker.seed_instance(self.draws.bits(PHONE, -1, student))
        first, last = faker.first_name(), faker.last_name()
        return {
            **self.scenario.variables,
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "phone": self.phones[student],
            "index": student,
        }

    def _check_templates(self) -> None:
        for index, body in enumerate(self.scenario.bodies):
            if body.template:
                try:
                    body.body.format_map(self.fields(0))
                except (KeyError, IndexError, ValueError) as exc:
                    raise SchemaError(
                        f"texts.templates[{index}]",
                        f"unknown or bad field {exc}",
                        source=self.scenario.source,
                    ) from None

    def row(self, student: int) -> dict[str, Any] | None:
        rows = self.scenario.data_rows
        if not rows:
            return None
        return self._own_rows.get(self.phones[student]) or rows[student % len(rows)]

    def intended_body(self, student: int) -> tuple[str, list[str]]:
        """The body (and media URLs) a student means to send."""
        row = self.row(student)
        if row is not None:
            body = str(row.get("Body", row.get("body", "")))
            media = row.get("MediaUrl") or [
                v for k, v in sorted(row.items()) if k.startswith("MediaUrl")
            ]
            return body, [media] if isinstance(media, str) else [str(m) for m in media]
        choice = self.scenario.bodies[self.draws.weighted(self._cumulative, BODY, student)]
        if choice.template:
            return choice.body.format_map(self.fields(student)), []
        return choice.body, []

    def body_for(self, student: int, text_number: int, intended: str) -> str:
        """The text actually sent: the intended body, or (on re-texts) sometimes a typo of it."""
        if text_number == 0 or not self.draws.chance(
            self.scenario.model.typo_probability, TYPO, student, text_number
        ):
            return intended
        return typo(intended, self.draws, student, text_number)


def typo(text: str, draws: Draws, *keys: int) -> str:
    """A plausible slip of the thumb: a swapped, dropped, doubled or mis-cased character."""
    if not text:
        return text
    kind = draws.integer(0, 3, TYPO_KIND, *keys)
    at = draws.integer(0, len(text) - 1, TYPO_AT, *keys)
    if kind == 0 and len(text) > 1:
        at = min(at, len(text) - 2)
        if text[at] != text[at + 1]:  # swapping two equal characters changes nothing
            return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    if kind == 1 and len(text) > 1:
        return text[:at] + text[at + 1 :]
    if kind == 2:
        return text[: at + 1] + text[at] + text[at + 1 :]
    ch = text[at]
    swapped = ch.lower() if ch.isupper() else ch.upper() if ch in string.ascii_letters else ch + ch
    return text[:at] + swapped + text[at + 1 :]
