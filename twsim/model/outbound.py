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
from twsim.model.records import Account, Message, media_of, new_message
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
        """The message `request` asks for, with its outcome decided; raises Twilio's error."""
        if account.status != "active":
            raise twilio_error(10001)
        to = phone.parse_to(request.to)
        service = self.directory.service(account, request.messaging_service_sid)
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
        check_size(body, len(request.media_urls))
        if any(not u.startswith(("http://", "https://")) for u in request.media_urls):
            raise twilio_error(21620)
        if self.config.delivery.magic_numbers and sender in MAGIC_FROM:
            raise twilio_error(MAGIC_FROM[sender], number=sender)
        number = self.directory.numbers.get(sender)
        if number is None or number.account_sid != account.sid:
            raise twilio_error(21606, number=sender)
        if self.config.delivery.magic_numbers and to in MAGIC_TO:
            raise twilio_error(MAGIC_TO[to], number=to, sender=sender)
        if to == sender:
            raise twilio_error(21211, number=to)
        if self.opt_outs.blocked(to, self.directory.senders(number)):
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
        message = new_message(
            sid=self.sids.new(Prefix.MMS if request.media_urls else Prefix.SMS),
            account_sid=account.sid,
            direction=request.direction,
            from_=sender,
            to=to,
            body=body,
            status=status,
            number_type=number.type,
            country=country,
            now=now,
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
