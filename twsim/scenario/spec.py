"""Scenario files: who texts, what, when, and how students react to the answers.

A scenario is YAML (shipped ones live in `twsim/data/scenarios/` and load by name). Every
error names the offending key and its line. See `twsim/data/scenarios/classroom.yaml` for a
commented example of every section.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from twsim.config.schema import SchemaError, Section, load_yaml_file
from twsim.config.shipped import shipped, shipped_file
from twsim.core import phone


class ArrivalKind(StrEnum):
    FLASH = "flash"
    POISSON = "poisson"
    RAMP = "ramp"
    CONSTANT = "constant"


@dataclass(frozen=True, slots=True)
class Span:
    """A delay drawn uniformly between `low` and `high` seconds."""

    low: float
    high: float


@dataclass(frozen=True, slots=True)
class WeightedBody:
    body: str
    weight: float
    template: bool = False


@dataclass(frozen=True, slots=True)
class Arrival:
    kind: ArrivalKind = ArrivalKind.FLASH
    within_s: float = 10.0  # flash: everyone's first text within this window
    rate: float = 1.0  # poisson / constant: students per second
    start_rate: float = 0.0  # ramp: from this rate ...
    end_rate: float = 10.0  # ... to this one
    duration_s: float = 10.0  # ramp length


@dataclass(frozen=True, slots=True)
class Impatience:
    """Students who send duplicates without waiting for any answer."""

    probability: float = 0.0
    extra_texts: tuple[int, int] = (1, 1)
    delay: Span = Span(0.2, 1.0)


@dataclass(frozen=True, slots=True)
class StudentModel:
    retry_when: re.Pattern[str] | None = None
    no_reply_after_s: float = 5.0
    retry_probability: float = 0.0
    max_retries: int = 0
    delay: Span = Span(1.0, 5.0)
    typo_probability: float = 0.0
    impatience: Impatience = Impatience()


@dataclass(slots=True)
class Scenario:
    name: str
    description: str = ""
    seed: int = 0
    students: int = 10
    locale: str = "en_US"
    country: str = "US"
    to: list[str] = field(default_factory=list)
    sms_url: str | None = None
    bodies: list[WeightedBody] = field(default_factory=list)
    data_rows: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    arrival: Arrival = Arrival()
    model: StudentModel = StudentModel()
    source: str | None = None

    def identity(self) -> dict[str, Any]:
        """What a recording's header says about the scenario."""
        return {
            "name": self.name,
            "seed": self.seed,
            "students": self.students,
            "source": self.source,
        }


def find_scenario(name_or_path: str) -> Path | Traversable:
    """A scenario file by path, or a shipped scenario by name (`classroom`)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise SchemaError("", f"no scenario file {path}")
        return path
    found = shipped_file("scenarios", name_or_path)
    if found is None:
        names = ", ".join(shipped("scenarios"))
        raise SchemaError("", f"no scenario named {name_or_path!r} (shipped: {names})")
    return found


def load_scenario(name_or_path: str) -> Scenario:
    path = find_scenario(name_or_path)
    return scenario_from_dict(load_yaml_file(path), source=str(path))


def scenario_from_dict(data: Any, *, source: str | None = None) -> Scenario:
    top = Section(data, "", source)
    population = top.section("population")
    scenario = Scenario(
        name=top.text("name", Path(source).stem if source else "scenario"),
        description=top.text("description", ""),
        seed=top.integer("seed", 0),
        students=population.integer("size", 10, minimum=1, maximum=10_000_000),
        locale=population.text("locale", "en_US"),
        country=population.convert("country", _country, "US"),
        source=source,
    )
    population.done()
    gateway = top.section("gateway")
    scenario.to = gateway.convert("to", _numbers, [])
    scenario.sms_url = gateway.text("sms_url", None)
    gateway.done()
    texts = top.section("texts", required=True)
    scenario.bodies = _bodies(texts)
    variables = texts.section("variables")
    scenario.variables = {str(k): str(v) for k, v in variables.data.items()}
    if texts.has("data"):
        base = Path(source).parent if source else Path.cwd()
        scenario.data_rows = texts.convert("data", lambda v: read_rows(base / str(v)))
    texts.done()
    if not scenario.bodies and not scenario.data_rows:
        raise texts.error("bodies", "give texts.bodies, texts.templates or texts.data")
    scenario.arrival = _arrival(top.section("arrival"))
    scenario.model = _model(top.section("students"))
    top.done()
    return scenario


def _bodies(texts: Section) -> list[WeightedBody]:
    out: list[WeightedBody] = []
    for key, template in (("bodies", False), ("templates", True)):
        for index, item in enumerate(texts.sequence(key, [])):
            if isinstance(item, str):
                out.append(WeightedBody(item, 1.0, template))
                continue
            where = f"{texts.path}.{key}[{index}]"
            if not isinstance(item, Mapping):
                raise SchemaError(
                    where,
                    f"expected a string or a mapping, got {type(item).__name__} {item!r}",
                    line=texts.line_of(key),
                    source=texts.source,
                )
            entry = Section(item, where, texts.source)
            body = entry.text("template" if template else "body")
            out.append(WeightedBody(body, entry.number("weight", 1.0, minimum=0), template))
            entry.done()
    if out and sum(b.weight for b in out) <= 0:
        key = "bodies" if texts.has("bodies") else "templates"
        raise texts.error(key, "the weights add up to zero")
    return out


def _arrival(s: Section) -> Arrival:
    arrival = Arrival(
        kind=s.enum("kind", ArrivalKind, ArrivalKind.FLASH),
        within_s=s.number("within_s", 10.0, minimum=0),
        rate=s.number("rate", 1.0, minimum=0.001),
        start_rate=s.number("start_rate", 0.0, minimum=0),
        end_rate=s.number("end_rate", 10.0, minimum=0.001),
        duration_s=s.number("duration_s", 10.0, minimum=0.001),
    )
    s.done()
    return arrival


def _model(s: Section) -> StudentModel:
    impatient = s.section("impatient")
    impatience = Impatience(
        probability=impatient.number("probability", 0.0, minimum=0, maximum=1),
        extra_texts=impatient.convert("extra_texts", _int_span, (1, 1)),
        delay=impatient.convert("delay_s", _span, Span(0.2, 1.0)),
    )
    impatient.done()
    model = StudentModel(
        retry_when=s.convert("retry_when", _pattern, None),
        no_reply_after_s=s.number("no_reply_after_s", 5.0, minimum=0),
        retry_probability=s.number("retry_probability", 0.0, minimum=0, maximum=1),
        max_retries=s.integer("max_retries", 0, minimum=0, maximum=100),
        delay=s.convert("delay_s", _span, Span(1.0, 5.0)),
        typo_probability=s.number("typo_probability", 0.0, minimum=0, maximum=1),
        impatience=impatience,
    )
    s.done()
    return model


def _pattern(value: Any) -> re.Pattern[str]:
    try:
        return re.compile(str(value), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None


def _span(value: Any) -> Span:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return Span(float(value), float(value))
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        low, high = float(value[0]), float(value[1])
        if 0 <= low <= high:
            return Span(low, high)
    if isinstance(value, dict) and set(value) <= {"min", "max"}:
        return _span([value.get("min", 0), value.get("max", value.get("min", 0))])
    raise ValueError(f"expected seconds, [low, high] or {{min, max}}, got {value!r}")


def _int_span(value: Any) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return (value, value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
        and 0 <= value[0] <= value[1]
    ):
        return (value[0], value[1])
    raise ValueError(f"expected a count or [low, high] counts, got {value!r}")


def _number(value: Any) -> str:
    number = phone.normalize(str(value))
    if number is None:
        raise ValueError(f"not an E.164 phone number: {value!r}")
    return number


def _numbers(value: Any) -> list[str]:
    """One number or a list of them."""
    return [_number(n) for n in (value if isinstance(value, list) else [value])]


def _country(value: Any) -> str:
    text = str(value).upper()
    if text not in ("US", "CA"):
        raise ValueError(f"simulated phones can be US or CA numbers, not {value!r}")
    return text


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL data file: webhook params (Body, From, MediaUrl...) or {"body": ...}."""
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: each row must be a JSON object")
        rows.append(row)
    if not rows:
        raise ValueError(f"{path} has no rows")
    return rows
