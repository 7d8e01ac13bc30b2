"""`--workers N`: the plan split over processes, the same webhooks sent, the figures merged."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator

from twsim.config.models import DEFAULT_AUTH_TOKEN
from twsim.config.shipped import load_prices
from twsim.load.generator import Load
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec
from twsim.load.workers import run_workers, split

ROWS = [{"Body": "CS1O1"}, {"Body": "cs101", "From": "+15551230001"}, {"Body": "here " * 40}]
TWIML = "<Response><Message>Invalid code. Please try again.</Message></Response>"


async def start_app(serve_app: Any) -> tuple[str, list[dict[str, str]]]:
    """A loopback app that validates every signature and keeps the params it was sent."""
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    seen: list[dict[str, str]] = []

    async def sms(request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        if not validator.validate(str(request.url), params, request.headers["X-Twilio-Signature"]):
            return web.Response(status=403)
        seen.append(params)
        return web.Response(text=TWIML, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/sms", sms)
    server = await serve_app(app)
    return f"http://127.0.0.1:{server.port}/sms", seen


def sent(seen: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    return {(p["MessageSid"], p["From"], p["Body"]) for p in seen}


async def test_two_workers_send_the_same_webhooks_and_merge_exact_figures(serve_app: Any) -> None:
    url, seen = await start_app(serve_app)
    spec = LoadSpec(url=url, requests=40, concurrency=4, rows=ROWS, seed=7)

    alone = await Load(spec, load_prices("us")).run()
    one = sent(seen)
    seen.clear()
    merged: LoadResult = await asyncio.to_thread(run_workers, spec, load_prices("us"), 2)

    assert sent(seen) == one and len(one) == 40  # the same texts, whoever sent them
    assert merged.workers == 2
    for figure in (
        "planned",
        "requests",
        "successes",
        "replies",
        "reply_segments",
        "inbound_segments",
        "inbound_cost",
        "reply_cost",
        "concurrency",
    ):
        assert getattr(merged, figure) == getattr(alone, figure), figure
    assert dict(merged.statuses) == dict(alone.statuses) == {200: 40}
    assert merged.latency.get_total_count() == 40
    assert merged.to_json()["total_cost"] == alone.to_json()["total_cost"]


async def test_open_model_workers_share_one_schedule(serve_app: Any) -> None:
    url, seen = await start_app(serve_app)
    spec = LoadSpec(url=url, requests=30, rate=300, seed=3)

    merged: LoadResult = await asyncio.to_thread(run_workers, spec, load_prices("us"), 2)

    assert (merged.requests, merged.successes, len(seen)) == (30, 30, 30)
    schedule = merged.to_json()["schedule"]
    assert schedule["start_lateness_ms"]["count"] == 30
    assert schedule["planned_rate_per_s"] == 300


def test_the_split_is_by_request_number_and_shares_the_connections() -> None:
    shares = split(LoadSpec(url="http://127.0.0.1:1/", requests=10, concurrency=5), 2)
    assert [list(s.indices) for s in shares] == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]
    assert [s.concurrency for s in shares] == [3, 2]
    # never more workers than connections (closed model) or requests
    assert len(split(LoadSpec(url="http://127.0.0.1:1/", requests=10, concurrency=1), 4)) == 1
    assert len(split(LoadSpec(url="http://127.0.0.1:1/", requests=2, rate=5.0), 4)) == 2
