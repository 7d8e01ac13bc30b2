"""CI gates: `twsim burst`, `report` and `load` exit 3 when a threshold is crossed.

`twsim.cli.main.main` runs its own event loop, so each call runs in a worker thread while the
loopback app keeps answering on the test's loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from twsim.analysis.thresholds import Thresholds
from twsim.cli.errors import EXIT_THRESHOLD
from twsim.cli.main import main
from twsim.config.shipped import DATA
from twsim.core.price_table_reader import read_price_table
from twsim.core.pricing import Channel, Direction, NumberType, PriceKey, format_money
from twsim.recording.journal import read_recording

US_YAML = yaml.safe_load(DATA.joinpath("prices", "us.yaml").read_text())
US = read_price_table(US_YAML, name="us")
INVALID = "Invalid code, try again"

SCENARIO = """\
name: cli classroom
seed: 3
population:
  size: 3
texts:
  bodies: [CS1O1]
arrival:
  kind: flash
  within_s: 0.1
students:
  retry_when: invalid
  retry_probability: 1
  max_retries: 1
  delay_s: 0.3
  no_reply_after_s: 1
"""
TEXTS = 6  # three students, each texting twice


def sms(direction: Direction) -> Decimal:
    return US.charge(PriceKey("US", NumberType.LOCAL, direction, Channel.SMS), 1).total


@pytest.fixture
async def app_url(serve_app: Any) -> str:
    """`/sms` answers every text "Invalid code, try again"; `/broken` answers HTTP 500."""

    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(
            text=f"<Response><Message>{INVALID}</Message></Response>", content_type="text/xml"
        )

    async def broken(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(status=500, text="database is locked")

    app = web.Application()
    app.router.add_post("/sms", answer)
    app.router.add_post("/broken", broken)
    server = await serve_app(app)
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "cli.yaml"
    path.write_text(SCENARIO)
    return path


async def twsim(*argv: str | Path) -> int:
    return await asyncio.to_thread(main, [str(a) for a in argv])


def burst_args(scenario: Path, url: str, *extra: str | Path) -> Sequence[str | Path]:
    return ("burst", scenario, "--app", url, "--port", "0", "--quiet", *extra)


@pytest.mark.parametrize(
    ("thresholds", "status", "crossed"),
    [
        (["--max-amplification", "0.1"], EXIT_THRESHOLD, ["amplification 1.00"]),
        (["--max-cost", "0.05"], EXIT_THRESHOLD, ["total cost"]),
        (["--max-amplification", "0.1", "--max-cost", "0.05"], EXIT_THRESHOLD, ["amp", "total"]),
        (
            ["--max-amplification", "1", "--max-cost", "5", "--max-errors", "0"],
            0,
            [],
        ),
        ([], 0, []),
    ],
    ids=["amplification", "cost", "both", "generous", "none"],
)
async def test_burst_exits_3_when_a_threshold_is_crossed(
    app_url: str,
    scenario_file: Path,
    capsys: pytest.CaptureFixture[str],
    thresholds: list[str],
    status: int,
    crossed: list[str],
) -> None:
    code = await twsim(*burst_args(scenario_file, f"{app_url}/sms", "--json", *thresholds))
    out, err = capsys.readouterr()

    assert code == status
    report = json.loads(out)
    assert report["inbound"]["count"] == TEXTS
    assert report["outbound"]["by_origin"]["reply"]["count"] == TEXTS
    assert report["amplification"]["messages"] == 1.0
    assert report["total_cost"] == format_money(
        TEXTS * (sms(Direction.INBOUND) + sms(Direction.OUTBOUND))
    )
    problems = report["threshold_violations"]
    assert len(problems) == len(crossed)
    assert all(p.startswith(c) for p, c in zip(problems, crossed, strict=True))
    assert err.count("threshold crossed: ") == len(crossed)


async def test_burst_prints_the_text_report_and_the_crossed_threshold(
    app_url: str, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await twsim(*burst_args(scenario_file, f"{app_url}/sms", "--max-amplification", "0.5"))
    out, err = capsys.readouterr()

    assert code == EXIT_THRESHOLD
    assert out.startswith("twsim burst: cli classroom\n")
    assert "amplification: 1.00 outbound messages" in out
    assert "by burst position" in out
    assert err.strip().splitlines()[-1] == (
        "threshold crossed: amplification 1.00 outbound messages per inbound > 0.5"
    )


async def test_report_on_a_recording_with_errors(
    app_url: str, scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "broken.jsonl"
    # students hear nothing from a failing app, so each re-texts once after 1 s
    assert await twsim(*burst_args(scenario_file, f"{app_url}/broken", "--record", recording)) == 0
    capsys.readouterr()
    assert read_recording(recording).header.scenario is not None

    assert main(["report", str(recording), "--max-errors", "0"]) == EXIT_THRESHOLD
    out, err = capsys.readouterr()
    assert f"errors by Twilio code: 11200 HTTP retrieval failure x{TEXTS}" in out
    assert f"threshold crossed: {TEXTS} errors > 0" in err

    assert main(["report", str(recording), "--max-errors", str(TEXTS)]) == 0
    capsys.readouterr()

    assert main(["report", str(recording), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == {"11200": TEXTS}
    assert report["webhook"]["requests"] == TEXTS and report["webhook"]["failures"] == TEXTS
    assert report["outbound"]["count"] == 0
    assert report["total_cost"] == format_money(TEXTS * sms(Direction.INBOUND))
    assert report["threshold_violations"] == []


async def test_report_reprices_a_recording_with_another_table(
    app_url: str, scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "run.jsonl"
    assert await twsim(*burst_args(scenario_file, f"{app_url}/sms", "--record", recording)) == 0
    cheap = US_YAML | {"name": "cheap"}
    cheap["countries"] = {
        "US": {"sms": {"inbound": {"local": "0.001"}, "outbound": {"local": "0.002"}}}
    }
    table = tmp_path / "cheap.yaml"
    table.write_text(yaml.safe_dump(cheap))
    capsys.readouterr()

    assert main(["report", str(recording), "--json", "--prices", str(table)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total_cost"] == format_money(TEXTS * Decimal("0.003"))
    assert main(["report", str(recording), "--prices", str(table), "--max-cost", "0.01"]) == 3
    assert "(priced with cheap)" in capsys.readouterr().out


async def test_load_mode_thresholds(app_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["load", f"{app_url}/sms", "-n", "4", "-c", "2", "--quiet", "--json"]

    assert await twsim(*argv, "--max-amplification", "0.5") == EXIT_THRESHOLD
    result = json.loads(capsys.readouterr().out)
    assert result["requests"] == 4 and result["replies"]["count"] == 4
    assert result["amplification"] == 1.0
    assert result["threshold_violations"] == [
        "amplification 1.00 outbound messages per inbound > 0.5"
    ]

    assert await twsim(*argv, "--max-amplification", "1", "--max-errors", "0") == 0
    assert json.loads(capsys.readouterr().out)["threshold_violations"] == []


def test_thresholds_check_bare_figures() -> None:
    gates = Thresholds(
        max_amplification=1.5, max_cost=Decimal("0.10"), max_p99_ms=250.0, max_errors=0
    )
    assert gates.check(1.5, Decimal("0.10"), 250.0, 0) == []  # at the limit passes
    assert gates.check(1.51, Decimal("0.11"), 251.0, 1) == [
        "amplification 1.51 outbound messages per inbound > 1.5",
        "total cost 0.1100 > 0.10",
        "webhook p99 251.0 ms > 250.0 ms",
        "1 errors > 0",
    ]
    assert gates.check(9.0, Decimal(9), None, 0)[-1].startswith("total cost")  # no latency yet
    assert Thresholds().check(99.0, Decimal(99), 9e9, 99) == []
