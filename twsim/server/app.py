"""The aiohttp application: Twilio's REST API, the control plane, Twilio-shaped errors."""

from __future__ import annotations

import random

from aiohttp import web

from twsim.core.ids import SidFactory
from twsim.gateway.runtime import Gateway
from twsim.server import control, event_feed, page_data, twilio_api, web_page
from twsim.server.errors import twilio_errors
from twsim.server.keys import GATEWAY, REQUEST_IDS

MAX_BODY_BYTES = 4 * 1024 * 1024


def make_app(gateway: Gateway) -> web.Application:
    app = web.Application(middlewares=[twilio_errors], client_max_size=MAX_BODY_BYTES)
    app[GATEWAY] = gateway
    app[REQUEST_IDS] = SidFactory(random.Random(f"{gateway.config.seed}/requests"))
    twilio_api.add_routes(app.router)
    control.add_routes(app.router)
    event_feed.add_routes(app, control.PREFIX)
    page_data.add_routes(app, control.PREFIX)
    web_page.add_routes(app.router)
    return app
