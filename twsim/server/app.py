"""The aiohttp application: Twilio's REST API, the control plane, Twilio-shaped errors."""

from __future__ import annotations

import random

from aiohttp import web

from twsim.config.models import DEFAULT_HOST
from twsim.core.ids import SidFactory
from twsim.gateway.runtime import Gateway
from twsim.server import control, event_feed, page_data, twilio_api, web_page
from twsim.server.errors import twilio_errors
from twsim.server.guard import GUARD, Guard, guard
from twsim.server.keys import GATEWAY, LIVE_REPORT, REQUEST_IDS
from twsim.server.live_report import LiveReport

MAX_BODY_BYTES = 4 * 1024 * 1024


def make_app(
    gateway: Gateway, *, host: str = DEFAULT_HOST, report: LiveReport | None = None
) -> web.Application:
    """The gateway's application, answering the Host names `host` (the bound address) allows.

    `report` is the gateway's live report, subscribed when the gateway was made; without
    one, a report is started now.
    """
    app = web.Application(middlewares=[twilio_errors, guard], client_max_size=MAX_BODY_BYTES)
    app[GATEWAY] = gateway
    app[REQUEST_IDS] = SidFactory(random.Random(f"{gateway.config.seed}/requests"))
    app[LIVE_REPORT] = report or LiveReport(gateway)
    app[GUARD] = Guard.of(gateway.config.server, host)
    twilio_api.add_routes(app.router)
    control.add_routes(app.router)
    event_feed.add_routes(app, control.PREFIX)
    page_data.add_routes(app, control.PREFIX)
    web_page.add_routes(app.router)
    return app
