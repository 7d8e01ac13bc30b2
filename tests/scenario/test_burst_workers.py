"""`twsim burst --workers N`: the students split over processes, each with its own gateway;
the same texts as one process, one merged recording and one exact report."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from twilio.request_validator import RequestValidator

from twsim.cli.main import main
from twsim.config.models import DEFAULT_AUTH_TOKEN
from twsim.model.events import InboundReceived, SendPlanned
from twsim.recording.journal import read_recording

SCENARIO = {
    "name": "split-class",
    "seed": 11,
    "population": {"size": 12},
    "texts": {"bodies": [{"body": "CS1O1", "weight": 3}, {"body": "CS101", "weight": 1}]},
    "arrival": {"kind": "flash", "within_s": 0.3},
    "students": {
        "retry_when": "invalid",
        "retry_probability": 1.0,
        "max_retries": 2,
        "delay_s": [0.4, 0.5],
        "no_reply_after_s": 5,
    },
}


async def twsim(*args: str | Path) -> tuple[int, str, str]:
    def run() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
        return code, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(run)


async def test_two_workers_send_the_same_texts_and_merge_one_recording_and_report(
    serve_app: Any, tmp_path: Path
) -> None:
    # slow-ish: two runs of a 12-student burst, the second in two spawned processes
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    invalid = 0

    async def sms(request: web.Request) -> web.Response:
        nonlocal invalid
        params = {k: str(v) for k, v in (await request.post()).items()}
        if not validator.validate(str(request.url), params, request.headers["X-Twilio-Signature"]):
            invalid += 1
            return web.Response(status=403)
        answer = "Checked in" if params["Body"] == "CS101" else "Invalid code, try again"
        return web.Response(
            text=f"<Response><Message>{answer}</Message></Response>", content_type="text/xml"
        )

    app = web.Application()
    app.router.add_post("/sms", sms)
    server = await serve_app(app)
    scenario = tmp_path / "class.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    common = [
        "burst", scenario, "--app", f"http://127.0.0.1:{server.port}/sms",
        "--port", "0", "--json", "--quiet",
    ]  # fmt: skip

    code, out_one, err = await twsim(*common, "--record", tmp_path / "one.jsonl")
    assert code == 0, err
    code, out_two, err = await twsim(*common, "--workers", "2", "--record", tmp_path / "two.jsonl")
    assert code == 0, err
    assert invalid == 0

    one, two = read_recording(tmp_path / "one.jsonl"), read_recording(tmp_path / "two.jsonl")

    def plan(events: list[Any]) -> Counter[tuple[str, str, int, float]]:
        return Counter(
            (e.phone, e.kind, e.text, e.planned_s) for e in events if isinstance(e, SendPlanned)
        )

    def bodies(events: list[Any]) -> Counter[tuple[str, str]]:
        return Counter((e.from_, e.body) for e in events if isinstance(e, InboundReceived))

    assert plan(two.events) == plan(one.events) and sum(plan(one.events).values()) > 12
    assert bodies(two.events) == bodies(one.events)
    assert [e.seq for e in two.events] == list(range(1, len(two.events) + 1))
    assert all(a.t <= b.t for a, b in zip(two.events, two.events[1:], strict=False))
    assert len({e.message for e in two.events if e.message}) == len(
        {e.message for e in one.events if e.message}
    )  # no SID drawn twice by the two gateways
    assert two.header.meta["workers"] == 2

    report_one, report_two = json.loads(out_one), json.loads(out_two)
    for key in ("inbound", "outbound", "amplification", "by_position", "errors", "total_cost"):
        assert report_two[key] == report_one[key], key
    for key in ("requests", "failures"):
        assert report_two["webhook"][key] == report_one["webhook"][key], key
