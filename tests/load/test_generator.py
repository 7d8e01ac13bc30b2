"""The ab-style load mode: N signed webhooks straight at a loopback app, read as Twilio
reads the answers, with the cost of the traffic and its replies from the price table."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import time
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
from twsim.load.generator import Load
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec

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
        """A route holding every request until `opens_at` are in flight (never released by a
        clock: a busy machine cannot let one through early)."""
        full = asyncio.Event()

        async def handler(request: web.Request) -> web.StreamResponse:
            if self.in_flight >= opens_at:
                full.set()
            await full.wait()
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


def errors(result: LoadResult) -> dict[int, int]:
    """Failures by Twilio code."""
    out: dict[int, int] = {}
    for (code, _), n in result.failures.items():
        out[code] = out.get(code, 0) + n
    return out


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
    assert (result.requests, result.successes, dict(result.statuses)) == (23, 23, {200: 23})
    assert dict(result.answers) == {"twiml": 23}
    assert errors(result) == {}
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

    assert (result.requests, result.successes) == (12, 12)
    assert app.most_in_flight == 4
    report = result.to_json()
    assert report["model"] == "closed" and report["concurrency"] == 4
    assert "schedule" not in report  # no schedule in this mode
    assert result.lateness.get_total_count() == 0


async def test_rate_mode_starts_requests_on_schedule_without_waiting_for_answers(
    app: App,
) -> None:
    # the app answers nothing until all eight are in flight: only an open model gets there
    result = await load(app.gate("/gate", opens_at=8), 8, concurrency=1, rate=400)

    assert (result.requests, result.successes) == (8, 8)
    assert app.most_in_flight == 8
    schedule = result.to_json()["schedule"]
    assert schedule["start_lateness_ms"]["count"] == 8
    assert schedule["planned_rate_per_s"] == 400


async def test_get_webhooks_are_signed_over_the_url_with_its_query(app: App) -> None:
    result = await load(app.url("/text"), 3, method="GET")

    assert [h.valid for h in app.hits] == [True] * 3
    assert app.hits[0].params["Body"] == "test"
    assert (result.successes, result.replies) == (3, 3)


async def test_a_wrong_auth_token_is_refused_by_the_app(app: App) -> None:
    result = await load(app.url("/twiml"), 3, auth_token="0" * 32)

    assert [h.valid for h in app.hits] == [False] * 3
    assert dict(result.statuses) == {403: 3}
    assert errors(result) == {11200: 3}
    assert result.successes == 0 and result.failed == 3
    ((_, reason),) = result.failures
    assert reason.startswith("HTTP 403 from the app: signature rejected?")
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

    assert errors(result) == {code: 4}
    assert (result.successes, result.failed) == (0, 4)
    assert dict(result.statuses) == statuses
    assert result.replies == 0
    assert result.inbound_cost == 4 * SMS_IN  # the traffic itself is still paid for


async def test_an_app_that_is_down_is_error_11205() -> None:
    result = await load(f"http://127.0.0.1:{unused_port()}/sms", 3, timeout_s=5)

    assert dict(result.failures) == {
        (11205, "connection refused (is the app running on that port?)"): 3
    }
    assert dict(result.statuses) == {}
    assert (result.requests, result.successes, result.replies) == (3, 0, 0)


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
    assert (result["requests"], result["successes"], result["errors"]) == (6, 6, {})
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


# -- the open model: latency from each planned start (no coordinated omission) ---------------
async def until(condition: Callable[[], bool], what: str, bound_s: float = 30.0) -> None:
    """Wait for `condition` (checked every few ms; the bound only stops a broken run)."""
    deadline = asyncio.get_running_loop().time() + bound_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.005)


async def test_waiting_for_a_free_connection_is_queueing_and_part_of_the_latency(
    app: App,
) -> None:
    # two connections for six webhooks due within 5 ms: four wait, held for at least 200 ms
    release = asyncio.Event()

    async def hold(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(text="ok", content_type="text/plain")

    app.routes["/hold"] = hold
    run = Load(
        LoadSpec(url=app.url("/hold"), requests=6, rate=1000, max_connections=2),
        load_prices("us"),
    )
    task = asyncio.create_task(run.run())
    await until(lambda: app.in_flight == 2 and run.started == 6, "6 dispatched, 2 in flight")
    held_from = time.monotonic()
    await asyncio.sleep(0.2)  # the hold whose length the figures must show
    held_for_ms = (time.monotonic() - held_from) * 1000
    release.set()
    result = await task

    assert (result.requests, result.successes, result.connections) == (6, 6, 2)
    assert app.most_in_flight == 2 and all(h.valid for h in app.hits)
    assert result.queued == 4 and result.queueing.get_total_count() == 4
    report = result.to_json()
    schedule = report["schedule"]
    assert schedule["queued"] == 4
    # every queued webhook was dispatched before the hold and sent after it
    assert schedule["queueing_ms"]["min"] >= held_for_ms * 0.99
    # ... and its latency, counted from its planned start, includes that wait
    assert report["latency_ms"]["max"] >= schedule["queueing_ms"]["max"]
    assert report["latency_ms"]["p50"] >= held_for_ms * 0.99


async def test_a_stalled_generator_shows_in_the_latency_not_only_in_start_lateness(
    app: App,
) -> None:
    # webhooks planned every 10 ms; the event loop stalls for 300 ms right after the first
    run = Load(LoadSpec(url=app.url("/text"), requests=5, rate=100), load_prices("us"))
    run.start_at = time.monotonic() + 0.05
    stall = asyncio.get_running_loop().call_at(
        asyncio.get_running_loop().time() + 0.055, time.sleep, 0.3
    )
    result = await run.run()
    stall.cancel()

    assert result.successes == 5
    report = result.to_json()
    late = report["schedule"]["start_lateness_ms"]
    assert late["max"] >= 250  # the webhook planned at +10 ms went out after the stall
    assert report["latency_ms"]["max"] >= late["max"]  # and its latency says so


async def test_an_app_slower_than_the_plan_gets_a_warning_with_the_achieved_rate(
    app: App,
) -> None:
    # one request at a time, each held until the next arrives... or 30 ms: an app of ~30/s
    slot = asyncio.Semaphore(1)

    async def slow(request: web.Request) -> web.StreamResponse:
        async with slot:
            await asyncio.sleep(0.03)  # the app's service time: its capacity is ~33/s
        return web.Response(status=204)

    app.routes["/slow"] = slow
    result = await load(app.url("/slow"), 60, rate=1000)

    assert result.successes == 60
    schedule = result.to_json()["schedule"]
    assert schedule["planned_rate_per_s"] == 1000
    assert schedule["achieved_rate_per_s"] < 100  # 60 answers, one per 30 ms at best
    assert schedule["kept"] is False
    assert "the plan was not kept" in schedule["warning"]
    # the last answer came after ~60 x 30 ms, and its latency counts from its planned start
    assert result.to_json()["latency_ms"]["max"] >= 60 * 30 * 0.9


# -- failures are failures, and say why ---------------------------------------------------------
async def test_an_app_that_is_down_fails_every_webhook_with_exit_status_1() -> None:
    code, out, _ = await twsim(
        "load", f"http://127.0.0.1:{unused_port()}/sms", "-n", "4", "--quiet"
    )
    assert code == 1
    assert "successes        0 of 4" in out and "failures         4" in out
    assert "completed" not in out
    assert "11205" in out and "connection refused" in out
    assert "FAILED: every webhook failed" in out


async def test_a_wrong_token_says_the_app_rejected_the_signature(app: App) -> None:
    code, out, _ = await twsim(
        *("load", app.url("/twiml"), "-n", "3", "--auth-token", "0" * 32, "--json", "--quiet")
    )
    assert code == 1
    result = json.loads(out)
    assert (result["successes"], result["failures"]) == (0, 3)
    assert result["error_table"] == [
        {
            "code": 11200,
            "reason": "HTTP 403 from the app: signature rejected? "
            "(check --auth-token and the URL the app validates)",
            "count": 3,
        }
    ]


async def test_invalid_twiml_is_reported_with_its_line_and_column(app: App) -> None:
    code, out, _ = await twsim("load", app.url("/bad-xml"), "-n", "2", "--quiet")
    assert code == 1
    assert "12100" in out and "line 1, column" in out


async def test_a_timeout_is_named_with_its_length_and_a_partial_failure_exits_0(
    app: App,
) -> None:
    hang = asyncio.Event()

    async def sometimes(request: web.Request) -> web.StreamResponse:
        if (await request.post())["Body"] == "hang":
            await hang.wait()
        return web.Response(status=204)

    app.routes["/sometimes"] = sometimes
    run = Load(
        LoadSpec(
            url=app.url("/sometimes"),
            requests=4,
            concurrency=4,
            timeout_s=0.3,
            rows=[{"Body": "hang"}, {"Body": "fine"}],
        ),
        load_prices("us"),
    )
    result = await run.run()
    hang.set()

    assert (result.successes, result.failed) == (2, 2)
    assert dict(result.failures) == {(11205, "timed out after 0.3 s"): 2}
    assert result.to_json()["latency_ms"]["min"] is not None


async def test_a_timeout_of_zero_is_refused(app: App) -> None:
    code, _, err = await twsim("load", app.url("/text"), "-n", "1", "--timeout", "0")
    assert code == 2 and "must be a finite number above 0" in err
    with pytest.raises(ValueError, match="above 0"):
        LoadSpec(url=app.url("/text"), timeout_s=0)


async def test_latency_statistics_and_histogram_in_text_and_json(app: App) -> None:
    code, out, _ = await twsim("load", app.url("/text"), "-n", "20", "-c", "3", "--json", "--quiet")
    assert code == 0
    latency = json.loads(out)["latency_ms"]
    assert set(latency) == {"count", "min", "mean", "stdev", "p50", "p90", "p95", "p99", "max"}
    assert latency["count"] == 20
    assert latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    histogram = json.loads(out)["latency_histogram"]
    assert sum(b["count"] for b in histogram) == 20

    code, out, _ = await twsim("load", app.url("/text"), "-n", "20", "--quiet")
    assert code == 0
    assert "min " in out and "stdev " in out and "p95 " in out
    assert "latency histogram" in out and "■" in out


async def test_help_says_which_model_each_option_runs() -> None:
    code, out, _ = await twsim("load", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "closed model, like ab" in flat
    assert "open model" in flat and "planned start" in flat
