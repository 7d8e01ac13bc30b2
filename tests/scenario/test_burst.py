"""Scenario runs against a loopback app: exact counts, exact cost, and repeatable plans.

Every scenario here is small and fast (a few students, windows and delays of a fraction
of a second). The app answers within milliseconds, well inside each student's reading
delay, so what students see when they decide is fixed by the scenario and the seed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
import yaml
from aiohttp import web

from twsim.config.models import Config, NumberConfig
from twsim.config.shipped import DATA
from twsim.core.price_table_reader import read_price_table
from twsim.core.pricing import (
    Channel,
    Direction,
    NumberType,
    PriceKey,
    format_money,
)
from twsim.core.segments import segment
from twsim.model.events import InboundReceived, SendPlanned
from twsim.scenario.population import Population
from twsim.scenario.runner import BurstResult, run_burst
from twsim.scenario.spec import scenario_from_dict
from twsim.server.simulator import Simulator

CODE = "CS101"
WRONG = "CS1O1"  # letter O for zero, as written on the board
CHECKED_IN = "Checked in"
INVALID = "Invalid code, try again"
NUDGE = "That code is invalid. Today's code is on the syllabus"


def twiml(*bodies: str) -> web.Response:
    messages = "".join(f"<Message>{body}</Message>" for body in bodies)
    return web.Response(text=f"<Response>{messages}</Response>", content_type="text/xml")


class AttendanceApp:
    """Answers `/sms` like a naive attendance app.

    The right code gets "Checked in". A wrong one gets "Invalid code, try again" as TwiML
    and, before that, a nudge sent to the same phone through the REST API with the official
    twilio client (in a thread, as a synchronous app would). Both answers to a wrong code
    match the students' `retry_when`, so which one a student reads first does not matter.
    `/silent` answers an empty `<Response/>`; `/checkin` checks everyone in, whatever they
    text.
    """

    def __init__(self) -> None:
        self.sim: Simulator | None = None
        self.webhooks = 0
        self.rest_sends = 0
        self.app = web.Application()
        self.app.router.add_post("/sms", self.sms)
        self.app.router.add_post("/silent", self.silent)
        self.app.router.add_post("/checkin", self.checkin)
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path

    async def sms(self, request: web.Request) -> web.Response:
        self.webhooks += 1
        form = await request.post()
        if str(form["Body"]).strip().upper() == CODE:
            return twiml(CHECKED_IN)
        assert self.sim is not None, "attach the gateway first"
        client = self.sim.client()
        await asyncio.to_thread(
            client.messages.create, to=str(form["From"]), from_=str(form["To"]), body=NUDGE
        )
        self.rest_sends += 1
        return twiml(INVALID)

    async def silent(self, request: web.Request) -> web.Response:
        self.webhooks += 1
        return web.Response(text="<Response/>", content_type="text/xml")

    async def checkin(self, request: web.Request) -> web.Response:
        self.webhooks += 1
        return twiml(CHECKED_IN)


@pytest.fixture
async def attendance(serve_app: Any) -> AttendanceApp:
    app = AttendanceApp()
    server = await serve_app(app.app)
    app.base = f"http://127.0.0.1:{server.port}"
    return app


def config_with(sms_url: str) -> Config:
    config = Config()
    config.numbers = [NumberConfig(sms_url=sms_url)]
    return config


PRICES = read_price_table(
    yaml.safe_load(DATA.joinpath("prices", "us.yaml").read_text()),
    name="us",
)


def price(direction: Direction, body: str) -> Decimal:
    """What one SMS with `body` costs between the gateway's local US number and a US phone."""
    key = PriceKey("US", NumberType.LOCAL, direction, Channel.SMS)
    return PRICES.charge(key, segment(body).count).total


def scenario(seed: int = 11, size: int = 8, **students: Any) -> dict[str, Any]:
    model = {
        "retry_when": "invalid|try again",
        "no_reply_after_s": 2,
        "retry_probability": 1,
        "max_retries": 2,
        "delay_s": [0.4, 0.5],
        **students,
    }
    return {
        "name": "small classroom",
        "seed": seed,
        "population": {"size": size},
        "texts": {"bodies": [{"body": WRONG, "weight": 3}, {"body": CODE, "weight": 1}]},
        "arrival": {"kind": "flash", "within_s": 0.2},
        "students": model,
    }


async def burst(
    app: AttendanceApp, make_sim: Any, spec: dict[str, Any], path: str = "/sms"
) -> BurstResult:
    sim = await make_sim(config_with(app.url(path)))
    app.sim = sim
    # the twilio client loads its API modules on first use, which can take longer than a
    # student's reading delay: load them before the burst starts
    await asyncio.to_thread(lambda: sim.client().messages.list(limit=1))
    return await run_burst(scenario_from_dict(spec), sim=sim)


def plan(result: BurstResult) -> list[tuple[str, str, str, float]]:
    return [(t.phone, t.body, t.kind, round(t.planned_s, 6)) for t in result.burst.planned]


def inbound_events(result: BurstResult) -> list[Any]:
    return [e for e in result.events if isinstance(e, InboundReceived)]


def wrong_students(spec: dict[str, Any]) -> int:
    population = Population(scenario_from_dict(spec))
    return sum(1 for i in range(len(population)) if population.intended_body(i)[0] == WRONG)


async def test_classroom_burst_counts_and_cost_exactly(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    spec = scenario()
    size, wrong = 8, wrong_students(spec)
    assert 0 < wrong < size  # this seed draws both codes

    result = await burst(attendance, make_sim, spec)
    report = result.report

    texts = size + 2 * wrong  # the wrong ones retry twice; the right ones stop at once
    kinds = Counter(t.kind for t in result.burst.planned)
    assert kinds == {"first": size, "retry": 2 * wrong}
    assert Counter(e.meta["kind"] for e in inbound_events(result)) == kinds
    assert report.inbound.count == texts == attendance.webhooks
    assert report.webhook["requests"] == texts and report.webhook["failures"] == 0

    replies, rest = texts, 3 * wrong  # one TwiML answer per text, a nudge per wrong text
    assert report.outbound_by_origin["reply"].count == replies
    assert report.outbound_by_origin["api"].count == rest == attendance.rest_sends
    assert report.outbound.count == replies + rest
    assert report.amplification["messages"] == round((replies + rest) / texts, 4)
    assert report.amplification["replies"] == 1.0
    assert report.amplification["api"] == round(rest / texts, 4)
    assert report.errors == {}

    inbound_cost = (size - wrong) * price(Direction.INBOUND, CODE) + 3 * wrong * price(
        Direction.INBOUND, WRONG
    )
    outbound_cost = (
        (size - wrong) * price(Direction.OUTBOUND, CHECKED_IN)
        + 3 * wrong * price(Direction.OUTBOUND, INVALID)
        + rest * price(Direction.OUTBOUND, NUDGE)
    )
    assert report.inbound.cost == inbound_cost
    assert report.outbound.cost == outbound_cost
    assert report.total_cost == inbound_cost + outbound_cost
    assert report.to_json()["total_cost"] == format_money(inbound_cost + outbound_cost)

    # per position: everyone's first text, then the wrong ones' two re-texts
    per_wrong_text = price(Direction.OUTBOUND, INVALID) + price(Direction.OUTBOUND, NUDGE)
    assert [(p["position"], p["inbound"], p["outbound"]) for p in report.by_position] == [
        (1, size, size + wrong),
        (2, wrong, 2 * wrong),
        (3, wrong, 2 * wrong),
    ]
    assert report.by_position[1]["cost"] == format_money(wrong * per_wrong_text)
    worst = report.worst_senders[0]
    assert (worst["inbound"], worst["outbound"], worst["amplification"]) == (3, 6, 2.0)
    assert {r["body"] for r in report.repeated_answers} == {WRONG.lower()}
    assert [r["answered"] for r in report.repeated_answers] == [3] * wrong

    # students who got "Invalid" re-texted the same body after their reading delay
    by_phone: dict[str, list[Any]] = {}
    for text in result.burst.planned:
        by_phone.setdefault(text.phone, []).append(text)
    for texts_of_one in by_phone.values():
        if texts_of_one[0].body == CODE:
            assert [t.kind for t in texts_of_one] == ["first"]
            continue
        assert [t.kind for t in texts_of_one] == ["first", "retry", "retry"]
        assert {t.body for t in texts_of_one} == {WRONG}
        for before, after in pairwise(texts_of_one):
            assert 0.4 <= after.planned_s - before.planned_s <= 0.5


def stochastic(seed: int) -> dict[str, Any]:
    return scenario(
        seed,
        size=6,
        retry_probability=0.6,
        max_retries=3,
        typo_probability=0.5,
        impatient={"probability": 0.5, "extra_texts": [1, 2], "delay_s": [0.05, 0.15]},
    )


async def test_one_seed_gives_the_same_texts_at_the_same_planned_times(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    first = await burst(attendance, make_sim, stochastic(5))
    again = await burst(attendance, make_sim, stochastic(5))
    other = await burst(attendance, make_sim, stochastic(6))

    assert plan(first) == plan(again)
    assert plan(first) != plan(other)
    # the seed exercises every random decision: duplicates, retries and typos
    kinds = Counter(t.kind for t in first.burst.planned)
    assert kinds["duplicate"] > 0 and kinds["retry"] > 0
    intended = {s.phone: s.body for s in first.burst.students}
    assert any(t.kind == "retry" and t.body != intended[t.phone] for t in first.burst.planned)

    # and the gateway saw the same thing both times
    def received(result: BurstResult) -> list[tuple[str, str, str]]:
        return [(e.from_, e.body, e.meta["kind"]) for e in inbound_events(result)]

    assert received(first) == received(again)
    assert first.report.outbound.to_json() == again.report.outbound.to_json()
    assert first.report.total_cost == again.report.total_cost


async def test_no_retries_when_the_answers_do_not_match(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    result = await burst(attendance, make_sim, scenario(max_retries=3), path="/checkin")
    report = result.report

    assert [t.kind for t in result.burst.planned] == ["first"] * 8
    assert report.inbound.count == 8 == attendance.webhooks
    assert report.outbound_by_origin["reply"].count == 8
    assert report.outbound_by_origin["api"].count == 0
    assert report.amplification["messages"] == 1.0
    assert report.repeated_answers == []
    bodies = [t.body for t in result.burst.planned]
    assert report.total_cost == sum(
        (price(Direction.INBOUND, b) + price(Direction.OUTBOUND, CHECKED_IN) for b in bodies),
        Decimal(0),
    )


@pytest.mark.parametrize("max_retries", [0, 2])
async def test_silence_makes_students_retry_after_no_reply_after_s(
    attendance: AttendanceApp, make_sim: Any, max_retries: int
) -> None:
    spec = scenario(size=5, no_reply_after_s=0.3, delay_s=0.1, max_retries=max_retries)
    result = await burst(attendance, make_sim, spec, path="/silent")
    report = result.report

    texts = 5 * (1 + max_retries)
    assert Counter(t.kind for t in result.burst.planned) == {"first": 5} | (
        {"retry": 5 * max_retries} if max_retries else {}
    )
    assert report.inbound.count == texts == attendance.webhooks
    assert report.outbound.count == 0
    assert report.amplification["messages"] == 0.0
    assert report.total_cost == sum(
        (price(Direction.INBOUND, t.body) for t in result.burst.planned), Decimal(0)
    )
    # nothing came back, so each re-text waited out no_reply_after_s after the one before
    by_phone: dict[str, list[float]] = {}
    for text in result.burst.planned:
        by_phone.setdefault(text.phone, []).append(text.planned_s)
    for times in by_phone.values():
        assert len(times) == 1 + max_retries
        assert [round(b - a, 6) for a, b in pairwise(times)] == [0.3] * max_retries


async def test_max_retries_caps_re_texts_even_when_every_answer_says_invalid(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    spec = scenario(size=4, max_retries=1)
    spec["texts"] = {"bodies": [WRONG]}
    result = await burst(attendance, make_sim, spec)

    assert Counter(t.kind for t in result.burst.planned) == {"first": 4, "retry": 4}
    assert result.report.inbound.count == 8
    assert result.report.outbound_by_origin["api"].count == 8
    assert result.report.amplification["messages"] == 2.0


async def test_impatient_duplicates_ignore_the_answers(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    impatient = {"probability": 1, "extra_texts": 2, "delay_s": [0.05, 0.1]}
    spec = scenario(size=4, max_retries=1, impatient=impatient)
    spec["texts"] = {"bodies": [WRONG]}
    result = await burst(attendance, make_sim, spec)

    # two duplicates each, sent whatever came back; only the first text and the retry
    # are read, so "Invalid" to a duplicate adds no retries beyond max_retries
    assert Counter(t.kind for t in result.burst.planned) == {
        "first": 4,
        "duplicate": 8,
        "retry": 4,
    }
    for student in result.burst.students:
        mine = [t for t in result.burst.planned if t.phone == student.phone]
        first, *duplicates = [t for t in mine if t.kind != "retry"]
        assert first.kind == "first" and [d.kind for d in duplicates] == ["duplicate"] * 2
        gaps = [
            b.planned_s - a.planned_s
            for a, b in zip([first, *duplicates], duplicates, strict=False)
        ]
        assert all(0.05 <= g <= 0.1 for g in gaps)
        assert {t.body for t in mine} == {WRONG}
    report = result.report
    assert report.inbound.count == 16
    assert report.outbound_by_origin["reply"].count == 16
    assert report.outbound_by_origin["api"].count == 16
    assert report.amplification["messages"] == 2.0

    # with answers that never match, duplicates still go out and nobody retries
    checkin = await burst(attendance, make_sim, scenario(size=4, impatient=impatient), "/checkin")
    assert Counter(t.kind for t in checkin.burst.planned) == {"first": 4, "duplicate": 8}


async def test_every_send_records_its_plan_and_lateness(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    result = await burst(attendance, make_sim, stochastic(5))
    planned = [e for e in result.events if isinstance(e, SendPlanned)]

    assert len(planned) == len(result.burst.planned) == result.report.inbound.count
    assert [(e.phone, e.kind, e.planned_s) for e in planned] == [
        (t.phone, t.kind, round(t.planned_s, 6)) for t in result.burst.planned
    ]
    assert all(e.lateness_ms >= 0 for e in planned)
    # each inbound carries the same plan in its meta, right after its send.planned event
    metas = [e.meta for e in inbound_events(result)]
    assert metas == [t.meta() for t in result.burst.planned]
    assert result.report.lateness["sends"] == len(planned)
    assert result.report.lateness["count"] == len(planned)
    assert result.report.lateness["max"] is not None


async def test_a_remote_gateway_gives_the_same_run(
    attendance: AttendanceApp, make_sim: Any
) -> None:
    """`run_burst(sim_url=...)` drives a running gateway through its control plane."""
    local = await burst(attendance, make_sim, scenario())
    sim = await make_sim(config_with(attendance.url("/sms")))
    attendance.sim = sim
    await asyncio.to_thread(lambda: sim.client().messages.list(limit=1))

    remote = await run_burst(scenario_from_dict(scenario()), sim_url=sim.url)

    assert plan(remote) == plan(local)
    for figures in (lambda r: r.inbound, lambda r: r.outbound):
        assert figures(remote.report).to_json() == figures(local.report).to_json()
    assert remote.report.amplification == local.report.amplification
    assert remote.report.total_cost == local.report.total_cost
    assert remote.report.lateness["sends"] == len(remote.burst.planned)
    assert remote.report.duration_s > 0
