"""Who is who at the gateway: its accounts, phone numbers and Messaging Services.

Built from the configuration, then changed through the REST API (numbers are bought and
released). Adding or removing a number appends a `number.changed` event. The three tables
are plain dicts kept for the gateway's whole life: a reset empties and refills them in
place, so whoever holds one keeps seeing the current entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from twsim.config.models import Config, NumberConfig
from twsim.core import phone
from twsim.core.errors import twilio_error
from twsim.core.ids import Prefix, SidFactory
from twsim.model.clock import Clock
from twsim.model.events import EventLog, NumberChanged
from twsim.model.records import Account, PhoneNumber, Service

DEFAULT_COUNTRY = "US"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where a number's inbound texts go: the app's URL and method, and its fallback."""

    url: str
    method: str
    fallback_url: str | None
    fallback_method: str


class Directory:
    """Accounts by SID, phone numbers by E.164 number, Messaging Services by SID."""

    def __init__(self, config: Config, *, clock: Clock, sids: SidFactory, events: EventLog) -> None:
        self.config = config
        self.clock = clock
        self.sids = sids
        self.events = events
        self.accounts: dict[str, Account] = {}
        self.numbers: dict[str, PhoneNumber] = {}
        self.services: dict[str, Service] = {}

    # -- setup ---------------------------------------------------------------------------------
    def load(self) -> None:
        """Create the configured accounts, then their numbers, then their services."""
        config = self.config
        now = self.clock.now()
        for a in config.accounts:
            self.accounts[a.sid] = Account(
                sid=a.sid,
                auth_token=a.auth_token,
                friendly_name=a.friendly_name,
                date_created=now,
                balance=a.balance,
                api_keys={k.sid: k.secret for k in a.api_keys},
            )
        for n in config.numbers:
            self.add_number(n)
        for s in config.services:
            account = s.account or config.accounts[0].sid
            self.services[s.sid] = Service(
                sid=s.sid,
                account_sid=account,
                friendly_name=s.friendly_name,
                numbers=list(s.numbers),
                inbound_request_url=s.inbound_request_url,
                inbound_method=str(s.inbound_method),
                fallback_url=s.fallback_url,
                fallback_method=str(s.fallback_method),
                status_callback=s.status_callback,
                use_inbound_webhook_on_number=s.use_inbound_webhook_on_number,
            )
            for member in s.numbers:
                self.numbers[member].service_sid = s.sid

    def clear(self) -> None:
        self.accounts.clear()
        self.numbers.clear()
        self.services.clear()

    def add_number(self, n: NumberConfig) -> PhoneNumber:
        if n.phone_number in self.numbers:
            raise twilio_error(21422, number=n.phone_number)
        now = self.clock.now()
        number = PhoneNumber(
            sid=self.sids.new(Prefix.PHONE_NUMBER),
            account_sid=n.account or self.config.accounts[0].sid,
            phone_number=n.phone_number,
            type=n.type,
            country=phone.country_of(n.phone_number) or DEFAULT_COUNTRY,
            friendly_name=n.friendly_name or _friendly(n.phone_number),
            date_created=now,
            date_updated=now,
            sms_url=n.sms_url,
            sms_method=str(n.sms_method),
            sms_fallback_url=n.sms_fallback_url,
            sms_fallback_method=str(n.sms_fallback_method),
            status_callback=n.status_callback,
            status_callback_method=str(n.status_callback_method),
        )
        self.numbers[number.phone_number] = number
        self.events.emit(
            NumberChanged(action="added", number=number.phone_number, sms_url=number.sms_url)
        )
        return number

    def remove_number(self, number: PhoneNumber) -> None:
        del self.numbers[number.phone_number]
        self.events.emit(NumberChanged(action="removed", number=number.phone_number))

    def create_subaccount(self, owner: Account, friendly_name: str | None) -> Account:
        """A new subaccount of `owner`, with its own SID and auth token."""
        now = self.clock.now()
        account = Account(
            sid=self.sids.new(Prefix.ACCOUNT),
            auth_token=self.sids.secret(),
            friendly_name=friendly_name
            or f"SubAccount Created at {now:%Y-%m-%d %I:%M %p}".replace(" 0", " "),
            date_created=now,
            balance=owner.balance,
            owner_sid=owner.sid,
            date_updated=now,
        )
        self.accounts[account.sid] = account
        return account

    # -- lookups -------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Account:
        for account in self.accounts.values():
            if account.accepts(username, password) and account.status != "closed":
                return account
        raise twilio_error(20003, detail="Your AccountSid or AuthToken was incorrect.")

    def opens(self, credentials: Account, sid: str) -> Account | None:
        """The account `sid` names, if `credentials` may act on it: itself or a subaccount."""
        account = self.accounts.get(sid)
        if account is None:
            return None
        if account.sid == credentials.sid or account.owner_sid == credentials.sid:
            return account
        return None

    def family_of(self, account: Account) -> list[Account]:
        """`account` and its subaccounts, in the order they were made."""
        return [a for a in self.accounts.values() if a is account or a.owner_sid == account.sid]

    def numbers_of(self, account: Account) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.account_sid == account.sid]

    def service_of(self, number: PhoneNumber) -> Service | None:
        return self.services.get(number.service_sid) if number.service_sid else None

    def service(self, account: Account, sid: str | None) -> Service | None:
        """The account's Messaging Service `sid`; None when no SID is given (21701 if unknown)."""
        if not sid:
            return None
        service = self.services.get(sid)
        if service is None or service.account_sid != account.sid:
            raise twilio_error(21701, sid=sid)
        return service

    @staticmethod
    def senders(number: PhoneNumber) -> tuple[str, ...]:
        """What an opt-out from this number blocks: the number, and its service if any."""
        if number.service_sid:
            return (number.phone_number, number.service_sid)
        return (number.phone_number,)

    def webhook_of(self, number: PhoneNumber) -> WebhookTarget | None:
        """Where `number`'s texts go: its Messaging Service's inbound URL (unless the
        service defers to its numbers), else the number's own; None when neither is set."""
        service = self.service_of(number)
        if (
            service is not None
            and not service.use_inbound_webhook_on_number
            and service.inbound_request_url
        ):
            return WebhookTarget(
                service.inbound_request_url,
                service.inbound_method,
                service.fallback_url,
                service.fallback_method,
            )
        if number.sms_url:
            return WebhookTarget(
                number.sms_url,
                number.sms_method,
                number.sms_fallback_url,
                number.sms_fallback_method,
            )
        return None

    def webhooks(self) -> dict[str, str | None]:
        """Each number, with the URL its texts go to (None: stored, not delivered)."""
        out: dict[str, str | None] = {}
        for e164, number in self.numbers.items():
            target = self.webhook_of(number)
            out[e164] = target.url if target else None
        return out


def _friendly(number: str) -> str:
    """Twilio's friendly name for a US number: (555) 123-4567."""
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number
