"""Reading the configuration from `twsim.yaml` (or a dict with the same shape).

Unknown keys and wrong types are errors naming the key and its line.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from twsim.config.models import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    AccountConfig,
    ApiKeyConfig,
    Config,
    DeliveryConfig,
    HttpMethod,
    NumberConfig,
    ServiceConfig,
    WebhookConfig,
)
from twsim.config.observing import (
    ObserveConfig,
    database_url,
    level_regex,
    port_number,
    smtp_address,
)
from twsim.config.schema import Section, load_yaml_file
from twsim.core import phone
from twsim.core.ids import is_sid
from twsim.core.lifecycle import INSTANT, REALISTIC, Outcome, OutcomeRule, Timing
from twsim.core.lifecycle import MessageStatus as Status
from twsim.core.pricing import NumberType

T = TypeVar("T")


def load_config(path: str | Path | None) -> Config:
    """The configuration in `path`, or the built-in defaults when `path` is None."""
    if path is None:
        return Config()
    data = load_yaml_file(path)
    return config_from_dict(data, source=str(path))


def config_from_dict(data: Any, *, source: str | None = None) -> Config:
    top = Section(data, "", source)
    defaults = Config()
    accounts = [_account(s) for s in top.sections("accounts", [])] or [AccountConfig()]
    config = Config(
        seed=top.integer("seed", 0),
        prices=top.text("prices", "us"),
        accounts=accounts,
        webhook=_webhook(top.section("webhook")),
        delivery=_delivery(top.section("delivery")),
        attribution_window_s=top.number(
            "attribution_window_s", defaults.attribution_window_s, minimum=0
        ),
        reply_loop_limit=top.integer("reply_loop_limit", defaults.reply_loop_limit, minimum=1),
        reply_loop_window_s=top.number(
            "reply_loop_window_s", defaults.reply_loop_window_s, minimum=0
        ),
        observe=_observe(top.section("observe")),
        source=source,
    )
    account_sids = {a.sid for a in accounts}
    if len(account_sids) != len(accounts):
        raise top.error("accounts", "two accounts share a sid")
    if top.has("numbers"):
        config.numbers = [_number(s, account_sids) for s in top.sections("numbers")]
    else:
        top.raw("numbers", None)  # absent or null: the built-in number
        config.numbers = [NumberConfig()]
    seen: set[str] = set()
    for number in config.numbers:
        if number.phone_number in seen:
            raise top.error("numbers", f"{number.phone_number} is configured twice")
        seen.add(number.phone_number)
    config.services = [_service(s, account_sids, seen) for s in top.sections("services", [])]
    top.done()
    return config


def _account(s: Section) -> AccountConfig:
    sid = s.convert("sid", _sid("AC"), DEFAULT_ACCOUNT_SID)
    token = s.convert("auth_token", _alphanumeric, DEFAULT_AUTH_TOKEN)
    keys = []
    for k in s.sections("api_keys", []):
        keys.append(
            ApiKeyConfig(
                sid=k.convert("sid", _sid("SK")), secret=k.convert("secret", _alphanumeric)
            )
        )
        k.done()
    account = AccountConfig(
        sid=sid,
        auth_token=token,
        friendly_name=s.text("friendly_name", "twsim account"),
        balance=s.decimal("balance", Decimal("20.00")),
        api_keys=keys,
    )
    s.done()
    return account


def _number(s: Section, accounts: set[str]) -> NumberConfig:
    number = NumberConfig(
        phone_number=s.convert("phone_number", _phone_number),
        account=s.convert("account", _known(accounts, "account"), None),
        type=s.enum("type", NumberType, NumberType.LOCAL),
        friendly_name=s.text("friendly_name", None),
        sms_url=s.convert("sms_url", _url, None),
        sms_method=s.enum("sms_method", HttpMethod, HttpMethod.POST),
        sms_fallback_url=s.convert("sms_fallback_url", _url, None),
        sms_fallback_method=s.enum("sms_fallback_method", HttpMethod, HttpMethod.POST),
        status_callback=s.convert("status_callback", _url, None),
        status_callback_method=s.enum("status_callback_method", HttpMethod, HttpMethod.POST),
    )
    s.done()
    return number


def _service(s: Section, accounts: set[str], numbers: set[str]) -> ServiceConfig:
    def known_number(value: Any) -> str:
        text = _phone_number(value)
        if text not in numbers:
            raise ValueError(f"{text} is not one of the configured numbers")
        return text

    members = [known_number(n) for n in s.sequence("numbers", [])]
    service = ServiceConfig(
        sid=s.convert("sid", _sid("MG")),
        account=s.convert("account", _known(accounts, "account"), None),
        friendly_name=s.text("friendly_name", "twsim service"),
        numbers=members,
        inbound_request_url=s.convert("inbound_request_url", _url, None),
        inbound_method=s.enum("inbound_method", HttpMethod, HttpMethod.POST),
        fallback_url=s.convert("fallback_url", _url, None),
        fallback_method=s.enum("fallback_method", HttpMethod, HttpMethod.POST),
        status_callback=s.convert("status_callback", _url, None),
        use_inbound_webhook_on_number=s.flag("use_inbound_webhook_on_number", False),
    )
    s.done()
    return service


def _webhook(s: Section) -> WebhookConfig:
    d = WebhookConfig()
    config = WebhookConfig(
        public_base_url=s.convert("public_base_url", _url, None),
        connect_timeout_s=s.number(
            "connect_timeout_s", d.connect_timeout_s, minimum=0.001, maximum=600
        ),
        total_timeout_s=s.number("total_timeout_s", d.total_timeout_s, minimum=0.001, maximum=600),
        retries=s.integer("retries", d.retries, minimum=0, maximum=5),
        cookie_ttl_s=s.number("cookie_ttl_s", d.cookie_ttl_s, minimum=0),
        max_redirects=s.integer("max_redirects", d.max_redirects, minimum=0, maximum=50),
        max_connections_per_app=s.integer(
            "max_connections_per_app", d.max_connections_per_app, minimum=1, maximum=10_000
        ),
    )
    s.done()
    return config


def _delivery(s: Section) -> DeliveryConfig:
    timing = INSTANT
    if s.has("timing"):
        raw = s.raw("timing")
        if raw == "instant":
            timing = INSTANT
        elif raw == "realistic":
            timing = REALISTIC
        elif isinstance(raw, dict):
            t = s.section("timing")
            timing = Timing(
                send_s=t.convert("send_s", _span, (0.0, 0.0)),
                deliver_s=t.convert("deliver_s", _span, (0.0, 0.0)),
            )
            t.done()
        else:
            raise s.error(
                "timing", f"expected instant, realistic or {{send_s, deliver_s}}, got {raw!r}"
            )
    rules = []
    for r in s.sections("outcomes", []):
        status = r.enum("status", Status)
        try:
            outcome = Outcome(status, r.integer("error_code", None))
        except ValueError as exc:
            raise r.error("status", str(exc)) from None
        rules.append(
            OutcomeRule(
                to=r.text("to", "*"),
                outcome=outcome,
                probability=r.number("probability", 1.0, minimum=0, maximum=1),
            )
        )
        r.done()
    config = DeliveryConfig(
        timing=timing,
        pacing=s.flag("pacing", False),
        magic_numbers=s.flag("magic_numbers", True),
        outcomes=rules,
    )
    s.done()
    return config


def _observe(s: Section) -> ObserveConfig:
    d = ObserveConfig()
    config = ObserveConfig(
        smtp=s.convert("smtp", smtp_address, None),
        logs=s.convert("logs", _each(_text), []),
        log_level_regex=s.convert("log_level_regex", level_regex, None),
        databases=s.convert("databases", _each(lambda v: database_url(_text(v))), []),
        pids=s.convert("pids", _each(_pid), []),
        ports=s.convert("ports", _each(port_number), []),
        app_cmd=s.text("app_cmd", None),
        interval_s=s.number("interval_s", d.interval_s, minimum=0.01, maximum=60),
    )
    s.done()
    return config


# -- value parsers (a ValueError names the key via Section.convert) ---------------------------


def _sid(prefix: str) -> Any:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not is_sid(value, prefix):
            raise ValueError(f"expected a {prefix} sid ({prefix} and 32 hex digits), got {value!r}")
        return value

    return parse


def _alphanumeric(value: Any) -> str:
    if not isinstance(value, str) or not value.isalnum() or not value.isascii():
        raise ValueError(
            "expected letters and digits only (some Twilio SDKs reject other characters)"
        )
    return value


def _phone_number(value: Any) -> str:
    text = str(value)
    normalized = phone.normalize(text)
    if normalized is None:
        if phone.sender_kind(text) is phone.SenderKind.SHORT_CODE:
            return text
        raise ValueError(f"expected an E.164 phone number or a short code, got {value!r}")
    return normalized


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


def _each(parse: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    """A parser for a list (or one value standing for a list of one) of what `parse` reads."""

    def parse_all(value: Any) -> list[T]:
        items = value if isinstance(value, list) else [value]
        return [parse(item) for item in items]

    return parse_all


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _pid(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a process id, got {value!r}")
    return value


def _known(choices: set[str], what: str) -> Any:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"no {what} {value!r} is configured")
        return str(value)

    return parse


def _span(value: Any) -> tuple[float, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (float(value), float(value))
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        low, high = float(value[0]), float(value[1])
        if 0 <= low <= high:
            return (low, high)
    raise ValueError(f"expected seconds or [low, high] seconds, got {value!r}")
