"""The control plane under /_twsim/: inject inbound texts, read messages, events and the report."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from twsim.analysis import report
from twsim.core.errors import ApiError
from twsim.gateway.inbound import InboundOutcome
from twsim.model.records import Message
from twsim.server import render
from twsim.server.event_feed import select
from twsim.server.json_stream import int_param, write_list
from twsim.server.keys import GATEWAY, REPORT_PRICES

PREFIX = "/_twsim"
DEFAULT_MESSAGES = 100
MAX_MESSAGES = 1000


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(PREFIX + "/inbound", inbound)
    router.add_get(PREFIX + "/messages", messages)
    router.add_get(PREFIX + "/report", report_view)
    router.add_post(PREFIX + "/reset", reset)
    router.add_get(PREFIX + "/health", health)
    router.add_get(PREFIX + "/quiet", quiet)


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


def _json_text(data: dict[str, Any], key: str) -> str | None:
    """A JSON field as text: strings as they are, numbers written out (phone numbers often
    arrive as JSON numbers); anything else is a 400."""
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ApiError(20001, f"{key} must be a string", status=400)


async def _inbound_fields(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except json.JSONDecodeError as exc:
            raise ApiError(20001, f"Invalid JSON body: {exc.msg}", status=400) from None
        if not isinstance(data, dict):
            raise ApiError(20001, "The JSON body must be an object", status=400)
        media = data.get("MediaUrl") or []
        if isinstance(media, str):
            media = [media]
        if not isinstance(media, list) or not all(isinstance(m, str) for m in media):
            raise ApiError(20001, "MediaUrl must be a URL or a list of URLs", status=400)
        return {
            "from_": _json_text(data, "From"),
            "to": _json_text(data, "To"),
            "body": _json_text(data, "Body") or "",
            "media_urls": media,
            "meta": data.get("meta") if isinstance(data.get("meta"), dict) else None,
        }
    form = await request.post()
    return {
        "from_": form.get("From"),
        "to": form.get("To"),
        "body": str(form.get("Body") or ""),
        "media_urls": [str(m) for m in form.getall("MediaUrl", [])],
        "meta": None,
    }


async def inbound(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    fields = await _inbound_fields(request)
    wait = request.query.get("wait", "0").lower() in ("1", "true", "yes")
    received, outcome = await gateway.receive(
        **fields, source=request.query.get("source", "control"), wait=wait
    )
    if outcome is not None:
        return web.json_response(outcome_view(outcome), status=200)
    return web.json_response({"inbound": message_view(received.message)}, status=202)


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
    prices = request.app.get(REPORT_PRICES) or gateway.prices
    return web.json_response(report.build(gateway.events, prices=prices).to_json())


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
        raise ApiError(20001, "timeout must be a number of seconds", status=400) from None
    try:
        await gateway.quiet(timeout)
    except TimeoutError:
        return web.json_response({"quiet": False, "busy": gateway.busy}, status=504)
    return web.json_response({"quiet": True, "busy": 0})
