"""What the web page reads besides the event stream: conversations, one message in detail,
one webhook attempt in detail, the running report with its series.

    GET /_twsim/overview                    the gateway's numbers and counts
    GET /_twsim/conversations?limit&offset&q  phones by latest activity, with counts
    GET /_twsim/messages/{sid}              a message: segments, price, error, cause chain
    GET /_twsim/attempts/{sid}              a webhook attempt: parameters, signature, answer
    GET /_twsim/summary                     the running report and its time series

Details are read from the state and the event log as they are; nothing here changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from aiohttp import web

from twsim.core.errors import CATALOG, ApiError, describe
from twsim.core.lifecycle import MessageDirection
from twsim.core.pricing import format_money
from twsim.core.segments import segment
from twsim.gateway.runtime import Gateway
from twsim.model.events import (
    Event,
    MessageCreated,
    MessageStatusChanged,
    TwimlExecuted,
    TwimlWarning,
    WebhookAttempt,
)
from twsim.model.records import Message
from twsim.server.control import message_view
from twsim.server.json_stream import int_param, json_answer
from twsim.server.keys import GATEWAY, REPORT_PRICES
from twsim.server.live_summary import LiveSummary

SUMMARY = web.AppKey("summary", LiveSummary)
SNIPPET_CHARS = 80
DEFAULT_CONVERSATIONS = 50
MAX_CONVERSATIONS = 500


def add_routes(app: web.Application, prefix: str) -> None:
    gateway = app[GATEWAY]
    app[SUMMARY] = LiveSummary(gateway.events, app.get(REPORT_PRICES) or gateway.prices)
    app.router.add_get(prefix + "/overview", overview)
    app.router.add_get(prefix + "/conversations", conversations)
    app.router.add_get(prefix + "/messages/{sid}", message_detail)
    app.router.add_get(prefix + "/attempts/{sid}", attempt_detail)
    app.router.add_get(prefix + "/summary", summary)

    async def detach(app: web.Application) -> None:
        app[SUMMARY].close()

    app.on_cleanup.append(detach)


async def overview(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    return json_answer(
        {
            "version": version("twsim"),
            "numbers": [
                {
                    "phone_number": n.phone_number,
                    "type": str(n.type),
                    "sms_url": n.sms_url,
                    "sms_method": n.sms_method,
                }
                for n in gateway.state.numbers.values()
            ],
            "messages": len(gateway.state.messages),
            "last_seq": gateway.events.last_seq,
            "currency": gateway.prices.currency,
            "codes": {str(code): describe(code) for code in sorted(CATALOG)},
        }
    )


@dataclass(slots=True)
class Conversation:
    """One phone's messages with the gateway's numbers, as its phone shows them."""

    phone: str
    numbers: set[str] = field(default_factory=set)
    inbound: int = 0
    outbound: int = 0
    failed: int = 0
    order: int = 0
    last: Message | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        last = self.last
        assert last is not None
        return {
            "phone": self.phone,
            "numbers": sorted(self.numbers),
            "inbound": self.inbound,
            "outbound": self.outbound,
            "failed": self.failed,
            "last": {
                "sid": last.sid,
                "direction": str(last.direction),
                "status": str(last.status),
                "body": last.body[:SNIPPET_CHARS],
                "date_created": last.date_created.isoformat(),
            },
        }


def phone_and_number(message: Message) -> tuple[str, str]:
    """(phone, gateway number) of a message, whichever way it went."""
    if message.direction is MessageDirection.INBOUND:
        return message.from_ or "", message.to
    return message.to, message.from_ or message.messaging_service_sid or ""


_FAILED = frozenset({"failed", "undelivered"})


async def conversations(request: web.Request) -> web.Response:
    """Conversations by latest message, newest first, `limit` from `offset`; `q` filters
    on the phone number."""
    state = request.app[GATEWAY].state
    limit = int_param(request, "limit", DEFAULT_CONVERSATIONS, lo=1, hi=MAX_CONVERSATIONS)
    offset = int_param(request, "offset", 0, lo=0, hi=10**9)
    query = (request.query.get("q") or "").strip()
    found: dict[str, Conversation] = {}
    for order, message in enumerate(state.messages.values()):
        phone, number = phone_and_number(message)
        if query and query not in phone:
            continue
        item = found.get(phone)
        if item is None:
            item = found[phone] = Conversation(phone)
        item.numbers.add(number)
        if message.direction is MessageDirection.INBOUND:
            item.inbound += 1
        else:
            item.outbound += 1
            if message.status in _FAILED:
                item.failed += 1
        item.order = order
        item.last = message
    ordered = sorted(found.values(), key=lambda c: -c.order)
    page = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)
    return json_answer(
        {
            "conversations": [c.to_json() for c in page],
            "total": len(ordered),
            "next": offset + limit if more else None,
        }
    )


def _message(gateway: Gateway, sid: str) -> Message:
    message = gateway.state.messages.get(sid)
    if message is None:
        raise ApiError(20404, f"No message {sid} (it may have been reset or deleted)", status=404)
    return message


def _summary(message: Message) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "direction": str(message.direction),
        "from": message.from_,
        "to": message.to,
        "body": message.body,
        "status": str(message.status),
    }


def _attempt(event: WebhookAttempt) -> dict[str, Any]:
    return {"sid": event.attempt, **event.data()}


def _price(message: Message, currency: str) -> dict[str, Any] | None:
    charge = message.charge
    if charge is None:
        return None
    return {
        "total": format_money(charge.total),
        "price": format_money(charge.base),
        "carrier_fee": format_money(charge.carrier_fee),
        "units": charge.units,
        "unit_price": f"{charge.unit_price:f}",
        "kind": str(charge.kind),
        "currency": currency,
    }


async def message_detail(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    message = _message(gateway, request.match_info["sid"])
    sid = message.sid
    seg = segment(message.body)
    history: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    caused: list[str] = []
    attributed: str | None = None
    cause_attempt: dict[str, Any] | None = None
    for event in _related(gateway, sid, message.inbound_sid):
        if event.message == sid and isinstance(event, MessageStatusChanged):
            history.append({"t": event.t, "seq": event.seq, **event.data()})
        elif isinstance(event, MessageCreated):
            if event.message == sid:
                attributed = event.attributed
            elif event.inbound == sid:
                caused.append(event.message or "")
        elif isinstance(event, WebhookAttempt):
            if event.inbound == sid:
                attempts.append(_attempt(event))
            if message.attempt_sid is not None and event.attempt == message.attempt_sid:
                cause_attempt = _attempt(event)
    inbound = gateway.state.messages.get(message.inbound_sid or "")
    caused_messages = [m for m in (gateway.state.messages.get(s) for s in caused) if m]
    return json_answer(
        {
            "message": message_view(message),
            "encoding": str(seg.encoding),
            "segments": list(seg.segments),
            "ucs2_chars": [{"char": c, "codepoint": f"U+{ord(c):04X}"} for c in seg.ucs2_chars],
            "media": [m.url for m in message.media],
            "price": _price(message, gateway.prices.currency),
            "error": describe(message.error_code) if message.error_code else None,
            "cause": {
                "inbound": _summary(inbound) if inbound is not None else None,
                "attempt": cause_attempt,
                "attributed": attributed,
            },
            "caused": {
                "attempts": attempts,
                "messages": [_summary(m) for m in caused_messages],
            },
            "history": history,
        }
    )


def _related(gateway: Gateway, sid: str, inbound: str | None) -> list[Event]:
    """The events about a message or caused by it, and those of the text that caused it."""
    roots = {sid} if inbound is None else {sid, inbound}
    return [e for e in gateway.events if e.message == sid or e.inbound in roots]


async def attempt_detail(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    sid = request.match_info["sid"]
    found = [e for e in gateway.events if e.attempt == sid]
    attempt = next((e for e in found if isinstance(e, WebhookAttempt)), None)
    exchange = gateway.exchanges.get(sid)
    if attempt is None and exchange is None:
        raise ApiError(20404, f"No webhook attempt {sid} (it may have been reset)", status=404)
    executed = next((e for e in found if isinstance(e, TwimlExecuted)), None)
    created = [e.message or "" for e in found if isinstance(e, MessageCreated)]
    exchange_json: dict[str, Any] | None = None
    if exchange is not None:
        account = gateway.state.accounts.get(exchange.account)
        exchange_json = {
            "method": exchange.method,
            "url": exchange.url,
            "signed_url": exchange.signed_url,
            "params": [list(p) for p in exchange.params],
            "signature": exchange.signature(gateway.caller.signer(account)) if account else None,
            "status": exchange.status,
            "content_type": exchange.content_type,
            "answer": exchange.answer.decode("utf-8", errors="replace"),
            "answer_bytes": exchange.answer_bytes,
            "answer_truncated": exchange.answer_bytes > len(exchange.answer),
        }
    inbound_sid = attempt.inbound if attempt is not None else None
    inbound = gateway.state.messages.get(inbound_sid or "")
    return json_answer(
        {
            "sid": sid,
            "attempt": attempt.to_json() if attempt is not None else None,
            "error": describe(attempt.error_code)
            if attempt is not None and attempt.error_code
            else None,
            "exchange": exchange_json,
            "executed": executed.data() if executed is not None else None,
            "warnings": [
                {**describe(e.code), "message": e.error, "fatal": e.fatal}
                for e in found
                if isinstance(e, TwimlWarning)
            ],
            "messages": [
                _summary(m) for m in (gateway.state.messages.get(s) for s in created) if m
            ],
            "inbound": _summary(inbound) if inbound is not None else None,
        }
    )


async def summary(request: web.Request) -> web.Response:
    return json_answer(await request.app[SUMMARY].current())
