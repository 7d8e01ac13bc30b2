"""The gateway's state and its rules: the one place messages come in and go out.

Every inbound, whatever its source, goes through `State.receive_inbound`; every outbound,
whether from TwiML or the REST API, goes through `State.create_message`, which validates,
segments, prices and starts the message's lifecycle. Each step appends an event naming
its cause. Nothing here does I/O: delivery of webhooks and status callbacks happens at
the edges, which call back into `set_status`.
"""

from __future__ import annotations

import mimetypes
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from twsim.attribution import Attribution, Cause
from twsim.clock import Clock
from twsim.config import Config, NumberConfig
from twsim.core import keywords, phone
from twsim.core.errors import ApiError, TwilioError, message_for, twilio_error
from twsim.core.ids import Prefix, SidFactory
from twsim.core.keywords import Keyword
from twsim.core.lifecycle import (
    MAGIC_FROM,
    MAGIC_TO,
    SENDER_RATE,
    MessageDirection,
    MessageStatus,
    Outcome,
    OutcomePolicy,
    SenderQueue,
)
from twsim.core.pricing import Channel, Charge, Direction, PriceKey, PriceTable, PricingError
from twsim.core.segments import MAX_BODY_CHARS, segment
from twsim.events import EventLog, EventType
from twsim.model import Account, Media, Message, PhoneNumber, Service
from twsim.optouts import OptOuts
from twsim.reply_loop import ReplyLoopGuard

MAX_MEDIA = 10
DEFAULT_COUNTRY = "US"


@dataclass(slots=True)
class OutboundRequest:
    """What a REST call or a TwiML `<Message>` asks the gateway to send."""

    to: str | None
    from_: str | None = None
    body: str | None = None
    media_urls: tuple[str, ...] = ()
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    send_at: datetime | None = None
    smart_encoded: bool = False
    direction: MessageDirection = MessageDirection.OUTBOUND_API


@dataclass(slots=True)
class Received:
    """An inbound message as stored, the number that got it, and any keyword it was."""

    message: Message
    number: PhoneNumber
    keyword: Keyword | None = None
    auto_reply: str | None = None


@dataclass(slots=True)
class LedgerEntry:
    date: datetime
    account_sid: str
    message_sid: str
    charge: Charge


Starter = Callable[[Message], None]


@dataclass(slots=True)
class _Sequence:
    """Per-account message order (oldest first)."""

    sids: list[str] = field(default_factory=list)


class State:
    def __init__(
        self, config: Config, *, clock: Clock, prices: PriceTable, events: EventLog
    ) -> None:
        self.config = config
        self.clock = clock
        self.prices = prices
        self.events = events
        self.sids = SidFactory(random.Random(f"{config.seed}/sids"))
        self.outcome_rng = random.Random(f"{config.seed}/outcomes")
        self.outcomes = OutcomePolicy(config.delivery.outcomes)
        self.accounts: dict[str, Account] = {}
        self.numbers: dict[str, PhoneNumber] = {}
        self.services: dict[str, Service] = {}
        self.messages: dict[str, Message] = {}
        self._order: dict[str, _Sequence] = {}
        self.ledger: list[LedgerEntry] = []
        self.opt_outs = OptOuts()
        self.reply_loops = ReplyLoopGuard(config.reply_loop_limit, config.reply_loop_window_s)
        self.attribution = Attribution(clock, config.attribution_window_s)
        self._queues: dict[str, SenderQueue] = {}
        self.start_lifecycle: Starter = lambda message: None
        self.media_base_url = "https://api.twilio.com"
        self._load(config)

    # -- setup ---------------------------------------------------------------------------------
    def _load(self, config: Config) -> None:
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
            self._order[a.sid] = _Sequence()
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
            EventType.NUMBER_CHANGED,
            action="added",
            number=number.phone_number,
            sms_url=number.sms_url,
        )
        return number

    def remove_number(self, number: PhoneNumber) -> None:
        del self.numbers[number.phone_number]
        self.events.emit(EventType.NUMBER_CHANGED, action="removed", number=number.phone_number)

    def reset(self) -> None:
        """Forget every message, charge, opt-out and number change; keep the configuration."""
        self.messages.clear()
        self.ledger.clear()
        self.opt_outs.clear()
        self.reply_loops.clear()
        self.attribution.clear()
        self._queues.clear()
        self.accounts.clear()
        self.numbers.clear()
        self.services.clear()
        self._order.clear()
        self.events.clear()
        self._load(self.config)
        self.events.emit(EventType.RESET)

    # -- lookups -------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Account:
        for account in self.accounts.values():
            if account.accepts(username, password):
                return account
        raise twilio_error(20003, detail="Your AccountSid or AuthToken was incorrect.")

    def message(self, account: Account, sid: str) -> Message | None:
        message = self.messages.get(sid)
        if message is None or message.account_sid != account.sid:
            return None
        return message

    def messages_of(self, account: Account) -> Iterable[Message]:
        """An account's messages, newest first."""
        messages = self.messages
        for sid in reversed(self._order[account.sid].sids):
            message = messages.get(sid)
            if message is not None:
                yield message

    def numbers_of(self, account: Account) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.account_sid == account.sid]

    def service_of(self, number: PhoneNumber) -> Service | None:
        return self.services.get(number.service_sid) if number.service_sid else None

    def _senders(self, number: PhoneNumber) -> tuple[str, ...]:
        """What an opt-out from this number blocks: the number, and its service if any."""
        if number.service_sid:
            return (number.phone_number, number.service_sid)
        return (number.phone_number,)

    # -- inbound ---------------------------------------------------------------------------------
    def receive_inbound(
        self,
        *,
        from_: str | None,
        to: str | None,
        body: str = "",
        media_urls: Iterable[str] = (),
        source: str = "api",
        meta: dict[str, object] | None = None,
    ) -> Received:
        """Store and bill a text a phone sent to one of the gateway's numbers."""
        try:
            received = self._receive(from_, to, body, tuple(media_urls))
        except TwilioError as error:
            self.events.emit(
                EventType.INBOUND_REJECTED,
                source=source,
                code=error.code,
                error=error.message,
                From=from_,
                To=to,
                meta=meta or {},
            )
            raise
        message, number = received.message, received.number
        seg = segment(message.body)
        self.events.emit(
            EventType.INBOUND_RECEIVED,
            inbound=message.sid,
            message=message.sid,
            account=message.account_sid,
            From=message.from_,
            To=message.to,
            body=message.body,
            segments=message.num_segments,
            encoding=str(message.encoding),
            ucs2_chars="".join(seg.ucs2_chars),
            num_media=message.num_media,
            media=[m.url for m in message.media],
            number_type=str(number.type),
            source=source,
            keyword=str(received.keyword) if received.keyword else None,
            meta=meta or {},
        )
        self._bill(message, Direction.INBOUND, cause=Cause(message.sid))
        if received.keyword is not None:
            self.events.emit(
                EventType.OPT_OUT,
                inbound=message.sid,
                keyword=str(received.keyword),
                phone=message.from_,
                number=number.phone_number,
            )
        if received.auto_reply is not None:
            self.events.emit(
                EventType.AUTO_REPLY,
                inbound=message.sid,
                From=number.phone_number,
                To=message.from_,
                body=received.auto_reply,
            )
        return received

    def _receive(
        self, from_: str | None, to: str | None, body: str, media_urls: tuple[str, ...]
    ) -> Received:
        if not to or not to.strip():
            raise twilio_error(21604)
        number = self.numbers.get(phone.normalize(to) or to)
        if number is None:
            raise ApiError(
                21606,
                f"The 'To' number {to} is not one of this gateway's phone numbers.",
                status=404,
            )
        sender = phone.normalize(from_ or "")
        if sender is None:  # a phone texts from a number or, rarely, a short code
            if not from_ or phone.sender_kind(from_) is not phone.SenderKind.SHORT_CODE:
                raise twilio_error(21212, number=from_ or "")
            sender = from_.strip()
        if len(body) > MAX_BODY_CHARS:
            raise twilio_error(21617)
        if len(media_urls) > MAX_MEDIA:
            raise twilio_error(21623)
        seg = segment(body)
        now = self.clock.now()
        sid = self.sids.new(Prefix.MMS if media_urls else Prefix.SMS)
        message = Message(
            sid=sid,
            account_sid=number.account_sid,
            direction=MessageDirection.INBOUND,
            from_=sender,
            to=number.phone_number,
            body=body,
            status=MessageStatus.RECEIVED,
            num_segments=seg.count,
            encoding=seg.encoding,
            number_type=number.type,
            country=number.country,
            date_created=now,
            date_updated=now,
            date_sent=now,
            messaging_service_sid=number.service_sid,
        )
        message.media = self._media(message, media_urls)
        self._store(message)
        received = Received(message, number)
        if keywords.handles_keywords(number.type):
            received.keyword = keywords.classify(body)
        if received.keyword is not None:
            senders = self._senders(number)
            was_out = self.opt_outs.blocked(sender, senders)
            if received.keyword is Keyword.STOP:
                self.opt_outs.stop(sender, senders)
            elif received.keyword is Keyword.START:
                self.opt_outs.start(sender, senders)
            received.auto_reply = keywords.auto_reply(
                received.keyword, number.type, opted_out=was_out
            )
        return received

    # -- outbound --------------------------------------------------------------------------------
    def create_message(
        self, account: Account, request: OutboundRequest, *, cause: Cause | None = None
    ) -> Message:
        """Validate, segment, price and queue an outbound message; start its lifecycle."""
        if cause is None and request.direction is MessageDirection.OUTBOUND_API and request.to:
            cause = self.attribution.cause_for(
                account.sid, phone.normalize(request.to) or request.to
            )
        cause = cause or Cause()
        try:
            message = self._outbound(account, request)
        except TwilioError as error:
            self.events.emit(
                EventType.MESSAGE_REJECTED,
                inbound=cause.inbound,
                attempt=cause.attempt,
                account=account.sid,
                direction=str(request.direction),
                code=error.code,
                error=error.message,
                From=request.from_,
                To=request.to,
                body=request.body,
                attributed=cause.how,
            )
            raise
        message.inbound_sid = cause.inbound
        message.attempt_sid = cause.attempt
        self._store(message)
        self.events.emit(
            EventType.MESSAGE_CREATED,
            inbound=cause.inbound,
            attempt=cause.attempt,
            message=message.sid,
            account=account.sid,
            direction=str(message.direction),
            From=message.from_,
            To=message.to,
            body=message.body,
            segments=message.num_segments,
            encoding=str(message.encoding),
            ucs2_chars="".join(segment(message.body).ucs2_chars)
            if message.encoding != "GSM-7"
            else "",
            num_media=message.num_media,
            status=str(message.status),
            status_callback=message.status_callback,
            attributed=cause.how,
        )
        self.start_lifecycle(message)
        return message

    def _outbound(self, account: Account, request: OutboundRequest) -> Message:
        to = phone.parse_to(request.to)
        service = self._service(account, request.messaging_service_sid)
        if request.from_:
            sender = phone.parse_from(request.from_)
        elif service is not None:
            if not service.numbers:
                raise twilio_error(21606, number="(no sender in the Messaging Service)")
            sender = service.numbers[0]
        else:
            raise twilio_error(21603)
        body = request.body or ""
        if not body and not request.media_urls:
            raise twilio_error(21602)
        if len(body) > MAX_BODY_CHARS:
            raise twilio_error(21617)
        if len(request.media_urls) > MAX_MEDIA:
            raise twilio_error(21623)
        if any(not u.startswith(("http://", "https://")) for u in request.media_urls):
            raise twilio_error(21620)
        if self.config.delivery.magic_numbers and sender in MAGIC_FROM:
            raise twilio_error(MAGIC_FROM[sender], number=sender)
        number = self.numbers.get(sender)
        if number is None or number.account_sid != account.sid:
            raise twilio_error(21606, number=sender)
        if self.config.delivery.magic_numbers and to in MAGIC_TO:
            raise twilio_error(MAGIC_TO[to], number=to, sender=sender)
        if to == sender:
            raise twilio_error(21211, number=to)
        if self.opt_outs.blocked(to, self._senders(number)):
            raise twilio_error(21610)
        if request.status_callback and not request.status_callback.startswith(
            ("http://", "https://")
        ):
            raise twilio_error(21609, url=request.status_callback)
        country = phone.country_of(to) or DEFAULT_COUNTRY
        seg = segment(body, smart_encoding=request.smart_encoded)
        channel = Channel.MMS if request.media_urls else Channel.SMS
        key = PriceKey(country, number.type, Direction.OUTBOUND, channel)
        try:
            self.prices.charge(key, seg.count)
        except PricingError:
            raise twilio_error(21408, number=to) from None
        now = self.clock.now()
        status = MessageStatus.QUEUED
        if request.send_at is not None:
            status = MessageStatus.SCHEDULED
        elif service is not None and not request.from_:
            status = MessageStatus.ACCEPTED
        message = Message(
            sid=self.sids.new(Prefix.MMS if request.media_urls else Prefix.SMS),
            account_sid=account.sid,
            direction=request.direction,
            from_=sender,
            to=to,
            body=seg.body,
            status=status,
            num_segments=seg.count,
            encoding=seg.encoding,
            number_type=number.type,
            country=country,
            date_created=now,
            date_updated=now,
            messaging_service_sid=service.sid if service else number.service_sid,
            status_callback=request.status_callback
            or (service.status_callback if service else None)
            or number.status_callback,
            status_callback_method=request.status_callback_method,
            send_at=request.send_at,
        )
        message.media = self._media(message, request.media_urls)
        delay = self.queue_delay(message)
        if delay is None:
            if request.from_:
                raise twilio_error(21611)
            message.outcome = Outcome(MessageStatus.FAILED, 30001)
        else:
            message.queue_delay_s = delay
        if message.direction is MessageDirection.OUTBOUND_REPLY and not self.reply_loops.allow(
            sender, to, self.clock.monotonic()
        ):
            message.outcome = Outcome(MessageStatus.FAILED, 14107)
        if message.outcome is None:
            message.outcome = self.outcomes.decide(to, self.outcome_rng)
        return message

    def _service(self, account: Account, sid: str | None) -> Service | None:
        if not sid:
            return None
        service = self.services.get(sid)
        if service is None or service.account_sid != account.sid:
            raise twilio_error(21701, sid=sid)
        return service

    def queue_delay(self, message: Message) -> float | None:
        """Seconds until the sender can start on `message`; None when its queue is full.

        Without pacing every sender is infinitely fast.
        """
        if not self.config.delivery.pacing or message.from_ is None:
            return 0.0
        queue = self._queues.get(message.from_)
        if queue is None:
            queue = self._queues[message.from_] = SenderQueue(SENDER_RATE[message.number_type])
        return queue.admit(self.clock.monotonic(), message.num_segments)

    def sender_backlog(self, sender: str) -> float:
        queue = self._queues.get(sender)
        return queue.backlog(self.clock.monotonic()) if queue else 0.0

    def set_status(
        self, message: Message, status: MessageStatus, error_code: int | None = None
    ) -> None:
        """Move an outbound message on; it is billed when it is sent."""
        previous = message.status
        if previous == status:
            return
        now = self.clock.now()
        message.status = status
        message.date_updated = now
        if error_code is not None:
            message.error_code = error_code
            message.error_message = message_for(error_code)
        if status in (MessageStatus.SENDING, MessageStatus.SENT) and message.date_sent is None:
            message.date_sent = now
        self.events.emit(
            EventType.MESSAGE_STATUS,
            inbound=message.inbound_sid,
            attempt=message.attempt_sid,
            message=message.sid,
            status=str(status),
            previous=str(previous),
            error_code=error_code,
        )
        if (
            message.charge is None
            and status in (MessageStatus.SENT, MessageStatus.FAILED)
            and message.sid in self.messages
        ):
            cause = Cause(message.inbound_sid, message.attempt_sid)
            self._bill(
                message, Direction.OUTBOUND, cause=cause, failed=status is MessageStatus.FAILED
            )

    def _bill(
        self, message: Message, direction: Direction, *, cause: Cause, failed: bool = False
    ) -> None:
        channel = Channel.MMS if message.media else Channel.SMS
        key = PriceKey(message.country, message.number_type, direction, channel)
        try:
            charge = (
                self.prices.failed_fee(key)
                if failed
                else self.prices.charge(key, message.num_segments)
            )
        except PricingError as error:
            self.events.emit(
                EventType.CHARGE, inbound=cause.inbound, message=message.sid, unpriced=str(error)
            )
            return
        message.charge = charge
        message.price = charge.base  # Twilio bills carrier fees separately from the price
        message.price_unit = self.prices.currency
        account = self.accounts.get(message.account_sid)
        if account is not None:
            account.balance -= charge.total
        self.ledger.append(LedgerEntry(self.clock.now(), message.account_sid, message.sid, charge))
        self.events.emit(
            EventType.CHARGE,
            inbound=cause.inbound,
            attempt=cause.attempt,
            message=message.sid,
            account=message.account_sid,
            total=f"{charge.total:f}",
            charge=charge.to_dict(),
        )

    # -- resource changes ----------------------------------------------------------------------
    def redact(self, message: Message) -> None:
        message.body = ""
        message.date_updated = self.clock.now()
        self.events.emit(
            EventType.MESSAGE_UPDATED,
            message=message.sid,
            inbound=message.inbound_sid,
            redacted=True,
        )

    def cancel(self, message: Message) -> None:
        if message.status is not MessageStatus.SCHEDULED:
            raise twilio_error(30409)
        self.set_status(message, MessageStatus.CANCELED)

    def delete(self, message: Message) -> None:
        if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.ACCEPTED):
            raise twilio_error(20009)
        del self.messages[message.sid]
        self.events.emit(
            EventType.MESSAGE_DELETED, message=message.sid, inbound=message.inbound_sid
        )

    # -- storage -------------------------------------------------------------------------------
    def _store(self, message: Message) -> None:
        self.messages[message.sid] = message
        self._order.setdefault(message.account_sid, _Sequence()).sids.append(message.sid)

    def _media(self, message: Message, urls: tuple[str, ...]) -> tuple[Media, ...]:
        return tuple(
            Media(
                sid=self.sids.new(Prefix.MEDIA),
                parent_sid=message.sid,
                account_sid=message.account_sid,
                url=url,
                content_type=mimetypes.guess_type(url)[0] or "image/jpeg",
                date_created=message.date_created,
            )
            for url in urls
        )


def _friendly(number: str) -> str:
    """Twilio's friendly name for a US number: (555) 123-4567."""
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number
