"""Locust users that text an app as Twilio would: signed webhooks, students who re-text.

Locust runs the users, on one machine or many (`--master` / `--worker`), with its web UI and
its CSV and HTML output; twsim builds every webhook (`twsim.load.plan`: the model's message
factory, the fast signer), reads every answer as Twilio reads it (`twsim.load.answers`) and
prices the traffic. A locustfile needs three lines::

    from twsim.locust import TwilioWebhookUser

    class Students(TwilioWebhookUser):
        host = "http://127.0.0.1:5000"     # the app; the webhook path is `webhook_path`

    locust -f locustfile.py --headless -u 60 -r 20 -t 1m --twsim-report twsim.json

Each user is one student with one phone. A student texts a data row (`--twsim-data
rows.jsonl`, JSON objects used round-robin, or `data` on the class), reads the app's
replies and, when one matches `retry_when` (or none comes), texts again with
`retry_probability`, up to `max_retexts` times, after `retry_delay_s`. With
`conversations = N` a student stops after N conversations, so a run can end with every
text answered and reported.

What Locust shows: every webhook as a request (`webhook` or `webhook (re-text)`; a Twilio
error is a failure named by its code and reason) and every reply as a `twsim` `reply`
request whose size is its segment count, so the stats table reads as amplification. The
exact figures (successes, failures by code, replies, segments, costs, an HDR latency
histogram) travel from the workers to the master with Locust's own reports and are written
once, merged, to `--twsim-report` when the run ends.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar, cast

import gevent
from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER
from twsim.config.shipped import load_prices
from twsim.core import phone
from twsim.core.pricing import Channel
from twsim.load.answers import AnswerReader
from twsim.load.plan import RequestPlan
from twsim.load.pricing import PriceCache
from twsim.load.result import LoadResult
from twsim.load.spec import LoadSpec
from twsim.model.clock import SystemClock
from twsim.scenario.spec import read_rows

_MESSAGE = "twsim"  # Locust's custom-message and report key
_US = 1_000_000
_CLOCK = SystemClock()


class Tally:
    """This process's figures since its last report, and (on the master) the run's total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # gevent is cooperative; this guards the report thread
        self.delta = LoadResult()
        self.retexts = 0
        self.total = LoadResult()
        self.total_retexts = 0
        self.workers: set[str] = set()

    def take(self) -> dict[str, Any]:
        """The figures since the last call, to send to the master."""
        with self._lock:
            wire = self.delta.to_wire() | {"retexts": self.retexts}
            self.delta, self.retexts = LoadResult(), 0
        return wire

    def add(self, wire: dict[str, Any], worker: str) -> None:
        with self._lock:
            self.total.merge(LoadResult.from_wire(wire))
            self.total_retexts += int(wire.get("retexts", 0))
            self.workers.add(worker)

    def report(self, elapsed_s: float) -> dict[str, Any]:
        total = self.total
        total.elapsed_s = elapsed_s
        total.workers = max(len(self.workers), 1)
        out = total.to_json()
        out.pop("concurrency", None)
        out["model"] = "locust"
        out["retexts"] = self.total_retexts
        return out


TALLY = Tally()
_started: list[float] = []


class TwilioWebhookUser(FastHttpUser):
    """One student texting the app through signed Twilio webhooks (subclass it; set `host`)."""

    abstract = True
    webhook_path: ClassVar[str] = "/sms"
    method: ClassVar[str] = "POST"
    auth_token: ClassVar[str] = DEFAULT_AUTH_TOKEN
    account_sid: ClassVar[str] = DEFAULT_ACCOUNT_SID
    to: ClassVar[str] = DEFAULT_NUMBER
    data: ClassVar[list[dict[str, Any]]] = []  # rows; `--twsim-data` overrides
    prices: ClassVar[str] = "us"
    seed: ClassVar[int] = 0
    retry_when: ClassVar[str | None] = r"(?i)invalid|try again|not recogni[sz]ed"
    retry_probability: ClassVar[float] = 1.0
    max_retexts: ClassVar[int] = 2
    retry_delay_s: ClassVar[tuple[float, float]] = (1.0, 3.0)
    conversations: ClassVar[int | None] = None  # a student stops after this many (None: never)
    wait_time = between(1, 5)

    _plans: ClassVar[dict[tuple[Any, ...], tuple[RequestPlan, PriceCache]]] = {}
    _numbers: ClassVar[itertools.count[int]] = itertools.count()
    _texts: ClassVar[itertools.count[int]] = itertools.count()

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.plan, self.price_cache = self._plan(environment)
        runner = environment.runner
        worker = getattr(runner, "worker_index", 0) if isinstance(runner, WorkerRunner) else 0
        number = next(TwilioWebhookUser._numbers)
        self.phone = f"+1555{(worker + 1) % 1000:03d}{number % 10_000:04d}"
        # text numbers are unique across workers: worker w sends w, w + 1e9, ... (SIDs too)
        self._base = worker * 1_000_000_000
        self.random = random.Random(f"{self.seed}/{worker}/{number}")
        self.reader = AnswerReader()
        self.retry = re.compile(self.retry_when) if self.retry_when else None
        self.done = 0

    @classmethod
    def _plan(cls, environment: Environment) -> tuple[RequestPlan, PriceCache]:
        options = environment.parsed_options
        rows_path = getattr(options, "twsim_data", None) if options is not None else None
        key = (cls, rows_path)
        if key not in cls._plans:
            rows = read_rows(Path(rows_path)) if rows_path else list(cls.data)
            url = (cls.host or environment.host or "").rstrip("/") + cls.webhook_path
            spec = LoadSpec(
                url=url,
                rows=rows,
                account_sid=cls.account_sid,
                auth_token=cls.auth_token,
                to=cls.to,
                method=cls.method,
                seed=cls.seed,
            )
            prices = PriceCache(load_prices(cls.prices))
            cls._plans[key] = (RequestPlan(spec, prices), prices)
        return cls._plans[key]

    @task
    def text(self) -> None:
        """A student's conversation: one text, then re-texts while the answers say so."""
        if self.conversations is not None and self.done >= self.conversations:
            raise StopUser()
        self.done += 1
        retries = 0
        retext = False
        while True:
            bodies = self.send(retext)
            if retries >= self.max_retexts or self.retry is None:
                return
            wants = not bodies or any(self.retry.search(b) for b in bodies)
            if not wants or self.random.random() >= self.retry_probability:
                return
            retries += 1
            retext = True
            gevent.sleep(self.random.uniform(*self.retry_delay_s))

    def send(self, retext: bool) -> list[str]:
        """One signed webhook; the bodies of the replies it got."""
        index = self._base + next(TwilioWebhookUser._texts)
        row, sid, sender, token, body, signature = self.plan.parts(index, self.phone)
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
            "Cache-Control": "max-age=259200",
            "I-Twilio-Idempotency-Token": token,
            "X-Twilio-Signature": signature,
        }
        path = self.webhook_path
        if self.method == "GET":
            path += ("&" if "?" in path else "?") + body.decode("ascii")
            data = None
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = body
        name = "webhook (re-text)" if retext else "webhook"
        tally = TALLY.delta
        with self.client.request(
            self.method,
            path,
            data=cast(Any, data),  # bytes are sent as they are
            headers=headers,
            name=name,
            catch_response=True,
        ) as response:
            elapsed_s = (response.request_meta or {}).get("response_time", 0) / 1000
            status = response.status_code or 0
            tally.requests += 1
            tally.planned += 1
            TALLY.retexts += int(retext)
            tally.inbound_segments += row.segments
            tally.inbound_cost += row.inbound_cost
            tally.latency.record_value(max(int(elapsed_s * _US), 1))
            if not status:
                reason = f"no answer ({response.error or 'connection failed'})"
                tally.failures[(11205, reason)] += 1
                response.failure(f"11205 {reason}")
                return []
            tally.statuses[status] += 1
            content_type = (response.headers.get("Content-Type") or "").split(";")[0]
            verdict = self.reader.read(
                status, content_type.strip().lower(), response.content or b""
            )
            tally.answers[verdict.kind] += 1
            if verdict.failure is not None:
                tally.failures[(verdict.failure.code, verdict.failure.reason)] += 1
                response.failure(f"{verdict.failure.code} {verdict.failure.reason}")
                return []
            response.success()
        tally.successes += 1
        for warning in verdict.warnings:
            tally.warnings[(warning.code, warning.reason)] += 1
        fire = self.environment.events.request.fire
        for reply in verdict.replies:
            to = reply.to or sender
            tally.replies += 1
            tally.reply_segments += reply.segments
            tally.reply_cost += self.price_cache.outbound(
                phone.country_of(to) or "US",
                Channel.MMS if reply.media else Channel.SMS,
                reply.segments,
            )
            fire(
                request_type="twsim",
                name="reply",
                response_time=0,
                response_length=reply.segments,
                exception=None,
                context={"sid": sid},
            )
        return [reply.body for reply in verdict.replies]


# -- wiring into Locust: options, reports from workers, the merged twsim report ----------------
def _options(parser: Any) -> None:
    parser.add_argument(
        "--twsim-report", default="", help="write twsim's merged figures (JSON) here at the end"
    )
    parser.add_argument("--twsim-data", default="", help="JSONL rows the students text")


def _report(client_id: str, data: dict[str, Any]) -> None:
    data[_MESSAGE] = TALLY.take()


def _gather(client_id: str, data: dict[str, Any]) -> None:
    if _MESSAGE in data:
        TALLY.add(data[_MESSAGE], client_id)


def _start(environment: Environment, **kwargs: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        _started.append(_CLOCK.monotonic())


def _web(environment: Environment, **kwargs: Any) -> None:
    web_ui = environment.web_ui
    if web_ui is not None and web_ui.app is not None:
        web_ui.app.add_url_rule("/twsim", "twsim", lambda: _finish(environment))


def _finish(environment: Environment) -> dict[str, Any]:
    if not isinstance(environment.runner, MasterRunner):  # a local run: no worker reports
        TALLY.add(TALLY.take(), "local")
    elapsed = _CLOCK.monotonic() - _started[0] if _started else 0.0
    return TALLY.report(elapsed)


def _write(environment: Environment, **kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    report = _finish(environment)
    options = environment.parsed_options
    path = getattr(options, "twsim_report", "") if options is not None else ""
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"twsim: {report['requests']} webhooks ({report['retexts']} re-texts), "
        f"{report['successes']} succeeded, {report['failures']} failed; "
        f"{report['replies']['count']} replies ({report['amplification']:.2f} per webhook), "
        f"estimated cost ${report['total_cost']}",
        file=sys.stderr,
    )


for _hook, _listener in (
    (events.init_command_line_parser, _options),
    (events.report_to_master, _report),
    (events.worker_report, _gather),
    (events.test_start, _start),
    (events.init, _web),
    (events.quitting, _write),
):
    cast(Any, _hook).add_listener(_listener)  # Locust's EventHook is untyped
