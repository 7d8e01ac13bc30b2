"""Scenario files: strict reading with errors that name the key path and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twsim.config.schema import SchemaError
from twsim.scenario.population import Population
from twsim.scenario.spec import (
    ArrivalKind,
    Span,
    WeightedBody,
    find_scenario,
    load_scenario,
    scenario_from_dict,
)

GOOD_TEXTS = "texts:\n  bodies: [CS101]\n"

# (case, YAML, key path named, line named)
BAD = [
    ("unknown top key", GOOD_TEXTS + "studnets:\n  max_retries: 2\n", "studnets", 3),
    (
        "unknown nested key",
        GOOD_TEXTS + "students:\n  max_retries: 2\n  max_retry: 3\n",
        "students.max_retry",
        5,
    ),
    (
        "unknown key in a body",
        "texts:\n  bodies:\n    - body: CS101\n      wieght: 2\n",
        "texts.bodies[0].wieght",
        4,
    ),
    (
        "unknown key under impatient",
        GOOD_TEXTS + "students:\n  impatient:\n    probabilty: 0.5\n",
        "students.impatient.probabilty",
        5,
    ),
    ("string for an integer", "population:\n  size: ten\n" + GOOD_TEXTS, "population.size", 2),
    ("float for an integer", "population:\n  size: 2.5\n" + GOOD_TEXTS, "population.size", 2),
    ("boolean for a number", GOOD_TEXTS + "arrival:\n  rate: yes\n", "arrival.rate", 4),
    ("string for a list", "texts:\n  bodies: CS101\n", "texts.bodies", 2),
    ("list for a mapping", "population: [1, 2]\n" + GOOD_TEXTS, "population", 1),
    ("list for variables", GOOD_TEXTS + "  variables: [code]\n", "texts.variables", 3),
    ("number for a body", "texts:\n  bodies:\n    - 5\n", "texts.bodies[0]", 2),
    ("size below one", "population:\n  size: 0\n" + GOOD_TEXTS, "population.size", 2),
    (
        "probability above one",
        GOOD_TEXTS + "students:\n  retry_probability: 1.5\n",
        "students.retry_probability",
        4,
    ),
    ("zero rate", GOOD_TEXTS + "arrival:\n  kind: poisson\n  rate: 0\n", "arrival.rate", 5),
    ("unknown arrival", GOOD_TEXTS + "arrival:\n  kind: burst\n", "arrival.kind", 4),
    ("unknown country", "population:\n  country: GB\n" + GOOD_TEXTS, "population.country", 2),
    ("bad number", "gateway:\n  to: '+1555'\n" + GOOD_TEXTS, "gateway.to", 2),
    (
        "bad number in a list",
        "gateway:\n  to: ['+15005550006', 42]\n" + GOOD_TEXTS,
        "gateway.to",
        2,
    ),
    (
        "bad regex",
        GOOD_TEXTS + "students:\n  retry_when: 'invalid|(try again'\n",
        "students.retry_when",
        4,
    ),
    ("span low above high", GOOD_TEXTS + "students:\n  delay_s: [3, 1]\n", "students.delay_s", 4),
    ("negative span", GOOD_TEXTS + "students:\n  delay_s: -1\n", "students.delay_s", 4),
    ("span of three", GOOD_TEXTS + "students:\n  delay_s: [1, 2, 3]\n", "students.delay_s", 4),
    (
        "span with an unknown bound",
        GOOD_TEXTS + "students:\n  delay_s: {min: 1, most: 2}\n",
        "students.delay_s",
        4,
    ),
    (
        "bad duplicate delay",
        GOOD_TEXTS + "students:\n  impatient:\n    delay_s: soon\n",
        "students.impatient.delay_s",
        5,
    ),
    (
        "bad duplicate count",
        GOOD_TEXTS + "students:\n  impatient:\n    extra_texts: [3, 1]\n",
        "students.impatient.extra_texts",
        5,
    ),
    ("missing texts", "name: lecture\nseed: 3\n", "texts", 1),
    ("texts without bodies", "seed: 3\ntexts:\n  variables: {code: A}\n", "texts.bodies", 3),
    (
        "zero weights",
        "texts:\n  bodies:\n    - {body: CS101, weight: 0}\n    - {body: CS1O1, weight: 0}\n",
        "texts.bodies",
        2,
    ),
    (
        "zero template weights",
        "seed: 1\ntexts:\n  templates:\n    - {template: 'hi {name}', weight: 0}\n",
        "texts.templates",
        3,
    ),
    (
        "negative weight",
        "texts:\n  bodies:\n    - {body: A, weight: -1}\n",
        "texts.bodies[0].weight",
        3,
    ),
    ("missing data file", "texts:\n  data: nowhere.jsonl\n", "texts.data", 2),
    ("data file not JSON", "texts:\n  data: broken.jsonl\n", "texts.data", 2),
    ("data row not an object", "texts:\n  data: list.jsonl\n", "texts.data", 2),
    ("empty data file", "seed: 2\ntexts:\n  data: empty.jsonl\n", "texts.data", 3),
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "broken.jsonl").write_text('{"body": "CS101"}\n{"body": \n')
    (tmp_path / "list.jsonl").write_text('["CS101"]\n')
    (tmp_path / "empty.jsonl").write_text("\n\n")
    return tmp_path


@pytest.mark.parametrize(("text", "where", "line"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_scenarios_name_the_key_and_line(
    data_dir: Path, text: str, where: str, line: int
) -> None:
    path = data_dir / "lecture.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError) as caught:
        load_scenario(str(path))
    error = caught.value
    assert (error.where, error.line) == (where, line)
    assert str(error).startswith(f"{path}:{line}: {where}: ")


def test_data_file_errors_say_which_row(data_dir: Path) -> None:
    path = data_dir / "lecture.yaml"
    path.write_text("texts:\n  data: broken.jsonl\n")
    with pytest.raises(SchemaError, match=r"broken\.jsonl:2: not JSON"):
        load_scenario(str(path))
    path.write_text("texts:\n  data: list.jsonl\n")
    with pytest.raises(SchemaError, match=r"list\.jsonl:1: each row must be a JSON object"):
        load_scenario(str(path))


def test_shipped_classroom_loads_by_name() -> None:
    scenario = load_scenario("classroom")

    assert scenario.name == "classroom"
    assert Path(str(scenario.source)) == find_scenario("classroom")
    assert Path(str(scenario.source)).name == "classroom.yaml"
    assert (scenario.seed, scenario.students, scenario.country) == (7, 60, "US")
    assert scenario.bodies == [WeightedBody("CS1O1", 85.0), WeightedBody("CS101", 15.0)]
    assert scenario.arrival.kind is ArrivalKind.FLASH and scenario.arrival.within_s == 4.0
    model = scenario.model
    assert model.retry_when is not None
    assert model.retry_when.search("INVALID code, try again") is not None
    assert model.retry_when.search("Checked in") is None
    assert (model.no_reply_after_s, model.retry_probability, model.max_retries) == (3.0, 0.8, 3)
    assert model.delay == Span(0.5, 1.5)
    assert model.typo_probability == 0.15
    assert model.impatience.probability == 0.1
    assert model.impatience.extra_texts == (1, 2)
    assert model.impatience.delay == Span(0.2, 0.8)
    assert scenario.identity() == {
        "name": "classroom",
        "seed": 7,
        "students": 60,
        "source": scenario.source,
    }


def test_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(SchemaError, match=r"no scenario named 'lecture' .*classroom"):
        load_scenario("lecture")
    with pytest.raises(SchemaError, match="no scenario file"):
        load_scenario("missing/lecture.yaml")


def test_spans_and_numbers_accept_their_short_forms() -> None:
    scenario = scenario_from_dict(
        {
            "gateway": {"to": "+1 (500) 555-0006"},
            "texts": {"bodies": ["a", {"body": "b", "weight": 3}]},
            "students": {
                "delay_s": {"min": 1, "max": 2},
                "impatient": {"delay_s": 0.5, "extra_texts": 2},
            },
        }
    )
    assert scenario.to == ["+15005550006"]
    assert scenario.bodies == [WeightedBody("a", 1.0), WeightedBody("b", 3.0)]
    assert scenario.model.delay == Span(1.0, 2.0)
    assert scenario.model.impatience.delay == Span(0.5, 0.5)
    assert scenario.model.impatience.extra_texts == (2, 2)


TEMPLATED = {
    "seed": 21,
    "population": {"size": 6},
    "texts": {
        "templates": ["{first_name} {last_name} here ({phone}), code {code}"],
        "variables": {"code": "CS101"},
    },
}


def test_templates_render_with_faker_fields_deterministically() -> None:
    one = Population(scenario_from_dict(TEMPLATED))
    two = Population(scenario_from_dict(TEMPLATED))

    rendered = [one.intended_body(i)[0] for i in range(6)]
    assert rendered == [two.intended_body(i)[0] for i in range(6)]
    for i, body in enumerate(rendered):
        fields = one.fields(i)
        assert body == (
            f"{fields['first_name']} {fields['last_name']} here ({one.phones[i]}), code CS101"
        )
        assert fields["name"] == f"{fields['first_name']} {fields['last_name']}"
        assert fields["index"] == i
    assert len(set(rendered)) == 6  # a name and a phone per student
    # asking in another order, or asking twice, changes nothing
    assert [one.intended_body(i)[0] for i in reversed(range(6))] == rendered[::-1]

    other = Population(scenario_from_dict({**TEMPLATED, "seed": 22}))
    assert [other.intended_body(i)[0] for i in range(6)] != rendered


def test_template_with_an_unknown_field_is_a_schema_error() -> None:
    scenario = scenario_from_dict({"texts": {"templates": ["hi {nickname}"]}})
    with pytest.raises(SchemaError) as caught:
        Population(scenario)
    assert caught.value.where == "texts.templates[0]"
    assert "nickname" in str(caught.value)


def test_data_rows_give_bodies_and_phones(tmp_path: Path) -> None:
    rows = [
        {"From": "+12025550123", "Body": "CS101"},
        {"From": "(202) 555-0124", "Body": "CS1O1", "MediaUrl": "https://example.com/a.jpg"},
    ]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    path = tmp_path / "lecture.yaml"
    path.write_text("population:\n  size: 5\ntexts:\n  data: rows.jsonl\n")

    scenario = load_scenario(str(path))
    population = Population(scenario)

    assert scenario.data_rows == rows
    assert population.phones == ["+12025550123", "+12025550124"]
    assert population.intended_body(0) == ("CS101", [])
    assert population.intended_body(1) == ("CS1O1", ["https://example.com/a.jpg"])
