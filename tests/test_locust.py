"""`twsim.locust` under a real Locust: a master and two workers on loopback, headless, a
few seconds, against an app that validates every signature with RequestValidator."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from twsim.config.models import DEFAULT_AUTH_TOKEN

LOCUSTFILE = """
from locust import constant
from twsim.locust import TwilioWebhookUser


class Students(TwilioWebhookUser):
    webhook_path = "/sms"
    wait_time = constant(0.05)
    retry_delay_s = (0.01, 0.02)
    max_retexts = 1
    conversations = 6
"""
ROWS = [{"Body": "CS1O1"}, {"Body": "CS101"}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(120)
async def test_a_master_and_two_workers_text_the_app_and_merge_one_twsim_report(
    serve_app: Any, tmp_path: Path
) -> None:
    # slow because it runs Locust for real: three processes for eight seconds. Each of the
    # four students has six conversations, done in about a second; the workers' reports
    # every three seconds carry every figure to the master well before the run ends.
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    hits = {"valid": 0, "invalid": 0, "replies": 0, "retexts_seen": 0}
    seen_phones: set[str] = set()

    async def sms(request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        if not validator.validate(str(request.url), params, request.headers["X-Twilio-Signature"]):
            hits["invalid"] += 1
            return web.Response(status=403)
        hits["valid"] += 1
        seen_phones.add(params["From"])
        if params["Body"] == "CS101":
            return web.Response(status=204)  # checked in: no reply
        hits["replies"] += 1
        return web.Response(
            text="<Response><Message>Invalid code. Please try again.</Message></Response>",
            content_type="text/xml",
        )

    app = web.Application()
    app.router.add_post("/sms", sms)
    server = await serve_app(app)
    host = f"http://127.0.0.1:{server.port}"
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    port = free_port()
    common = ["-m", "locust", "-f", str(locustfile), "--host", host]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    master = await asyncio.create_subprocess_exec(
        sys.executable,
        *common,
        "--master",
        "--headless",
        "--expect-workers",
        "2",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "-u",
        "4",
        "-r",
        "4",
        "-t",
        "8s",
        "--csv",
        str(tmp_path / "run"),
        "--html",
        str(tmp_path / "run.html"),
        "--twsim-report",
        str(tmp_path / "twsim.json"),
        "--twsim-data",
        str(rows),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            *common,
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(port),
            "--twsim-data",
            str(rows),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    try:
        output, _ = await asyncio.wait_for(master.communicate(), 90)
        for worker in workers:
            await asyncio.wait_for(worker.communicate(), 30)
    finally:
        for process in (master, *workers):
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = output.decode(errors="replace")
    assert master.returncode == 0, text[-3000:]

    report = json.loads((tmp_path / "twsim.json").read_text())
    assert report["workers"] == 2
    assert hits["invalid"] == 0 and hits["valid"] > 0
    # every webhook the app validated is in the merged report, and nothing else
    assert report["requests"] == hits["valid"]
    assert report["successes"] == hits["valid"] and report["failures"] == 0
    assert report["replies"]["count"] == hits["replies"]
    assert report["retexts"] > 0  # "Invalid code" made students text again
    assert report["requests"] == 4 * 6 + report["retexts"]
    assert report["latency_ms"]["count"] == hits["valid"]
    assert float(report["total_cost"]) > 0
    assert len(seen_phones) == 4  # one phone per user, distinct across the two workers

    with open(tmp_path / "run_stats.csv", newline="") as f:
        stats = {(r["Type"], r["Name"]): r for r in csv.DictReader(f)}
    webhooks = sum(
        int(r["Request Count"]) for (kind, name), r in stats.items() if name.startswith("webhook")
    )
    assert webhooks == hits["valid"]
    assert int(stats[("twsim", "reply")]["Request Count"]) == hits["replies"]
    assert (tmp_path / "run.html").stat().st_size > 0
    assert "twsim:" in text and "estimated cost" in text
