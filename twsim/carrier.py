"""The carrier: carries each outbound message through its statuses and calls its callbacks.

For every created message it waits for the sender's queue, then walks the steps the
lifecycle rules give (sending, sent, delivered or undelivered or failed), asking the state
to record each one and sending a signed status callback for the statuses Twilio reports.
Callbacks run beside the lifecycle: a slow or failing callback is recorded and never
holds the message back or harms it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from twsim.core.lifecycle import (
    CALLBACK_STATUSES,
    DELIVERED,
    INSTANT,
    MessageStatus,
    delivery_steps,
)
from twsim.delivery import WebhookRequest
from twsim.events import EventType
from twsim.model import Message
from twsim.webhook_params import status_params

if TYPE_CHECKING:
    from twsim.gateway import Gateway


class Carrier:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._callbacks: dict[str, asyncio.Task[None]] = {}

    def start(self, message: Message) -> None:
        timing = self.gateway.config.delivery.timing
        if timing.instant and message.status is MessageStatus.QUEUED and not message.queue_delay_s:
            self.gateway.soon(self._carry_now, message)  # nothing to wait for: no Task needed
        else:
            self.gateway.spawn(self._carry(message))

    def _carry_now(self, message: Message) -> None:
        state = self.gateway.state
        for step in delivery_steps(message.outcome or DELIVERED, INSTANT, state.outcome_rng):
            if message.sid not in state.messages:
                return  # deleted meanwhile
            self._move(message, step.status, step.error_code)

    async def _carry(self, message: Message) -> None:
        gateway = self.gateway
        state, clock = gateway.state, gateway.clock
        if message.status is MessageStatus.SCHEDULED and message.send_at is not None:
            await clock.sleep((message.send_at - clock.now()).total_seconds())
            if not self._alive(message, MessageStatus.SCHEDULED):
                return
            self._move(message, MessageStatus.QUEUED)
        elif message.status is MessageStatus.ACCEPTED:
            self._move(message, MessageStatus.QUEUED)
        outcome = message.outcome or DELIVERED
        timing = gateway.config.delivery.timing
        for step in delivery_steps(outcome, timing, state.outcome_rng, message.queue_delay_s):
            if step.delay > 0:
                await clock.sleep(step.delay)
            if message.sid not in state.messages:
                return  # deleted meanwhile
            self._move(message, step.status, step.error_code)

    def _alive(self, message: Message, status: MessageStatus) -> bool:
        return message.sid in self.gateway.state.messages and message.status is status

    def _move(self, message: Message, status: MessageStatus, error_code: int | None = None) -> None:
        self.gateway.state.set_status(message, status, error_code)
        if status in CALLBACK_STATUSES and message.status_callback:
            self._queue_callback(message, status)

    def _queue_callback(self, message: Message, status: MessageStatus) -> None:
        """Send a callback without holding the message back; one message's callbacks go
        out one after another, in status order."""
        sid = message.sid
        task = self.gateway.spawn(self._after(self._callbacks.get(sid), message, status))
        self._callbacks[sid] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._callbacks.get(sid) is done:
                del self._callbacks[sid]

        task.add_done_callback(forget)

    async def _after(
        self, previous: asyncio.Task[None] | None, message: Message, status: MessageStatus
    ) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        await self.callback(message, status)

    async def callback(self, message: Message, status: MessageStatus) -> None:
        """Send the status callback for `status`; record how it went."""
        gateway = self.gateway
        account = gateway.state.accounts.get(message.account_sid)
        if account is None or not message.status_callback:
            return
        dlr = gateway.clock.now().strftime("%y%m%d%H%M")
        request = WebhookRequest(
            url=message.status_callback,
            method=message.status_callback_method,
            params=status_params(message, status, dlr),
            signer=gateway.signer(account),
            idempotency_token=gateway.idempotency_token(),
            settings=gateway.connection,
            public_base_url=gateway.config.webhook.public_base_url,
        )
        result = await gateway.client.send(request)
        gateway.events.emit(
            EventType.CALLBACK_ATTEMPT,
            inbound=message.inbound_sid,
            attempt=message.attempt_sid,
            message=message.sid,
            status=str(status),
            url=result.url,
            method=result.method,
            http_status=result.status,
            latency_ms=round(result.latency_s * 1000, 3),
            error_code=result.error_code
            if result.error_code
            else (11200 if result.status and result.status >= 400 else None),
            error=result.error,
            attempts=result.attempts,
        )
