"""The control plane under /_twsim/: inject inbound texts, read messages, events and the report."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from twsim.analysis import report
from twsim.core.errors import ApiError
from twsim.gateway.inbound import InboundOutcome
from twsim.model.events import EventType
from twsim.model.records import Message
from twsim.server import render
from twsim.server.keys import GATEWAY, REPORT_PRICES

PREFIX = "/_twsim"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(PREFIX + "/inbound", inbound)
    router.add_get(PREFIX + "/messages", messages)
    router.add_get(PREFIX + "/events", events)
    router.add_get(PREFIX + "/report", report_view)
    router.add_post(PREFIX + "/reset", reset)
    router.add_get(PREFIX + "/health", health)
    router.add_get(PREFIX + "/quiet", quiet)


def message_view(message: Message) -> dict[str, Any]:
    """Twilio's message JSON plus what caused it."""
    view = render.message(message)
    view["inbound_sid"] = message.inbound_sid
    view["attempt_sid"] = message.attempt_sid
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


async def messages(request: web.Request) -> web.Response:
    state = request.app[GATEWAY].state
    direction = request.query.get("direction")
    inbound_sid = request.query.get("inbound")
    items = [
        message_view(m)
        for m in state.messages.values()
        if (not direction or str(m.direction) == direction)
        and (not inbound_sid or m.inbound_sid == inbound_sid or m.sid == inbound_sid)
    ]
    return web.json_response({"messages": items})


async def events(request: web.Request) -> web.Response:
    log = request.app[GATEWAY].events
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        raise ApiError(20001, "since must be an event sequence number", status=400) from None
    wanted = set(request.query.getall("type", []))
    unknown = wanted - {str(t) for t in EventType}
    if unknown:
        raise ApiError(20001, f"Unknown event type(s): {', '.join(sorted(unknown))}", status=400)
    items = [e.to_json() for e in log.since(since) if not wanted or str(e.type) in wanted]
    return web.json_response({"events": items})


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
