"""`--html OUT.html` on report, diff, burst, replay and load: one self-contained page each."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from twsim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "recordings" / "sample-classroom.jsonl"
IMPORTED = ROOT / "tests" / "data" / "imported-v0.1.0.jsonl"
SCENARIO = """\
name: html classroom
seed: 3
population: {size: 2}
texts: {bodies: [CS1O1]}
arrival: {kind: flash, within_s: 0.1}
students: {retry_when: invalid, retry_probability: 1, max_retries: 1, delay_s: 0.2, no_reply_after_s: 1}
"""


async def twsim(*argv: str | Path) -> int:
    return await asyncio.to_thread(main, [str(a) for a in argv])


def document(page: Path) -> dict[str, Any]:
    """The JSON a page draws from."""
    html = page.read_text("utf-8")
    assert "<script src" not in html and "<link" not in html  # everything inline
    raw = html.split('<script type="application/json" id="twsim-data">')[1].split("</script>")[0]
    return json.loads(raw)  # type: ignore[no-any-return]


@pytest.fixture
async def app_url(serve_app: Any) -> str:
    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(
            text="<Response><Message>Invalid code</Message></Response>", content_type="text/xml"
        )

    app = web.Application()
    app.router.add_post("/sms", answer)
    server = await serve_app(app)
    return f"http://127.0.0.1:{server.port}/sms"


async def test_report_and_diff_write_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    page = tmp_path / "report.html"
    assert await twsim("report", SAMPLE, "--json", "--html", page) == 0
    out, err = capsys.readouterr()
    shown = document(page)
    assert shown["kind"] == "report"
    assert shown["report"] == {
        k: v for k, v in json.loads(out).items() if k != "threshold_violations"
    }
    assert f"HTML report written to {page}" in err

    diff_page = tmp_path / "diff.html"
    assert await twsim("diff", SAMPLE, IMPORTED, "--html", diff_page) == 0
    compared = document(diff_page)
    assert compared["kind"] == "diff"
    assert compared["names"] == [str(SAMPLE), str(IMPORTED)]
    assert compared["diff"]["new_errors"] == 3
    assert compared["codes"]["30003"]["meaning"] == "Unreachable destination handset"


async def test_a_page_that_cannot_be_written_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert await twsim("report", SAMPLE, "--html", tmp_path / "missing" / "r.html") == 2
    assert "cannot write" in capsys.readouterr().err


async def test_burst_replay_and_load_write_pages(
    app_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    record = tmp_path / "burst.jsonl"
    burst = tmp_path / "burst.html"
    argv = ("burst", scenario, "--app", app_url, "--port", "0", "--quiet", "--record", record)
    assert await twsim(*argv, "--html", burst) == 0
    run = document(burst)
    assert run["report"]["inbound"]["count"] == 4
    assert sum(run["series"]["inbound"]["2"]) == 2  # each student's re-text
    assert run["series"]["lateness_ms"]["t"]

    replayed = tmp_path / "replay.html"
    replay = ("replay", record, "--app", app_url, "--port", "0", "--speed", "max")
    assert await twsim(*replay, "--html", replayed) == 0
    assert document(replayed)["report"]["inbound"]["count"] == 4

    loaded = tmp_path / "load.html"
    assert await twsim("load", app_url, "-n", "20", "-c", "4", "--quiet", "--html", loaded) == 0
    load = document(loaded)
    assert load["kind"] == "load"
    assert load["result"]["requests"] == 20
    assert sum(load["series"]["inbound"]["1"]) == 20
    assert sum(load["series"]["replies"]) == 20
    assert sum(load["series"]["latency_histogram"]["counts"]) == 20
    capsys.readouterr()


async def test_a_burst_page_counts_every_text_however_few_events_the_gateway_keeps(
    app_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.replace("size: 2", "size: 6"))
    config = tmp_path / "twsim.yaml"
    config.write_text("retention: {events: 10, messages: 5}\n")
    record, page = tmp_path / "burst.jsonl", tmp_path / "burst.html"
    argv = ("burst", scenario, "--app", app_url, "--port", "0", "--quiet", "--config", config)
    assert await twsim(*argv, "--record", record, "--html", page) == 0
    run = document(page)
    assert run["report"]["inbound"]["count"] == 12  # six students, each re-texting once
    assert sum(sum(counts) for counts in run["series"]["inbound"].values()) == 12
    assert sum(run["series"]["inbound"]["2"]) == 6
    recorded = tmp_path / "recorded.html"
    assert await twsim("report", record, "--html", recorded) == 0
    assert document(recorded)["report"]["outbound"] == run["report"]["outbound"]
    capsys.readouterr()
