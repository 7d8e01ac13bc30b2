"""The configuration's shape: accounts, numbers, services, webhook and delivery settings.

Every field has the built-in default, so `Config()` alone gives one account and one number
and `twsim serve` works out of the box. `twsim.config.reader` fills these from YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from twsim.config.observing import ObserveConfig
from twsim.core.lifecycle import INSTANT, OutcomeRule, Timing
from twsim.core.pricing import NumberType

DEFAULT_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
DEFAULT_AUTH_TOKEN = "fedcba9876543210fedcba9876543210"
DEFAULT_NUMBER = "+15005550006"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8910


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"


@dataclass(slots=True)
class ApiKeyConfig:
    sid: str
    secret: str


@dataclass(slots=True)
class AccountConfig:
    sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    friendly_name: str = "twsim account"
    balance: Decimal = Decimal("20.00")
    api_keys: list[ApiKeyConfig] = field(default_factory=list)


@dataclass(slots=True)
class NumberConfig:
    phone_number: str = DEFAULT_NUMBER
    account: str | None = None
    type: NumberType = NumberType.LOCAL
    friendly_name: str | None = None
    sms_url: str | None = None
    sms_method: HttpMethod = HttpMethod.POST
    sms_fallback_url: str | None = None
    sms_fallback_method: HttpMethod = HttpMethod.POST
    status_callback: str | None = None
    status_callback_method: HttpMethod = HttpMethod.POST


@dataclass(slots=True)
class ServiceConfig:
    """A Messaging Service: a pool of senders with its own inbound URL and callback."""

    sid: str
    account: str | None = None
    friendly_name: str = "twsim service"
    numbers: list[str] = field(default_factory=list)
    inbound_request_url: str | None = None
    inbound_method: HttpMethod = HttpMethod.POST
    fallback_url: str | None = None
    fallback_method: HttpMethod = HttpMethod.POST
    status_callback: str | None = None
    use_inbound_webhook_on_number: bool = False


@dataclass(slots=True)
class WebhookConfig:
    public_base_url: str | None = None
    connect_timeout_s: float = 10.0
    total_timeout_s: float = 15.0
    retries: int = 1
    cookie_ttl_s: float = 4 * 3600.0
    max_redirects: int = 10
    max_connections_per_app: int = 100  # requests in flight to one app origin at once


@dataclass(slots=True)
class DeliveryConfig:
    timing: Timing = INSTANT
    pacing: bool = False
    magic_numbers: bool = True
    outcomes: list[OutcomeRule] = field(default_factory=list)


@dataclass(slots=True)
class Config:
    seed: int = 0
    prices: str = "us"
    accounts: list[AccountConfig] = field(default_factory=lambda: [AccountConfig()])
    numbers: list[NumberConfig] = field(default_factory=lambda: [NumberConfig()])
    services: list[ServiceConfig] = field(default_factory=list)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    attribution_window_s: float = 2.0
    reply_loop_limit: int = 30
    reply_loop_window_s: float = 30.0
    observe: ObserveConfig = field(default_factory=ObserveConfig)
    source: str | None = None

    def account(self, sid: str | None) -> AccountConfig:
        if sid is None:
            return self.accounts[0]
        for account in self.accounts:
            if account.sid == sid:
                return account
        raise KeyError(sid)
