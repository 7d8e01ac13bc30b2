"""Outbound rules: what a request to send becomes, before the gateway stores it.

A request (`OutboundRequest`, from a REST call or a TwiML `<Message>`) is checked in the
order Twilio checks it, each failure raising Twilio's error: recipient, Messaging Service
and sender, body and media, the magic test numbers, the sender's account, opt-outs, the
status callback URL, and whether the price table can price it (21408). A request that
passes becomes a `Message` whose end is already decided: the sender's queue under pacing
(full: 21611, or failed with 30001 when a Messaging Service picked the sender), the
reply-loop guard (14107), else the configured delivery outcomes. Nothing here emits
events or stores the message; `State.create_message` does that.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from twsim.config.models import Config
from twsim.core import phone
from twsim.core.errors import twilio_error
from twsim.core.ids import Prefix, SidFactory
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
from twsim.core.limits import check_size
from twsim.core.pricing import Channel, Direction, PriceKey, PriceTable, PricingError
from twsim.core.segments import segment
from twsim.model.clock import Clock
from twsim.model.directory import DEFAULT_COUNTRY, Directory
from twsim.model.optouts import OptOuts
from twsim.model.records import Account, Message, PhoneNumber, Service, media_of, new_message
from twsim.model.reply_loop import ReplyLoopGuard


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


class OutboundRules:
    """Checks send requests and makes their messages; owns one queue per sender (pacing)."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock,
        prices: PriceTable,
        sids: SidFactory,
        directory: Directory,
        opt_outs: OptOuts,
        reply_loops: ReplyLoopGuard,
        outcomes: OutcomePolicy,
        outcome_rng: random.Random,
    ) -> None:
        self.config = config
        self.clock = clock
        self.prices = prices
        self.sids = sids
        self.directory = directory
        self.opt_outs = opt_outs
        self.reply_loops = reply_loops
        self.outcomes = outcomes
        self.outcome_rng = outcome_rng
        self._queues: dict[str, SenderQueue] = {}

    def prepare(self, account: Account, request: OutboundRequest) -> Message:
        """The message `request` asks for, with its outcome decided; raises Twilio's error.

        The checks run in the order Twilio runs them: the account, the recipient and the
        sender, the content, the parties (magic numbers, ownership, opt-outs), the status
        callback, and whether the price table can price it.
        """
        if account.status != "active":
            raise twilio_error(10001)
        to = phone.parse_to(request.to)
        service = self.directory.service(account, request.messaging_service_sid)
        sender = self._sender(request, service)
        body = request.body or ""
        self._check_content(body, request.media_urls)
        number = self._check_parties(account, sender, to)
        if request.status_callback and not request.status_callback.startswith(
            ("http://", "https://")
        ):
            raise twilio_error(21609, url=request.status_callback)
        country = phone.country_of(to) or DEFAULT_COUNTRY
        self._check_priced(request, number, country, to, body)
        message = self._message(account, request, service, number, sender, to, country)
        self._decide_end(message, request)
        return message

    @staticmethod
    def _sender(request: OutboundRequest, service: Service | None) -> str:
        """The sending number: `From`, else the Messaging Service's first number."""
        if request.from_:
            return phone.parse_from(request.from_)
        if service is None:
            raise twilio_error(21603)
        if not service.numbers:
            raise twilio_error(21606, number="(no sender in the Messaging Service)")
        return service.numbers[0]

    @staticmethod
    def _check_content(body: str, media_urls: tuple[str, ...]) -> None:
        if not body and not media_urls:
            raise twilio_error(21602)
        check_size(body, len(media_urls))
        if any(not u.startswith(("http://", "https://")) for u in media_urls):
            raise twilio_error(21620)

    def _check_parties(self, account: Account, sender: str, to: str) -> PhoneNumber:
        """The sender's number, once sender and recipient may talk; Twilio's error if not."""
        magic = self.config.delivery.magic_numbers
        if magic and sender in MAGIC_FROM:
            raise twilio_error(MAGIC_FROM[sender], number=sender)
        number = self.directory.numbers.get(sender)
        if number is None or number.account_sid != account.sid:
            raise twilio_error(21606, number=sender)
        if magic and to in MAGIC_TO:
            raise twilio_error(MAGIC_TO[to], number=to, sender=sender)
        if to == sender:
            raise twilio_error(21211, number=to)
        if self.opt_outs.blocked(to, self.directory.senders(number)):
            raise twilio_error(21610)
        return number

    def _check_priced(
        self, request: OutboundRequest, number: PhoneNumber, country: str, to: str, body: str
    ) -> None:
        """21408 when the price table has no price for this message."""
        segments = segment(body, smart_encoding=request.smart_encoded).count
        channel = Channel.MMS if request.media_urls else Channel.SMS
        try:
            self.prices.charge(
                PriceKey(country, number.type, Direction.OUTBOUND, channel), segments
            )
        except PricingError:
            raise twilio_error(21408, number=to) from None

    def _message(
        self,
        account: Account,
        request: OutboundRequest,
        service: Service | None,
        number: PhoneNumber,
        sender: str,
        to: str,
        country: str,
    ) -> Message:
        status = MessageStatus.QUEUED
        if request.send_at is not None:
            status = MessageStatus.SCHEDULED
        elif service is not None and not request.from_:
            status = MessageStatus.ACCEPTED
        message = new_message(
            sid=self.sids.new(Prefix.MMS if request.media_urls else Prefix.SMS),
            account_sid=account.sid,
            direction=request.direction,
            from_=sender,
            to=to,
            body=request.body or "",
            status=status,
            number_type=number.type,
            country=country,
            now=self.clock.now(),
            smart_encoded=request.smart_encoded,
            messaging_service_sid=service.sid if service else number.service_sid,
        )
        message.status_callback = (
            request.status_callback
            or (service.status_callback if service else None)
            or number.status_callback
        )
        message.status_callback_method = request.status_callback_method
        message.send_at = request.send_at
        message.media = media_of(message, request.media_urls, self.sids)
        return message

    def _decide_end(self, message: Message, request: OutboundRequest) -> None:
        """How the message will end: the sender's queue, the reply-loop guard, else the
        configured outcomes."""
        delay = self.queue_delay(message)
        if delay is None:
            if request.from_:
                raise twilio_error(21611)
            message.outcome = Outcome(MessageStatus.FAILED, 30001)
        else:
            message.queue_delay_s = delay
        sender = message.from_ or ""
        if message.direction is MessageDirection.OUTBOUND_REPLY and not self.reply_loops.allow(
            sender, message.to, self.clock.monotonic()
        ):
            message.outcome = Outcome(MessageStatus.FAILED, 14107)
        if message.outcome is None:
            message.outcome = self.outcomes.decide(message.to, self.outcome_rng)

    # -- pacing --------------------------------------------------------------------------------
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

    def clear(self) -> None:
        """Empty every sender's queue."""
        self._queues.clear()
