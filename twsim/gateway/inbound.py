"""Inbound handling: call the app's webhook for a received text and carry out its answer.

Follows Twilio: the number's (or its Messaging Service's) URL and method, signed form
parameters, the conversation's cookies. The answer is read as TwiML, plain text or
nothing; each `<Message>` becomes an `outbound-reply` through `State.create_message`;
`<Redirect>` is followed (at most `max_redirects` times). When the app fails (no
connection, timeout, non-2xx, bad TwiML, wrong content type) the failure is recorded
with Twilio's code and the fallback URL, if any, is called with `ErrorCode` and `ErrorUrl`
(the URL whose answer failed).

Relative URLs in an answer (`<Redirect>`, `action`, `statusCallback`, `<Media>`) resolve
against the URL of the document they came in, after HTTP redirects, as the app sees it.
Behind `webhook.public_base_url`, absolute URLs under that base are dialled on the
configured URL's origin, so an app that writes its public URLs still gets called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from twsim.config.models import WebhookConfig
from twsim.core.answer import Answer, AnswerKind, interpret
from twsim.core.errors import TwilioError, TwimlError, WebhookError, message_for
from twsim.core.lifecycle import MessageDirection
from twsim.core.limits import MAX_TWIML_REPLIES
from twsim.core.twiml import MessageVerb, Plan
from twsim.gateway.caller import AppCaller
from twsim.gateway.cookies import ConversationCookies
from twsim.gateway.exchanges import MAX_ANSWER_BYTES, Exchange, Exchanges
from twsim.gateway.urls import dialled_url, signing_url
from twsim.gateway.webhook_client import WebhookResult
from twsim.gateway.webhook_params import inbound_params
from twsim.model.attribution import IN_FLIGHT, TWIML, Cause
from twsim.model.events import (
    Event,
    MessageCreated,
    TwimlExecuted,
    TwimlWarning,
    WebhookAttempt,
)
from twsim.model.records import Account, Message, PhoneNumber
from twsim.model.state import OutboundRequest, Received, State

# REST validation codes and the TwiML warning they become on a <Message>.
_VERB_CODES = {
    21211: 14101,
    21604: 14101,
    21212: 14102,
    21603: 14102,
    21606: 14102,
    21602: 14103,
    21617: 14103,
    21609: 14105,
}


@dataclass(slots=True)
class Attempt:
    """One request to the app: primary, redirect or fallback."""

    sid: str
    kind: str
    url: str
    method: str
    http_status: int | None
    latency_ms: float
    error_code: int | None
    answer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "kind": self.kind,
            "url": self.url,
            "method": self.method,
            "http_status": self.http_status,
            "latency_ms": self.latency_ms,
            "error_code": self.error_code,
            "answer": self.answer,
        }


@dataclass(slots=True)
class InboundOutcome:
    """What happened to one inbound text: the webhook calls, the TwiML replies, the REST
    sends the app made while its webhook was in flight, and the warnings and errors."""

    inbound: Message
    attempts: list[Attempt] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)
    sends: list[Message] = field(default_factory=list)
    error_code: int | None = None
    warnings: list[int] = field(default_factory=list)
    problems: list[TwilioError] = field(default_factory=list)  # the warnings, with their text


@dataclass(slots=True)
class _Handling:
    """One inbound text being handled: its outcome so far, its account and its number."""

    outcome: InboundOutcome
    account: Account
    number: PhoneNumber
    replies_left: int = MAX_TWIML_REPLIES  # Twilio sends at most 10 per incoming message

    @property
    def inbound(self) -> Message:
        return self.outcome.inbound


class InboundHandler:
    def __init__(
        self,
        state: State,
        *,
        caller: AppCaller,
        cookies: ConversationCookies,
        webhook: WebhookConfig,
        exchanges: Exchanges | None = None,
    ) -> None:
        self.state = state
        self.caller = caller
        self.cookies = cookies
        self.webhook = webhook
        self._in_flight: dict[str, InboundOutcome] = {}
        self.exchanges = exchanges if exchanges is not None else Exchanges()

    def on_event(self, event: Event) -> None:
        """Note the REST sends each text's webhook makes while in flight (subscribe this)."""
        if type(event) is MessageCreated and event.attributed == IN_FLIGHT and event.inbound:
            outcome = self._in_flight.get(event.inbound)
            message = self.state.messages.get(event.message or "")
            if outcome is not None and message is not None:
                outcome.sends.append(message)

    async def handle(self, received: Received) -> InboundOutcome:
        message = received.message
        outcome = InboundOutcome(message)
        self._in_flight[message.sid] = outcome
        try:
            await self._handle(received, outcome)
        finally:
            del self._in_flight[message.sid]
        return outcome

    async def _handle(self, received: Received, outcome: InboundOutcome) -> None:
        message, number = received.message, received.number
        target = self.state.directory.webhook_of(number)
        account = self.state.accounts.get(message.account_sid)
        if target is None or account is None:
            return
        handling = _Handling(outcome, account, number)
        params = inbound_params(message, self.state.media_base_url)
        answer, failed_url = await self._exchange(
            handling, "primary", target.url, target.method, params
        )
        if answer.kind is AnswerKind.ERROR and target.fallback_url:
            assert answer.error is not None
            fallback_params = [
                *params,
                ("ErrorCode", str(answer.error.code)),
                ("ErrorUrl", failed_url),
            ]
            await self._exchange(
                handling, "fallback", target.fallback_url, target.fallback_method, fallback_params
            )

    async def _exchange(
        self, handling: _Handling, kind: str, url: str, method: str, params: list[tuple[str, str]]
    ) -> tuple[Answer, str]:
        """Call `url`, carry out the answer, and follow redirects.

        Returns the last answer and the URL it came from (as the app sees it).
        """
        outcome = handling.outcome
        max_redirects = self.webhook.max_redirects
        redirects = 0
        while True:
            result, attempt_sid = await self._call(handling, kind, url, method, params)
            doc_url = result.final_url or url.partition("#")[0]
            shown_url = signing_url(doc_url, self.webhook.public_base_url)
            answer = self._answer(result)
            plan = answer.document.plan() if answer.document is not None else None
            outcome.attempts[-1].answer = str(answer.kind)
            self._record_answer(outcome, attempt_sid, answer, plan)
            if answer.kind is AnswerKind.ERROR:
                assert answer.error is not None
                outcome.error_code = answer.error.code
                return answer, shown_url
            cause = Cause(outcome.inbound.sid, attempt_sid, TWIML)
            verbs = list(plan.messages) if plan is not None else []
            if answer.kind is AnswerKind.TEXT and answer.text:
                verbs = [MessageVerb(body=answer.text)]
            self._replies(handling, verbs, doc_url, cause)
            if plan is None or plan.redirect is None:
                return answer, shown_url
            redirects += 1
            if redirects > max_redirects:
                error = WebhookError(11215, f"More than {max_redirects} <Redirect>s")
                outcome.error_code = error.code
                self._emit_warning(outcome, attempt_sid, error)
                return Answer(AnswerKind.ERROR, error=error), shown_url
            url = self._resolve(doc_url, plan.redirect.url)
            method = plan.redirect.method
            kind = "redirect"

    def _resolve(self, doc_url: str, reference: str) -> str:
        """A URL from the app's TwiML, relative to the document it came in, made dialable."""
        public = self.webhook.public_base_url
        return dialled_url(urljoin(signing_url(doc_url, public), reference), public, doc_url)

    async def _call(
        self, handling: _Handling, kind: str, url: str, method: str, params: list[tuple[str, str]]
    ) -> tuple[WebhookResult, str]:
        outcome, account, number = handling.outcome, handling.account, handling.number
        inbound = outcome.inbound
        phone = inbound.from_ or ""
        attempt_sid = self.state.sids.new("WA")
        cookies = self.cookies.get(phone, number.phone_number)
        attribution = self.state.attribution
        attribution.opened(
            inbound.sid,
            attempt_sid,
            account=account.sid,
            phone=phone,
            number=number.phone_number,
            service=number.service_sid,
        )
        effects = self.state.effects
        effects.opened(inbound.sid, attempt_sid, phone)
        try:
            result = await self.caller.call(account, url, method, params, cookies)
        finally:
            attribution.closed(inbound.sid)
            effects.closed(inbound.sid)
        self.cookies.update(phone, number.phone_number, result.set_cookies)
        latency_ms = round(result.latency_s * 1000, 3)
        outcome.attempts.append(
            Attempt(
                attempt_sid,
                kind,
                result.url,
                method,
                result.status,
                latency_ms,
                result.error_code,
                "",
            )
        )
        self.exchanges.add(
            Exchange(
                attempt=attempt_sid,
                account=account.sid,
                method=method,
                url=result.url,
                signed_url=signing_url(result.url.partition("#")[0], self.webhook.public_base_url),
                params=params,
                status=result.status,
                content_type=result.content_type,
                answer=result.body[:MAX_ANSWER_BYTES],
                answer_bytes=len(result.body),
            )
        )
        self.state.events.emit(
            WebhookAttempt(
                inbound=inbound.sid,
                attempt=attempt_sid,
                message=inbound.sid,
                kind=kind,
                url=result.url,
                method=method,
                http_status=result.status,
                content_type=result.content_type,
                latency_ms=latency_ms,
                tries=result.attempts,
                error_code=result.error_code,
                error=result.error,
                queued_ms=round(result.queued_s * 1000, 3) if result.queued_s > 1e-4 else None,
            )
        )
        return result, attempt_sid

    @staticmethod
    def _answer(result: WebhookResult) -> Answer:
        if result.error_code is not None or result.status is None:
            code = result.error_code or 11200
            return Answer(AnswerKind.ERROR, error=WebhookError(code, result.error))
        return interpret(result.status, result.content_type, result.body)

    def _record_answer(
        self, outcome: InboundOutcome, attempt_sid: str, answer: Answer, plan: Plan | None
    ) -> None:
        if answer.kind is AnswerKind.ERROR:
            assert answer.error is not None
            self._emit_warning(outcome, attempt_sid, answer.error)
            return
        for warning in answer.document.warnings if answer.document else ():
            self._emit_warning(outcome, attempt_sid, warning)
        if plan is not None:
            messages = len(plan.messages)
        else:
            messages = 1 if answer.kind is AnswerKind.TEXT and answer.text else 0
        self.state.events.emit(
            TwimlExecuted(
                inbound=outcome.inbound.sid,
                attempt=attempt_sid,
                answer=str(answer.kind),
                messages=messages,
                redirect=plan.redirect.url if plan and plan.redirect else None,
            )
        )

    def _emit_warning(self, outcome: InboundOutcome, attempt_sid: str, error: TwilioError) -> None:
        outcome.warnings.append(error.code)
        outcome.problems.append(error)
        self.state.events.emit(
            TwimlWarning(
                inbound=outcome.inbound.sid,
                attempt=attempt_sid,
                code=error.code,
                error=error.message,
                fatal=getattr(error, "fatal", True),
            )
        )

    def _replies(
        self, handling: _Handling, verbs: list[MessageVerb], doc_url: str, cause: Cause
    ) -> None:
        """Send the answer's replies, up to Twilio's limit per incoming message (14109)."""
        allowed = verbs[: handling.replies_left]
        for verb in allowed:
            self._reply(handling, verb, doc_url, cause)
        handling.replies_left -= len(allowed)
        over = len(verbs) - len(allowed)
        if over:
            warning = TwimlError(
                14109,
                f"{message_for(14109)}: {over} <Message> verb(s) not sent; Twilio sends at "
                f"most {MAX_TWIML_REPLIES} TwiML replies to one incoming message",
                fatal=False,
            )
            self._emit_warning(handling.outcome, cause.attempt or "", warning)

    def _reply(self, handling: _Handling, verb: MessageVerb, doc_url: str, cause: Cause) -> None:
        outcome = handling.outcome
        inbound = outcome.inbound
        callback = verb.callback_url
        shown_url = signing_url(doc_url, self.webhook.public_base_url)
        request = OutboundRequest(
            to=verb.to or inbound.from_,
            from_=verb.from_ or inbound.to,
            body=verb.body,
            media_urls=tuple(urljoin(shown_url, m) for m in verb.media),
            status_callback=self._resolve(doc_url, callback) if callback else None,
            status_callback_method=verb.method,
            direction=MessageDirection.OUTBOUND_REPLY,
        )
        try:
            outcome.replies.append(
                self.state.create_message(handling.account, request, cause=cause)
            )
        except TwilioError as error:
            code = _VERB_CODES.get(error.code, error.code)
            self._emit_warning(
                outcome, cause.attempt or "", TwimlError(code, error.message, fatal=False)
            )
