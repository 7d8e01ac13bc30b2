"""The control plane under /_twsim/: inject inbound texts, read messages, events and the report."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from twsim.analysis import report
from twsim.core.errors import ApiError
from twsim.gateway.inbound import InboundOutcome
from twsim.model.events import EventType
from twsim.model.records import Message
from twsim.server import control_spec, inbound_form, render
from twsim.server.keys import GATEWAY, LIVE_REPORT, REPORT_PRICES

PREFIX = "/_twsim"
MAX_QUIET_S = 3600


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(PREFIX + "/inbound", inbound)
    router.add_get(PREFIX + "/messages", messages)
    router.add_get(PREFIX + "/events", events)
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
    return view


def outcome_view(outcome: InboundOutcome) -> dict[str, Any]:
    return {
        "inbound": message_view(outcome.inbound),
        "webhook": [a.to_json() for a in outcome.attempts],
        "replies": [message_view(m) for m in outcome.replies],
        "error_code": outcome.error_code,
        "warnings": outcome.warnings,
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
