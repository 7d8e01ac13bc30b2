"""A seeded burst recorded against the real attendance app, then `report`, `replay` and
`diff` over that recording, all through the `twsim` command.

The attendance app runs in its own process and sends its REST calls (the note to the
professor) to a gateway port chosen up front, so every command here runs its in-process
gateway on that same port, one after the other.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from harness import (
    CLASS_CODE,
    INVALID_REPLY,
    WRONG_CODE,
    AttendanceProcess,
    ClassroomApp,
    ThreadedApp,
    cli,
    cli_json,
    lines_of,
    twiml,
    unused_port,
    write_scenario,
)

from twsim.config.models import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    Config,
    NumberConfig,
)
from twsim.config.shipped import DATA
from twsim.recording.journal import read_recording
from twsim.server.simulator import Simulator

PROFESSOR = "+12025550147"
OTHER_NUMBER = "+12025550100"
CREDENTIALS = base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
US = yaml.safe_load(DATA.joinpath("prices", "us.yaml").read_text(encoding="utf-8"))["countries"][
    "US"
]
SMS_IN = Decimal(US["sms"]["inbound"]["local"])
SMS_OUT = Decimal(US["sms"]["outbound"]["local"]) + Decimal(
    US["carrier_fees"]["sms"]["outbound"]["local"]
)
# what a replay must reproduce exactly. Not: latencies, lateness and duration (measured),
# and the split of REST sends over inbound texts by position or sender (a REST call names no
# inbound, so it goes to the webhook in flight; a faster replay overlaps more webhooks)
SAME = (
    "currency",
    "inbound",
    "outbound",
    "amplification",
    "senders",
    "repeated_answers",
    "callbacks",
    "errors",
    "ucs2",
    "api_calls",
    "rejected",
    "auto_replies",
    "total_cost",
)


@dataclass(frozen=True, slots=True)
class Run:
    path: Path
    report: dict[str, Any]

    def texts(self) -> list[tuple[str, str, str]]:
        return [
            (e.from_, e.to, e.body)
            for e in read_recording(self.path).events
            if e.type == "inbound.received"
        ]

    def invalid(self) -> int:
        return sum(body.strip().upper() != CLASS_CODE for _, _, body in self.texts())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replay")


@pytest.fixture(scope="module")
def gateway_port() -> int:
    return unused_port()


@pytest.fixture(scope="module")
def naive(workdir: Path, gateway_port: int) -> Iterator[AttendanceProcess]:
    app = AttendanceProcess(f"http://127.0.0.1:{gateway_port}", workdir)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def recorded(workdir: Path, naive: AttendanceProcess, gateway_port: int) -> Run:
    """`twsim burst --record` of a seeded small class against the naive app."""
    scenario = write_scenario(workdir / "small-class.yaml")
    path = workdir / "burst.jsonl"
    code, live = cli_json(
        *("burst", scenario, "--seed", "11", "--app", naive.sms_url),
        *("--port", str(gateway_port), "--record", path, "--quiet"),
    )
    assert code == 0, live
    return Run(path, live)


def replay(run: Run, app_url: str, port: int, out: Path, speed: str = "max") -> Run:
    code, report = cli_json(
        *("replay", run.path, "--app", app_url, "--port", str(port)),
        *("--speed", speed, "--record", out),
    )
    assert code == 0, report
    return Run(out, report)


# -- the recording ---------------------------------------------------------------------------
def test_the_recorded_burst_is_the_classroom_story(recorded: Run) -> None:
    report, invalid = recorded.report, recorded.invalid()
    header = lines_of(recorded.path)[0]
    assert (header["scenario"]["name"], header["scenario"]["seed"]) == ("small-class", 11)
    assert report["senders"] == 10
    assert report["inbound"]["count"] > 10  # students texted again after "invalid"
    assert invalid > 0
    # the naive app answers every text and notes every invalid one to the professor
    assert report["outbound"]["by_origin"]["reply"]["count"] == report["inbound"]["count"]
    assert report["outbound"]["by_origin"]["api"]["count"] == invalid
    assert report["errors"] == {}


def test_report_of_the_recording_is_the_live_report(recorded: Run) -> None:
    code, rebuilt = cli_json("report", recorded.path)
    assert code == 0
    assert rebuilt == recorded.report


def test_report_prices_the_recording_with_another_table(recorded: Run, workdir: Path) -> None:
    table = workdir / "double.yaml"
    table.write_text(
        yaml.safe_dump(
            {
                "name": "double",
                "taken": "2026-12-01",
                "source": "every US figure doubled",
                "currency": "USD",
                "countries": {
                    "US": {
                        "sms": {
                            "inbound": {"local": str(2 * SMS_IN)},
                            "outbound": {"local": str(2 * Decimal(US["sms"]["outbound"]["local"]))},
                        },
                        "carrier_fees": {
                            "sms": {
                                "outbound": {
                                    "local": str(
                                        2 * Decimal(US["carrier_fees"]["sms"]["outbound"]["local"])
                                    )
                                }
                            }
                        },
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    before = recorded.report
    code, priced = cli_json("report", recorded.path, "--prices", table)
    assert code == 0
    inbound, outbound = before["inbound"]["segments"], before["outbound"]["segments"]
    assert Decimal(before["total_cost"]) == inbound * SMS_IN + outbound * SMS_OUT
    assert Decimal(priced["inbound"]["cost"]) == inbound * 2 * SMS_IN
    assert Decimal(priced["outbound"]["cost"]) == outbound * 2 * SMS_OUT
    assert Decimal(priced["total_cost"]) == 2 * Decimal(before["total_cost"])
    assert priced["amplification"]["messages"] == before["amplification"]["messages"]

    code, out, _ = cli("report", recorded.path, "--prices", table)
    assert code == 0 and "priced with double" in out
    code, compared = cli_json("diff", recorded.path, recorded.path, "--prices", table)
    assert code == 0
    assert Decimal(compared["before"]["total_cost"]) == Decimal(priced["total_cost"])
    assert Decimal(compared["cost_increase"]) == 0


def test_report_thresholds_gate_the_recording(recorded: Run) -> None:
    amplification = recorded.report["amplification"]["messages"]
    assert amplification > 1
    code, _, err = cli("report", recorded.path, "--max-amplification", "1")
    assert code == 3 and "threshold crossed: amplification" in err
    assert cli("report", recorded.path, "--max-amplification", str(amplification))[0] == 0


# -- replay ----------------------------------------------------------------------------------
@pytest.mark.parametrize("speed", ["10", "max"])
def test_replay_against_the_same_app_gives_the_same_counts_and_amplification(
    recorded: Run, naive: AttendanceProcess, gateway_port: int, workdir: Path, speed: str
) -> None:
    again = replay(recorded, naive.sms_url, gateway_port, workdir / f"speed-{speed}.jsonl", speed)

    assert {k: again.report[k] for k in SAME} == {k: recorded.report[k] for k in SAME}
    assert [(p["position"], p["inbound"]) for p in again.report["by_position"]] == [
        (p["position"], p["inbound"]) for p in recorded.report["by_position"]
    ]
    assert again.texts() == recorded.texts()  # the same texts, in the same order
    events = read_recording(again.path).events
    # each text was planned at its original offset from the first (the pace is scaled)
    original = [e.t for e in read_recording(recorded.path).events if e.type == "inbound.received"]
    planned = [e.planned_s for e in events if e.type == "send.planned"]
    assert planned == [round(t - original[0], 6) for t in original]
    header = lines_of(again.path)[0]
    assert header["meta"] == {"replay_of": str(recorded.path), "speed": speed}
    assert header["scenario"] == lines_of(recorded.path)[0]["scenario"]

    code, rebuilt = cli_json("report", again.path)
    assert code == 0 and rebuilt == again.report
    code, compared = cli_json(
        *("diff", recorded.path, again.path, "--max-amplification-increase", "0"),
        *("--max-cost-increase", "0", "--max-new-errors", "0"),
    )
    assert code == 0, compared["threshold_violations"]
    assert compared["amplification_increase"] == 0
    assert (compared["conversations_changed"], compared["only_before"], compared["only_after"]) == (
        0,
        0,
        0,
    )


# -- diff ------------------------------------------------------------------------------------
def worse_app(gateway_port: int) -> ThreadedApp:
    """The naive app, plus a second "invalid" text for every invalid code."""

    async def handle(request: web.Request, form: dict[str, str]) -> web.Response:
        if form["Body"].strip().upper() == CLASS_CODE:
            return twiml(f"Checked in to {CLASS_CODE}. See you in class! \u2705")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{gateway_port}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json",
                data={"To": PROFESSOR, "From": DEFAULT_NUMBER, "Body": "invalid code again"},
                headers={"Authorization": f"Basic {CREDENTIALS}"},
            ) as response,
        ):
            assert response.status == 201
        return twiml(INVALID_REPLY, "Really: that code is invalid.")

    return ThreadedApp(handle)


def test_diff_flags_an_app_that_answers_twice(
    recorded: Run, gateway_port: int, workdir: Path
) -> None:
    with worse_app(gateway_port) as app:
        worse = replay(recorded, f"{app.url}/sms", gateway_port, workdir / "worse.jsonl")
    assert app.requests == recorded.report["inbound"]["count"] and app.invalid == 0

    code, out, err = cli("diff", recorded.path, worse.path, "--max-amplification-increase", "0.1")
    assert code == 3
    assert "threshold crossed: amplification rose by" in err
    assert "conversations answered differently" in out

    invalid = recorded.invalid()
    code, compared = cli_json("diff", recorded.path, worse.path)
    assert code == 0  # no threshold given, nothing to cross
    assert compared["after"]["outbound"] == compared["before"]["outbound"] + invalid
    assert compared["amplification_increase"] == round(
        compared["after"]["amplification"]["messages"]
        - compared["before"]["amplification"]["messages"],
        4,
    )
    assert Decimal(compared["cost_increase"]) == invalid * SMS_OUT
    assert compared["conversations_changed"] == invalid
    for change in compared["changed"]:
        assert change["before"] == [INVALID_REPLY]
        assert change["after"] == [INVALID_REPLY, "Really: that code is invalid."]

    increase = Decimal(compared["cost_increase"])
    cost_gate = ("diff", recorded.path, worse.path, "--max-cost-increase")
    assert cli(*cost_gate, str(increase))[0] == 0
    assert cli(*cost_gate, str(increase - Decimal("0.0001")))[0] == 3
    assert cli("diff", recorded.path, worse.path, "--max-new-errors", "0")[0] == 0
    for path in (recorded.path, worse.path):
        assert cli("diff", path, path, "--max-amplification-increase", "0.1")[0] == 0


def test_diff_shows_the_fixed_app_answers_less(
    recorded: Run, gateway_port: int, workdir: Path
) -> None:
    fixed_app = AttendanceProcess(f"http://127.0.0.1:{gateway_port}", workdir, fixed=True)
    try:
        fixed = replay(recorded, fixed_app.sms_url, gateway_port, workdir / "fixed.jsonl")
    finally:
        fixed_app.stop()

    gates = ("--max-amplification-increase", "0", "--max-cost-increase", "0")
    code, compared = cli_json("diff", recorded.path, fixed.path, *gates)
    assert code == 0
    assert compared["amplification_increase"] < 0
    assert compared["conversations_changed"] > 0
    assert fixed.report["outbound"]["by_origin"]["api"]["count"] == 1  # one note per wrong code
    assert cli("diff", fixed.path, recorded.path, "--max-amplification-increase", "0.1")[0] == 3


async def test_replay_to_another_number_needs_to(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    config = Config()
    config.numbers = [NumberConfig(phone_number=OTHER_NUMBER, sms_url=f"{classroom_app.url}/sms")]
    path = tmp_path / "other-number.jsonl"
    async with Simulator(config, port=0, record=path) as sim:
        for body in (WRONG_CODE, CLASS_CODE):
            await sim.send(body, from_="+15551230001")
        await sim.quiet()

    app = ("--app", f"{classroom_app.url}/sms", "--port", "0", "--speed", "max", "--json")
    code, out, err = await asyncio.to_thread(cli, "replay", path, *app)
    assert (code, out) == (2, "")  # refused before anything is sent
    assert f"the recorded texts go to {OTHER_NUMBER}, which this gateway does not have" in err
    assert "hint: --to NUMBER sends them to one it has" in err

    code, out, err = await asyncio.to_thread(cli, "replay", path, *app, "--unknown-numbers", "send")
    assert code == 0
    rejected = json.loads(out)
    assert (rejected["inbound"]["count"], rejected["rejected"]["inbound"]) == (0, 2)

    code, out, err = await asyncio.to_thread(cli, "replay", path, *app, "--unknown-numbers", "add")
    assert code == 0
    assert f"added {OTHER_NUMBER} to the gateway" in err
    added = json.loads(out)
    assert (added["inbound"]["count"], added["outbound"]["count"]) == (2, 2)

    code, out, err = await asyncio.to_thread(
        cli, "replay", path, *app, "--to", DEFAULT_NUMBER, "--quiet"
    )
    assert code == 0 and not err
    answered = json.loads(out)
    assert (answered["inbound"]["count"], answered["outbound"]["count"]) == (2, 2)
