"""The ab-style load mode: N signed webhooks straight at a loopback app, read as Twilio
reads the answers, with the cost of the traffic and its replies from the price table."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from twsim.cli.main import main
from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER
from twsim.config.shipped import DATA, load_prices
from twsim.core.pricing import format_money
from twsim.load.generator import Load, LoadResult, LoadSpec

PRICES = yaml.safe_load(DATA.joinpath("prices", "us.yaml").read_text(encoding="utf-8"))


def price(country: str, channel: str, direction: str) -> Decimal:
    """Price plus carrier fee of one local-number unit, read straight from us.yaml."""
    table = PRICES["countries"][country]
    fees = table.get("carrier_fees", {}).get(channel, {}).get(direction, {})
    return Decimal(table[channel][direction]["local"]) + Decimal(fees.get("local", "0"))


SMS_IN, SMS_OUT = price("US", "sms", "inbound"), price("US", "sms", "outbound")
MMS_IN, MMS_OUT = price("US", "mms", "inbound"), price("US", "mms", "outbound")
CA_SMS_OUT = price("CA", "sms", "outbound")
INVALID = "Invalid code. Please try again."
LONG = "Your attendance could not be recorded. " * 5  # 195 GSM-7 characters: 2 segments


@dataclass(slots=True)
class Hit:
    path: str
    params: MultiDict[str]
    valid: bool


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class App:
    """A loopback app that checks every signature with the official RequestValidator."""

    base: str = ""
    hits: list[Hit] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0
    validator: RequestValidator = field(
        default_factory=lambda: RequestValidator(DEFAULT_AUTH_TOKEN)
    )

    def url(self, path: str) -> str:
        return self.base + path

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        url = str(request.url)
        signature = request.headers.get("X-Twilio-Signature", "")
        if request.method == "POST":
            params = MultiDict((k, str(v)) for k, v in (await request.post()).items())
            valid = self.validator.validate(url, params, signature)
        else:
            params = MultiDict(request.query)
            valid = self.validator.validate(url, {}, signature)
        self.hits.append(Hit(request.path, params, valid))
        if not valid:
            return web.Response(status=403, text="bad signature")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self.routes[request.path](request)
        finally:
            self.in_flight -= 1

    def gate(self, path: str, opens_at: int) -> str:
        """A route holding every request until `opens_at` are in flight (5 s at most)."""
        full = asyncio.Event()

        async def handler(request: web.Request) -> web.StreamResponse:
            if self.in_flight >= opens_at:
                full.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(full.wait(), 5)
            return web.Response(text="ok", content_type="text/plain")

        self.routes[path] = handler
        return self.url(path)


def twiml(*messages: tuple[str, dict[str, Any]] | str) -> web.Response:
    response = MessagingResponse()
    for message in messages:
        if isinstance(message, str):
            response.message(message)
        else:
            body, options = message
            media = options.pop("media", None)
            verb = response.message(body, **options)
            if media:
                verb.media(media)
    return web.Response(text=str(response), content_type="text/xml")


def fixed(answer: Callable[[], web.Response]) -> Route:
    async def handler(request: web.Request) -> web.StreamResponse:
        return answer()

    return handler


@pytest.fixture
async def app(serve_app: Any) -> App:
    state = App()
    state.routes = {
        "/twiml": fixed(lambda: twiml(INVALID, LONG)),
        "/text": fixed(lambda: web.Response(text=INVALID, content_type="text/plain")),
        "/empty": fixed(lambda: web.Response(status=204)),
        "/nothing": fixed(lambda: twiml()),
        "/500": fixed(lambda: web.Response(status=500, text="boom")),
        "/bad-xml": fixed(
            lambda: web.Response(text="<Response><Message>oops", content_type="text/xml")
        ),
        "/json": fixed(lambda: web.json_response({"reply": INVALID})),
        "/mms": fixed(lambda: twiml(("Your badge", {"media": "https://example.com/badge.png"}))),
        "/canada": fixed(lambda: twiml(("Note for the TA", {"to": "+14165550123"}))),
    }
    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", state.dispatch)
    server = await serve_app(application)
    state.base = f"http://127.0.0.1:{server.port}"
    return state


async def load(url: str, requests: int, **options: Any) -> LoadResult:
    return await Load(LoadSpec(url=url, requests=requests, **options), load_prices("us")).run()


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def twsim(*args: str | Path) -> tuple[int, str, str]:
    """`twsim ARGS...` on a worker thread (it runs its own loop; the app runs in this one)."""

    def run() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
        return code, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(run)


# -- requests --------------------------------------------------------------------------------
async def test_sends_exactly_n_signed_webhooks_and_prices_their_twiml_replies(app: App) -> None:
    result = await load(app.url("/twiml"), 23, concurrency=4)

    assert len(app.hits) == 23 and all(h.valid for h in app.hits)
    assert len({h.params["MessageSid"] for h in app.hits}) == 23
    assert {h.params["To"] for h in app.hits} == {DEFAULT_NUMBER}
    assert {h.params["AccountSid"] for h in app.hits} == {DEFAULT_ACCOUNT_SID}
    assert (result.requests, result.ok, dict(result.statuses)) == (23, 23, {200: 23})
    assert dict(result.answers) == {"twiml": 23}
    assert dict(result.errors) == {}
    assert (result.replies, result.reply_segments, result.amplification) == (46, 69, 2.0)
    assert result.inbound_segments == 23
    assert result.inbound_cost == 23 * SMS_IN
    assert result.reply_cost == 69 * SMS_OUT
    assert result.total_cost == 23 * SMS_IN + 69 * SMS_OUT
    report = result.to_json()
    assert report["latency_ms"]["count"] == 23
    assert report["total_cost"] == format_money(result.total_cost)


async def test_concurrency_mode_keeps_exactly_c_requests_in_flight(app: App) -> None:
    result = await load(app.gate("/gate", opens_at=4), 12, concurrency=4)

    assert (result.requests, result.ok) == (12, 12)
    assert app.most_in_flight == 4
    assert result.to_json()["lateness_ms"]["count"] == 0  # no schedule in this mode


async def test_rate_mode_starts_requests_on_schedule_without_waiting_for_answers(
    app: App,
) -> None:
    # the app answers nothing until all eight are in flight: only an open model gets there
    result = await load(app.gate("/gate", opens_at=8), 8, concurrency=1, rate=400)

    assert (result.requests, result.ok) == (8, 8)
    assert app.most_in_flight == 8
    assert result.to_json()["lateness_ms"]["count"] == 8


async def test_get_webhooks_are_signed_over_the_url_with_its_query(app: App) -> None:
    result = await load(app.url("/text"), 3, method="GET")

    assert [h.valid for h in app.hits] == [True] * 3
    assert app.hits[0].params["Body"] == "test"
    assert (result.ok, result.replies) == (3, 3)


async def test_a_wrong_auth_token_is_refused_by_the_app(app: App) -> None:
    result = await load(app.url("/twiml"), 3, auth_token="0" * 32)

    assert [h.valid for h in app.hits] == [False] * 3
    assert dict(result.statuses) == {403: 3}
    assert dict(result.errors) == {11200: 3}
    assert result.replies == 0


# -- answers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "kind", "replies"),
    [("/text", "text", 5), ("/empty", "empty", 0), ("/nothing", "twiml", 0)],
)
async def test_replies_are_counted_from_plain_text_and_twiml(
    app: App, path: str, kind: str, replies: int
) -> None:
    result = await load(app.url(path), 5, concurrency=2)

    assert dict(result.answers) == {kind: 5}
    assert (result.replies, result.reply_segments) == (replies, replies)
    assert result.reply_cost == replies * SMS_OUT
    assert result.inbound_cost == 5 * SMS_IN


async def test_media_replies_are_priced_as_mms_and_other_recipients_by_their_country(
    app: App,
) -> None:
    mms = await load(app.url("/mms"), 3)
    assert (mms.replies, mms.reply_cost) == (3, 3 * MMS_OUT)

    canada = await load(app.url("/canada"), 2)
    assert (canada.replies, canada.reply_cost) == (2, 2 * CA_SMS_OUT)


@pytest.mark.parametrize(
    ("path", "code", "statuses"),
    [
        ("/500", 11200, {500: 4}),
        ("/bad-xml", 12100, {200: 4}),
        ("/json", 12300, {200: 4}),
    ],
)
async def test_bad_answers_are_counted_by_twilio_error_code(
    app: App, path: str, code: int, statuses: dict[int, int]
) -> None:
    result = await load(app.url(path), 4, concurrency=2)

    assert dict(result.errors) == {code: 4}
    assert dict(result.statuses) == statuses
    assert result.replies == 0
    assert result.inbound_cost == 4 * SMS_IN  # the traffic itself is still paid for


async def test_an_app_that_is_down_is_error_11205() -> None:
    result = await load(f"http://127.0.0.1:{unused_port()}/sms", 3, timeout_s=5)

    assert dict(result.errors) == {11205: 3}
    assert dict(result.statuses) == {}
    assert (result.requests, result.ok, result.replies) == (3, 0, 0)


# -- rows --------------------------------------------------------------------------------------
ROWS = [
    {"Body": "CS1O1", "From": "+15551230001", "FromCity": "SPRINGFIELD"},
    {"body": "cs101", "Course": "CS101"},
    {"Body": "my badge", "MediaUrl": "https://example.com/cat.jpg", "To": "+15005550007"},
]


async def test_rows_are_used_round_robin_with_their_extra_params_and_valid_signatures(
    app: App,
) -> None:
    result = await load(app.url("/text"), 7, concurrency=1, rows=ROWS)

    hits = app.hits
    assert [h.params["Body"] for h in hits] == ["CS1O1", "cs101", "my badge"] * 2 + ["CS1O1"]
    assert all(h.valid for h in hits)
    assert hits[0].params["From"] == "+15551230001"
    assert hits[0].params.getall("FromCity") == ["SPRINGFIELD"]  # replaces the computed one
    assert hits[1].params["Course"] == "CS101"
    assert "Course" not in hits[0].params and "Course" not in hits[2].params
    assert (hits[2].params["To"], hits[2].params["NumMedia"]) == ("+15005550007", "1")
    assert hits[2].params["MediaUrl0"]
    assert {h.params["To"] for h in hits[:2]} == {DEFAULT_NUMBER}
    assert result.inbound_cost == 5 * SMS_IN + 2 * MMS_IN
    assert (result.replies, result.reply_cost) == (7, 7 * SMS_OUT)


# -- the command -------------------------------------------------------------------------------
async def test_the_load_command_prints_json_and_gates_on_thresholds(
    app: App, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:2]), encoding="utf-8")

    code, out, _ = await twsim(
        *("load", app.url("/twiml"), "-n", "6", "-c", "2", "--data", rows, "--json", "--quiet")
    )
    assert code == 0
    result = json.loads(out)
    assert (result["requests"], result["ok"], result["errors"]) == (6, 6, {})
    assert result["replies"] == {
        "count": 12,
        "segments": 18,
        "cost": format_money(18 * SMS_OUT),
    }
    assert result["inbound"] == {"segments": 6, "cost": format_money(6 * SMS_IN)}
    assert result["total_cost"] == format_money(6 * SMS_IN + 18 * SMS_OUT)
    assert result["amplification"] == 2.0
    assert result["threshold_violations"] == []
    # at -c 2 the two workers race: which arrives first is not ours to say
    assert Counter(h.params["Body"] for h in app.hits) == {"CS1O1": 3, "cs101": 3}

    code, out, err = await twsim(
        *("load", app.url("/twiml"), "-n", "4", "--max-amplification", "1", "--quiet")
    )
    assert code == 3
    assert "estimated cost" in out
    assert "threshold crossed: amplification 2.00" in err

    code, _, err = await twsim("load", app.url("/twiml"), "-n", "0")
    assert code == 2 and "at least 1" in err
