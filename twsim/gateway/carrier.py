"""The carrier: carries each outbound message through its statuses and calls its callbacks.

For every created message it waits for the sender's queue, then walks the steps the
lifecycle rules give (sending, sent, delivered or undelivered or failed), asking the state
to record each one and sending a signed status callback for the statuses Twilio reports.
Callbacks run beside the lifecycle: a slow or failing callback is recorded and never
holds the message back or harms it.
"""

from __future__ import annotations

import asyncio

from twsim.core.lifecycle import (
    CALLBACK_STATUSES,
    DELIVERED,
    INSTANT,
    MessageStatus,
    Timing,
    delivery_steps,
)
from twsim.gateway.background import Background
from twsim.gateway.caller import AppCaller
from twsim.gateway.media import MediaFetcher
from twsim.gateway.webhook_params import status_params
from twsim.model.clock import Clock
from twsim.model.events import CallbackAttempt, Event, MessageCreated
from twsim.model.records import Message
from twsim.model.state import State


class Carrier:
    def __init__(
        self,
        state: State,
        *,
        caller: AppCaller,
        media: MediaFetcher,
        background: Background,
        timing: Timing,
        clock: Clock,
    ) -> None:
        self.state = state
        self.caller = caller
        self.media = media
        self.background = background
        self.timing = timing
        self.clock = clock
        self._callbacks: dict[str, asyncio.Task[None]] = {}

    def on_event(self, event: Event) -> None:
        """Start carrying every message the state creates (subscribe this to its log)."""
        if type(event) is MessageCreated and event.message is not None:
            message = self.state.messages.get(event.message)
            if message is not None:
                self.start(message)

    def start(self, message: Message) -> None:
        if (
            self.timing.instant
            and message.status is MessageStatus.QUEUED
            and not message.queue_delay_s
            and not message.media  # media are fetched first
        ):
            self.background.soon(self._carry_now, message)  # nothing to wait for: no Task
        else:
            self.background.spawn(self._carry(message))

    def _carry_now(self, message: Message) -> None:
        state = self.state
        for step in delivery_steps(message.outcome or DELIVERED, INSTANT, state.outcome_rng):
            if message.sid not in state.messages:
                return  # deleted meanwhile
            self._move(message, step.status, step.error_code)

    async def _carry(self, message: Message) -> None:
        state, clock = self.state, self.clock
        if message.status is MessageStatus.SCHEDULED and message.send_at is not None:
            await clock.sleep((message.send_at - clock.now()).total_seconds())
            if not self._alive(message, MessageStatus.SCHEDULED):
                return
            self._move(message, MessageStatus.QUEUED)
        elif message.status is MessageStatus.ACCEPTED:
            self._move(message, MessageStatus.QUEUED)
        if message.media:
            failed = await self.media.fetch(message)
            if failed is not None:
                if message.sid in state.messages:
                    self._move(message, MessageStatus.FAILED, failed)
                return
        outcome = message.outcome or DELIVERED
        for step in delivery_steps(outcome, self.timing, state.outcome_rng, message.queue_delay_s):
            if step.delay > 0:
                await clock.sleep(step.delay)
            if message.sid not in state.messages:
                return  # deleted meanwhile
            self._move(message, step.status, step.error_code)

    def _alive(self, message: Message, status: MessageStatus) -> bool:
        return message.sid in self.state.messages and message.status is status

    def _move(self, message: Message, status: MessageStatus, error_code: int | None = None) -> None:
        self.state.set_status(message, status, error_code)
        if status in CALLBACK_STATUSES and message.status_callback:
            self._queue_callback(message, status)

    def _queue_callback(self, message: Message, status: MessageStatus) -> None:
        """Send a callback without holding the message back; one message's callbacks go
        out one after another, in status order."""
        sid = message.sid
        task = self.background.spawn(self._after(self._callbacks.get(sid), message, status))
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
        account = self.state.accounts.get(message.account_sid)
        if account is None or not message.status_callback:
            return
        dlr = self.clock.now().strftime("%y%m%d%H%M")
        params = status_params(message, status, dlr)
        result = await self.caller.call(
            account, message.status_callback, message.status_callback_method, params
        )
        failed = result.status is not None and result.status >= 400
        self.state.events.emit(
            CallbackAttempt(
                inbound=message.inbound_sid,
                attempt=message.attempt_sid,
                message=message.sid,
                status=str(status),
                url=result.url,
                method=result.method,
                http_status=result.status,
                latency_ms=round(result.latency_s * 1000, 3),
                error_code=result.error_code or (11200 if failed else None),
                error=result.error,
                attempts=result.attempts,
            )
        )
