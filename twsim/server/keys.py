"""Typed keys for what the aiohttp application carries."""

from __future__ import annotations

from aiohttp import web

from twsim.core.ids import SidFactory
from twsim.core.pricing import PriceTable
from twsim.gateway.runtime import Gateway

GATEWAY = web.AppKey("gateway", Gateway)
BASE_URL = web.AppKey("base_url", str)
REPORT_PRICES = web.AppKey("report_prices", PriceTable)
REQUEST_IDS = web.AppKey("request_ids", SidFactory)  # the Twilio-Request-Id of each answer
