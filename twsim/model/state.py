"""The gateway's state and its rules: the one place messages come in and go out.

Every inbound, whatever its source, goes through `State.receive_inbound`; every outbound,
whether from TwiML or the REST API, goes through `State.create_message`, which validates,
segments and prices it; its `message.created` event is what starts its lifecycle at the
carrier. Each step appends an event naming its cause. Nothing here does I/O: webhooks
and status callbacks happen at the edges, which call back into `set_status`.

`State` holds the messages, their order per account and their status changes; its parts
hold the rest: accounts, numbers and Messaging Services (`twsim.model.directory`), the checks
an outbound request passes and the sender queues (`twsim.model.outbound`), and the charges and
their ledger (`twsim.model.billing`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from twsim.config.models import Config, NumberConfig
from twsim.core import keywords, phone
from twsim.core.errors import ApiError, TwilioError, message_for, twilio_error
from twsim.core.ids import Prefix, SidFactory
from twsim.core.keywords import Keyword
from twsim.core.lifecycle import MessageDirection, MessageStatus, OutcomePolicy
from twsim.core.limits import check_size
from twsim.core.pricing import Direction, PriceTable
from twsim.model.attribution import Attribution, Cause, Send
from twsim.model.billing import Billing, LedgerEntry
from twsim.model.clock import Clock
from twsim.model.directory import Directory
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import (
    AutoReply,
    EventLog,
    InboundReceived,
    InboundRejected,
    MessageCreated,
    MessageDeleted,
    MessageRejected,
    MessageStatusChanged,
    MessageUpdated,
    OptOutChanged,
    Reset,
)
from twsim.model.optouts import OptOuts
from twsim.model.outbound import OutboundRequest, OutboundRules
from twsim.model.records import Account, Message, PhoneNumber, Service, media_of, new_message
from twsim.model.reply_loop import ReplyLoopGuard

__all__ = ["LedgerEntry", "OutboundRequest", "Received", "State"]  # the first two live elsewhere


@dataclass(slots=True)
class Received:
    """An inbound message as stored, the number that got it, and any keyword it was."""

    message: Message
    number: PhoneNumber
    keyword: Keyword | None = None
    auto_reply: str | None = None


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
        self.directory = Directory(config, clock=clock, sids=self.sids, events=events)
        self.billing = Billing(
            prices=prices, clock=clock, events=events, accounts=self.directory.accounts
        )
        self.messages: dict[str, Message] = {}
        self._order: dict[str, list[str]] = {}  # message SIDs per account, oldest first
        self.opt_outs = OptOuts()
        self.reply_loops = ReplyLoopGuard(config.reply_loop_limit, config.reply_loop_window_s)
        self.attribution = Attribution(clock, config.attribution_window_s)
        self.effects = EffectAttribution(clock, config.attribution_window_s)
        self.outbound = OutboundRules(
            config,
            clock=clock,
            prices=prices,
            sids=self.sids,
            directory=self.directory,
            opt_outs=self.opt_outs,
            reply_loops=self.reply_loops,
            outcomes=self.outcomes,
            outcome_rng=self.outcome_rng,
        )
        self.media_base_url = "https://api.twilio.com"
        self._load()

    # -- setup ---------------------------------------------------------------------------------
    def _load(self) -> None:
        self.directory.load()
        for sid in self.directory.accounts:
            self._order[sid] = []

    def reset(self) -> None:
        """Forget every message, charge, opt-out and number change; keep the configuration."""
        self.messages.clear()
        self.billing.clear()
        self.opt_outs.clear()
        self.reply_loops.clear()
        self.attribution.clear()
        self.effects.clear()
        self.outbound.clear()
        self.directory.clear()
        self._order.clear()
        self.events.clear()
        self._load()
        self.events.emit(Reset())

    # -- the directory's parts, as callers know them -------------------------------------------
    @property
    def accounts(self) -> dict[str, Account]:
        return self.directory.accounts

    @property
    def numbers(self) -> dict[str, PhoneNumber]:
        return self.directory.numbers

    @property
    def services(self) -> dict[str, Service]:
        return self.directory.services

    @property
    def ledger(self) -> list[LedgerEntry]:
        return self.billing.ledger

    def add_number(self, n: NumberConfig) -> PhoneNumber:
        return self.directory.add_number(n)

    def remove_number(self, number: PhoneNumber) -> None:
        self.directory.remove_number(number)

    def authenticate(self, username: str, password: str) -> Account:
        return self.directory.authenticate(username, password)

    def numbers_of(self, account: Account) -> list[PhoneNumber]:
        return self.directory.numbers_of(account)

    def service_of(self, number: PhoneNumber) -> Service | None:
        return self.directory.service_of(number)

    # -- messages ------------------------------------------------------------------------------
    def message(self, account: Account, sid: str) -> Message | None:
        message = self.messages.get(sid)
        if message is None or message.account_sid != account.sid:
            return None
        return message

    def messages_of(self, account: Account) -> Iterable[Message]:
        """An account's messages, newest first."""
        messages = self.messages
        for sid in reversed(self._order.get(account.sid, ())):
            message = messages.get(sid)
            if message is not None:
                yield message

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
                InboundRejected(
                    source=source,
                    code=error.code,
                    error=error.message,
                    from_=from_,
                    to=to,
                    meta=meta or {},
                )
            )
            raise
        message, number = received.message, received.number
        keyword = str(received.keyword) if received.keyword else None
        self.events.emit(InboundReceived.of(message, source=source, keyword=keyword, meta=meta))
        self.billing.bill(message, Direction.INBOUND, cause=Cause(message.sid))
        if received.keyword is not None:
            self.events.emit(
                OptOutChanged(
                    inbound=message.sid,
                    keyword=str(received.keyword),
                    phone=message.from_ or "",
                    number=number.phone_number,
                )
            )
        if received.auto_reply is not None:
            self.events.emit(
                AutoReply(
                    inbound=message.sid,
                    from_=number.phone_number,
                    to=message.from_ or "",
                    body=received.auto_reply,
                )
            )
        return received

    def _receive(
        self, from_: str | None, to: str | None, body: str, media_urls: tuple[str, ...]
    ) -> Received:
        if not to or not to.strip():
            raise twilio_error(21604)
        number = self.directory.numbers.get(phone.normalize(to) or to)
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
        check_size(body, len(media_urls))
        now = self.clock.now()
        message = new_message(
            sid=self.sids.new(Prefix.MMS if media_urls else Prefix.SMS),
            account_sid=number.account_sid,
            direction=MessageDirection.INBOUND,
            from_=sender,
            to=number.phone_number,
            body=body,
            status=MessageStatus.RECEIVED,
            number_type=number.type,
            country=number.country,
            now=now,
            date_sent=now,
            messaging_service_sid=number.service_sid,
        )
        message.media = media_of(message, media_urls, self.sids)
        self._store(message)
        received = Received(message, number)
        if keywords.handles_keywords(number.type):
            received.keyword = keywords.classify(body)
        if received.keyword is not None:
            senders = self.directory.senders(number)
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
        """Validate, segment, price and queue an outbound message (`message.created`)."""
        if cause is None and request.direction is MessageDirection.OUTBOUND_API and request.to:
            send = Send(
                account=account.sid,
                to=phone.normalize(request.to) or request.to,
                from_=phone.normalize(request.from_ or "") or request.from_,
                service=request.messaging_service_sid,
            )
            cause = self.attribution.cause_for(send)
        cause = cause or Cause()
        try:
            message = self.outbound.prepare(account, request)
        except TwilioError as error:
            self.events.emit(
                MessageRejected(
                    inbound=cause.inbound,
                    attempt=cause.attempt,
                    account=account.sid,
                    direction=str(request.direction),
                    code=error.code,
                    error=error.message,
                    from_=request.from_,
                    to=request.to,
                    body=request.body,
                    attributed=cause.how,
                )
            )
            raise
        message.inbound_sid = cause.inbound
        message.attempt_sid = cause.attempt
        self._store(message)
        self.events.emit(MessageCreated.of(message, attributed=cause.how))
        return message

    def queue_delay(self, message: Message) -> float | None:
        """Seconds until the sender can start on `message`; None when its queue is full."""
        return self.outbound.queue_delay(message)

    def sender_backlog(self, sender: str) -> float:
        return self.outbound.sender_backlog(sender)

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
            MessageStatusChanged(
                inbound=message.inbound_sid,
                attempt=message.attempt_sid,
                message=message.sid,
                status=str(status),
                previous=str(previous),
                error_code=error_code,
            )
        )
        if (
            message.charge is None
            and status in (MessageStatus.SENT, MessageStatus.FAILED)
            and message.sid in self.messages
        ):
            cause = Cause(message.inbound_sid, message.attempt_sid)
            self.billing.bill(
                message, Direction.OUTBOUND, cause=cause, failed=status is MessageStatus.FAILED
            )

    # -- resource changes ----------------------------------------------------------------------
    def redact(self, message: Message) -> None:
        message.body = ""
        message.date_updated = self.clock.now()
        self.events.emit(
            MessageUpdated(message=message.sid, inbound=message.inbound_sid, redacted=True)
        )

    def cancel(self, message: Message) -> None:
        if message.status is not MessageStatus.SCHEDULED:
            raise twilio_error(30409)
        self.set_status(message, MessageStatus.CANCELED)

    def delete(self, message: Message) -> None:
        if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.ACCEPTED):
            raise twilio_error(20009)
        del self.messages[message.sid]
        self.events.emit(MessageDeleted(message=message.sid, inbound=message.inbound_sid))

    # -- storage -------------------------------------------------------------------------------
    def _store(self, message: Message) -> None:
        self.messages[message.sid] = message
        self._order.setdefault(message.account_sid, []).append(message.sid)
