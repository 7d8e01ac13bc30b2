"""The gateway's records: accounts, phone numbers, messaging services, messages, media."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from twsim.core.ids import Prefix, SidFactory
from twsim.core.lifecycle import MessageDirection, MessageStatus, Outcome
from twsim.core.pricing import Charge, NumberType
from twsim.core.segments import Encoding, segment


@dataclass(slots=True)
class Account:
    sid: str
    auth_token: str
    friendly_name: str
    date_created: datetime
    balance: Decimal
    api_keys: dict[str, str] = field(default_factory=dict)
    status: str = "active"  # active | suspended | closed
    owner_sid: str | None = None  # the parent, for a subaccount
    date_updated: datetime | None = None

    @property
    def owner_account_sid(self) -> str:
        return self.owner_sid or self.sid

    def accepts(self, username: str, password: str) -> bool:
        if username == self.sid:
            return password == self.auth_token
        return self.api_keys.get(username) == password


@dataclass(slots=True)
class PhoneNumber:
    """An IncomingPhoneNumber: one of the gateway's numbers and where its webhooks go."""

    sid: str
    account_sid: str
    phone_number: str
    type: NumberType
    country: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime
    sms_url: str | None = None
    sms_method: str = "POST"
    sms_fallback_url: str | None = None
    sms_fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    service_sid: str | None = None


@dataclass(slots=True)
class Service:
    """A Messaging Service: a sender pool with its own inbound URL and status callback."""

    sid: str
    account_sid: str
    friendly_name: str
    numbers: list[str]
    inbound_request_url: str | None
    inbound_method: str
    fallback_url: str | None
    fallback_method: str
    status_callback: str | None
    use_inbound_webhook_on_number: bool


@dataclass(slots=True)
class Media:
    sid: str
    parent_sid: str
    account_sid: str
    url: str
    content_type: str
    date_created: datetime


@dataclass(slots=True)
class Message:
    sid: str
    account_sid: str
    direction: MessageDirection
    from_: str | None
    to: str
    body: str
    status: MessageStatus
    num_segments: int
    encoding: Encoding
    number_type: NumberType
    country: str
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    price: Decimal | None = None
    price_unit: str = "USD"
    error_code: int | None = None
    error_message: str | None = None
    messaging_service_sid: str | None = None
    media: tuple[Media, ...] = ()
    status_callback: str | None = None
    status_callback_method: str = "POST"
    send_at: datetime | None = None
    inbound_sid: str | None = None
    attempt_sid: str | None = None
    charge: Charge | None = None
    outcome: Outcome | None = None
    queue_delay_s: float = 0.0
    ucs2_chars: str = ""  # the characters that forced UCS-2, in order of first appearance

    @property
    def num_media(self) -> int:
        return len(self.media)


def new_message(
    *,
    sid: str,
    account_sid: str,
    direction: MessageDirection,
    from_: str | None,
    to: str,
    body: str,
    status: MessageStatus,
    number_type: NumberType,
    country: str,
    now: datetime,
    smart_encoded: bool = False,
    messaging_service_sid: str | None = None,
    date_sent: datetime | None = None,
) -> Message:
    """A message with its body segmented (smart-encoded if asked) and dated `now`.

    The one place a `Message` is made: inbound texts, TwiML replies, REST sends, the load
    mode and imported logs all come through here.
    """
    seg = segment(body, smart_encoding=smart_encoded)
    return Message(
        sid=sid,
        account_sid=account_sid,
        direction=direction,
        from_=from_,
        to=to,
        body=seg.body,
        status=status,
        num_segments=seg.count,
        encoding=seg.encoding,
        ucs2_chars="".join(seg.ucs2_chars),
        number_type=number_type,
        country=country,
        date_created=now,
        date_updated=now,
        date_sent=date_sent,
        messaging_service_sid=messaging_service_sid,
    )


def media_of(message: Message, urls: Iterable[str], sids: SidFactory) -> tuple[Media, ...]:
    """Media records for the URLs attached to `message`, each with a new SID, in order."""
    return tuple(
        Media(
            sid=sids.new(Prefix.MEDIA),
            parent_sid=message.sid,
            account_sid=message.account_sid,
            url=url,
            content_type=mimetypes.guess_type(url)[0] or "image/jpeg",
            date_created=message.date_created,
        )
        for url in urls
    )
