from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER
from twsim.config.reader import config_from_dict, load_config
from twsim.config.schema import SchemaError, load_yaml
from twsim.config.shipped import load_prices
from twsim.core.lifecycle import INSTANT, REALISTIC, MessageStatus
from twsim.core.pricing import Channel, Direction, NumberType, PriceKey

ISSUE_EXAMPLE = """\
seed: 7
prices: us
accounts:
  - sid: AC0123456789abcdef0123456789abcdef
    auth_token: 0123456789abcdef0123456789abcdef
    api_keys: [{sid: SK0123456789abcdef0123456789abcdef, secret: s3cr3t}]
numbers:
  - phone_number: "+15005550006"
    account: AC0123456789abcdef0123456789abcdef
    type: local
    sms_url: http://127.0.0.1:5000/sms
    sms_method: POST
    sms_fallback_url: null
    sms_fallback_method: POST
    status_callback: null
webhook: {public_base_url: null, connect_timeout_s: 10, total_timeout_s: 15}
"""


def test_defaults_give_one_account_and_one_number() -> None:
    config = load_config(None)
    assert [a.sid for a in config.accounts] == [DEFAULT_ACCOUNT_SID]
    assert config.accounts[0].auth_token == DEFAULT_AUTH_TOKEN
    assert [n.phone_number for n in config.numbers] == [DEFAULT_NUMBER]
    assert config.numbers[0].sms_url is None
    assert config.delivery.timing is INSTANT


def test_the_documented_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "twsim.yaml"
    path.write_text(ISSUE_EXAMPLE)
    config = load_config(path)
    assert config.seed == 7
    assert config.accounts[0].api_keys[0].secret == "s3cr3t"
    number = config.numbers[0]
    assert (number.phone_number, number.type, number.sms_url) == (
        "+15005550006",
        NumberType.LOCAL,
        "http://127.0.0.1:5000/sms",
    )
    assert config.webhook.total_timeout_s == 15.0


def test_delivery_settings() -> None:
    config = config_from_dict(
        {
            "delivery": {
                "timing": "realistic",
                "pacing": True,
                "outcomes": [
                    {
                        "to": "+1555*",
                        "status": "undelivered",
                        "error_code": 30003,
                        "probability": 0.5,
                    }
                ],
            }
        }
    )
    assert config.delivery.timing is REALISTIC
    assert config.delivery.pacing is True
    rule = config.delivery.outcomes[0]
    assert (rule.to, rule.outcome.status, rule.outcome.error_code, rule.probability) == (
        "+1555*",
        MessageStatus.UNDELIVERED,
        30003,
        0.5,
    )


@pytest.mark.parametrize(
    ("text", "where", "line"),
    [
        ("seed: 1\nnumbres: []\n", "numbres", 2),
        ("seed: one\n", "seed", 1),
        ("accounts:\n  - sid: AC123\n", "accounts[0].sid", 2),
        ("accounts:\n  - auth_token: 'not alphanumeric!'\n", "accounts[0].auth_token", 2),
        ("numbers:\n  - phone_number: '+1555'\n", "numbers[0].phone_number", 2),
        ("numbers:\n  - phone_number: '+15005550006'\n    type: landline\n", "numbers[0].type", 3),
        (
            "numbers:\n  - phone_number: '+15005550006'\n    sms_url: ftp://x\n",
            "numbers[0].sms_url",
            3,
        ),
        (
            "numbers:\n  - phone_number: '+15005550006'\n    sms_method: PUT\n",
            "numbers[0].sms_method",
            3,
        ),
        (
            "numbers:\n  - phone_number: '+15005550006'\n    account: AC0000000000000000000000000000000f\n",
            "numbers[0].account",
            3,
        ),
        ("webhook:\n  total_timeout_s: -1\n", "webhook.total_timeout_s", 2),
        ("webhook:\n  retries: 9\n", "webhook.retries", 2),
        ("delivery:\n  timing: sometimes\n", "delivery.timing", 2),
        ("webhook:\n  allow_hosts: [ok.example, 'not a host']\n", "webhook.allow_hosts", 2),
        ("webhook:\n  allow_hosts: ok.example\n", "webhook.allow_hosts", 2),
        ("server:\n  allowed_hosts: ['10.0.0.0/99']\n", "server.allowed_hosts", 2),
        ("server:\n  control_token: short\n", "server.control_token", 2),
        ("server:\n  body_timeout_s: 0\n", "server.body_timeout_s", 2),
        ("server:\n  cors: true\n", "server.cors", 2),
        ("retention:\n  events: 0\n", "retention.events", 2),
        ("retention:\n  messages: lots\n", "retention.messages", 2),
        (
            "delivery:\n  outcomes:\n    - {status: delivered, error_code: 30003}\n",
            "delivery.outcomes[0].status",
            3,
        ),
    ],
)
def test_bad_settings_name_the_key_and_line(text: str, where: str, line: int) -> None:
    with pytest.raises(SchemaError) as caught:
        config_from_dict(load_yaml(text, source="twsim.yaml"), source="twsim.yaml")
    assert caught.value.where == where
    assert caught.value.line == line
    assert str(caught.value).startswith(f"twsim.yaml:{line}: {where}: ")


def test_a_number_configured_twice_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"\+15005550006 is configured twice"):
        config_from_dict(
            {"numbers": [{"phone_number": "+15005550006"}, {"phone_number": "+1 500 555 0006"}]}
        )


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(SchemaError) as caught:
        load_yaml("seed: 1\nnumbers: [\n", source="x.yaml")
    assert caught.value.line is not None and caught.value.line >= 2


def test_shipped_prices_by_name_and_unknown_names() -> None:
    table = load_prices("us")
    assert table.currency == "USD"
    assert table.taken
    key = PriceKey("US", NumberType.LOCAL, Direction.OUTBOUND, Channel.SMS)
    assert table.charge(key, 2).base == 2 * table.unit_price(key) > 0
    with pytest.raises(SchemaError, match=r"no shipped price table 'mars'.*us"):
        load_prices("mars")


def test_account_balance_is_decimal() -> None:
    config = config_from_dict({"accounts": [{"balance": "12.50"}]})
    assert config.accounts[0].balance == Decimal("12.50")


def test_security_and_retention_settings() -> None:
    text = """\
server:
  allowed_hosts: [twsim.lan, "*.ngrok-free.app", 192.168.1.0/24]
  control_token: 0123456789abcdef-shared
  body_timeout_s: 2.5
webhook:
  allow_hosts: [app.staging.example, "*.internal.example", 10.0.0.0/8]
retention: {events: 5000, messages: 2000}
"""
    config = config_from_dict(load_yaml(text, source="twsim.yaml"), source="twsim.yaml")
    assert config.server.allowed_hosts == ["twsim.lan", "*.ngrok-free.app", "192.168.1.0/24"]
    assert config.server.control_token == "0123456789abcdef-shared"
    assert config.server.body_timeout_s == 2.5
    assert config.webhook.allow_hosts == ["app.staging.example", "*.internal.example", "10.0.0.0/8"]
    assert (config.retention.events, config.retention.messages) == (5000, 2000)


def test_safe_defaults() -> None:
    config = load_config(None)
    assert config.server.allowed_hosts == [] and config.server.control_token is None
    assert config.webhook.allow_hosts == []
    assert (config.retention.events, config.retention.messages) == (100_000, 100_000)
