"""The control plane under /_twsim/: inject inbound texts, read messages, events and the report."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from twsim.analysis import report
from twsim.core.errors import ApiError, TwilioError
from twsim.gateway.inbound import InboundOutcome
from twsim.model.records import Message
from twsim.server import control_spec, inbound_form, render
from twsim.server.event_feed import select
from twsim.server.json_stream import int_param, write_list
from twsim.server.keys import GATEWAY, LIVE_REPORT, REPORT_PRICES

PREFIX = "/_twsim"
DEFAULT_MESSAGES = 100
MAX_MESSAGES = 1000
MAX_QUIET_S = 3600


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(PREFIX + "/inbound", inbound)
    router.add_post(PREFIX + "/inbound/batch", inbound_batch)
    router.add_get(PREFIX + "/messages", messages)
    router.add_get(PREFIX + "/report", report_view)
    router.add_post(PREFIX + "/reset", reset)
    router.add_get(PREFIX + "/health", health)
    router.add_get(PREFIX + "/quiet", quiet)
    router.add_get(PREFIX + "/openapi.json", openapi)


def message_view(message: Message) -> dict[str, Any]:
    """Twilio's message JSON plus what caused it."""
    view = render.message(message)
    view["inbound_sid"] = message.inbound_sid
    view["attempt_sid"] = message.attempt_sid
    view["encoding"] = str(message.encoding)
    view["ucs2_chars"] = message.ucs2_chars
    return view


def outcome_view(outcome: InboundOutcome) -> dict[str, Any]:
    return {
        "inbound": message_view(outcome.inbound),
        "webhook": [a.to_json() for a in outcome.attempts],
        "replies": [message_view(m) for m in outcome.replies],
        "rest_sends": [message_view(m) for m in outcome.sends],
        "error_code": outcome.error_code,
        "warnings": outcome.warnings,
        "problems": [
            {
                "code": p.code,
                "message": p.message,
                "more_info": p.more_info,
                "fatal": getattr(p, "fatal", True),
            }
            for p in outcome.problems
        ],
    }


async def inbound(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    fields = await inbound_form.read(request)
    wait = request.query.get("wait", "0").lower() in ("1", "true", "yes")
    received, outcome = await gateway.receive(
        **fields.as_kwargs(), source=inbound_form.source(request), wait=wait
    )
    if outcome is not None:
        return web.json_response(outcome_view(outcome), status=200)
    return web.json_response({"inbound": message_view(received.message)}, status=202)


async def inbound_batch(request: web.Request) -> web.Response:
    """Many texts in one request, each through the same ingest path as `/_twsim/inbound`
    (a remote burst sends what is due at once this way): the SIDs of those received, and
    each refused one's index and error."""
    gateway = request.app[GATEWAY]
    items = await inbound_form.read_batch(request)
    source = inbound_form.source(request)
    accepted: list[str] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if isinstance(item, TwilioError):
                raise item
            received, _ = gateway.accept(**item.as_kwargs(), source=source)
        except TwilioError as error:
            rejected.append({"index": index, **error.to_json()})
        else:
            accepted.append(received.message.sid)
    return web.json_response({"accepted": accepted, "rejected": rejected}, status=202)


async def messages(request: web.Request) -> web.StreamResponse:
    """Messages newest first, a page at a time: `before` is the `next` of the page before."""
    state = request.app[GATEWAY].state
    limit = int_param(request, "limit", DEFAULT_MESSAGES, lo=1, hi=MAX_MESSAGES)
    direction = request.query.get("direction") or None
    inbound_sid = request.query.get("inbound") or None
    phone = request.query.get("phone") or None
    before = request.query.get("before") or None
    stored = state.messages
    if before is not None and before not in stored:
        raise ApiError(
            20001, f"before must be a message SID from a previous page, not {before!r}", status=400
        )
    sids = reversed(stored)
    if before is not None:
        for sid in sids:
            if sid == before:
                break

    def wanted(m: Message) -> bool:
        return (
            (direction is None or m.direction == direction)
            and (inbound_sid is None or m.inbound_sid == inbound_sid or m.sid == inbound_sid)
            and (phone is None or m.from_ == phone or m.to == phone)
        )

    page, more = select((stored[sid] for sid in sids), wanted, limit)
    return await write_list(
        request, "messages", page, message_view, {"next": page[-1].sid if more else None}
    )


async def report_view(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    prices = request.app.get(REPORT_PRICES)
    if prices is not None and prices is not gateway.prices:  # "what if": the events kept
        return web.json_response(report.build(gateway.events, prices=prices).to_json())
    return web.json_response(request.app[LIVE_REPORT].result().to_json())


async def reset(request: web.Request) -> web.Response:
    request.app[GATEWAY].reset()
    return web.json_response({"reset": True})


async def health(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    return web.json_response(
        {
            "status": "ok",
            "messages": len(gateway.state.messages),
            "events": len(gateway.events),
            "last_seq": gateway.events.last_seq,
            "busy": gateway.busy,
            "webhooks": gateway.state.directory.webhooks(),
        }
    )


async def quiet(request: web.Request) -> web.Response:
    """Answer once no webhook, lifecycle step or callback is in flight (or after `timeout` s)."""
    gateway = request.app[GATEWAY]
    try:
        timeout = float(request.query.get("timeout", "60"))
    except ValueError:
        timeout = math.nan
    if not 0 <= timeout <= MAX_QUIET_S:  # NaN fails this too
        raise ApiError(
            20001, f"timeout must be a number of seconds from 0 to {MAX_QUIET_S}", status=400
        )
    try:
        await gateway.quiet(timeout)
    except TimeoutError:
        return web.json_response({"quiet": False, "busy": gateway.busy}, status=504)
    return web.json_response({"quiet": True, "busy": 0})


async def openapi(request: web.Request) -> web.Response:
    """The control plane's OpenAPI description."""
    return web.json_response(control_spec.document(f"{request.scheme}://{request.host}"))
