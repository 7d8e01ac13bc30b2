"""The `observe:` section of a config file and the value rules its options share."""

from __future__ import annotations

import pytest

from twsim.config.observing import shown_url, smtp_address
from twsim.config.reader import config_from_dict
from twsim.config.schema import SchemaError, load_yaml

FULL = """\
observe:
  smtp: 127.0.0.1:2525
  logs: [logs/app.log, "logs/*.log"]
  log_level_regex: "ERROR|WARN"
  databases: [sqlite:///app.sqlite, "postgresql://app:pw@127.0.0.1:5432/app"]
  pids: [1234]
  ports: [5000]
  app_cmd: python app.py --port 5000
  interval_s: 0.5
"""


def test_every_observe_key_is_read() -> None:
    watch = config_from_dict(load_yaml(FULL)).observe
    assert watch.smtp == ("127.0.0.1", 2525)
    assert watch.logs == ["logs/app.log", "logs/*.log"]
    assert watch.log_level_regex == "ERROR|WARN"
    assert watch.databases[0] == "sqlite:///app.sqlite"
    assert (watch.pids, watch.ports, watch.interval_s) == ([1234], [5000], 0.5)
    assert watch.app_cmd == "python app.py --port 5000" and watch.active


def test_nothing_to_observe_by_default() -> None:
    assert not config_from_dict({}).observe.active


@pytest.mark.parametrize(
    ("yaml", "problem"),
    [
        ("observe: {smtp: nope}", "expected [HOST:]PORT"),
        ("observe: {databases: [mysql://x]}", "expected a sqlite:/// or postgresql:// URL"),
        ("observe: {log_level_regex: '('}", "not a regular expression"),
        ("observe: {pids: [0]}", "expected a process id"),
        ("observe: {interval_s: 0}", "must be at least 0.01"),
        ("observe: {smpt: 25}", "unknown key"),
    ],
)
def test_mistakes_name_the_key_and_line(yaml: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        config_from_dict(load_yaml("seed: 1\n" + yaml), source="twsim.yaml")
    assert problem in str(caught.value)
    assert str(caught.value).startswith("twsim.yaml:2: observe.")


@pytest.mark.parametrize(
    ("text", "address"),
    [("2525", ("127.0.0.1", 2525)), ("0.0.0.0:25", ("0.0.0.0", 25)), ("[::1]:0", ("::1", 0))],
)
def test_smtp_addresses(text: str, address: tuple[str, int]) -> None:
    assert smtp_address(text) == address


def test_database_passwords_are_masked() -> None:
    assert shown_url("postgresql://app:pw@db:5432/app") == "postgresql://app:***@db:5432/app"
    assert shown_url("sqlite:///app.sqlite") == "sqlite:///app.sqlite"
