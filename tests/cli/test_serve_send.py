"""`twsim serve` and `twsim send`, run as a user runs them: as commands."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from twsim.cli.main import main
from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER


@pytest.fixture
def served(tmp_path: Any) -> Iterator[tuple[str, list[str]]]:
    """`twsim serve --port 0 --record ...` in its own process; its base URL and banner."""
    record = tmp_path / "served.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "twsim", "serve", "--port", "0", "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    banner: list[str] = []
    try:
        for _ in range(20):
            line = process.stdout.readline()
            banner.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        url = banner[0].split(" at ")[-1]
        yield url, banner
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode == 0
    assert record.read_text().count("\n") > 1  # the recording was written and closed


def test_serve_prints_what_an_app_needs(served: tuple[str, list[str]]) -> None:
    url, banner = served
    text = "\n".join(banner)
    assert url.startswith("http://127.0.0.1:")
    assert DEFAULT_ACCOUNT_SID in text and DEFAULT_AUTH_TOKEN in text
    assert DEFAULT_NUMBER in text and "no sms_url" in text
    assert f"client.api.base_url = '{url}'" in text


async def test_send_texts_the_gateway_and_waits_for_the_answer(
    served: tuple[str, list[str]], serve_app: Any
) -> None:
    url, _ = served

    async def sms(request: web.Request) -> web.Response:
        form = await request.post()
        return web.Response(
            text=f"<Response><Message>got {form['Body']}</Message></Response>",
            content_type="text/xml",
        )

    app = web.Application()
    app.router.add_post("/sms", sms)
    server = await serve_app(app)
    app_url = f"http://127.0.0.1:{server.port}/sms"
    credentials = base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {credentials}"}) as session:
        numbers = f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers.json"
        async with session.get(numbers) as response:
            sid = (await response.json())["incoming_phone_numbers"][0]["sid"]
        async with session.post(
            numbers.replace(".json", f"/{sid}.json"), data={"SmsUrl": app_url}
        ) as response:
            assert response.status == 200

    argv = [
        "send",
        "--sim",
        url,
        "--to",
        DEFAULT_NUMBER,
        "--from",
        "+12025550123",
        "--body",
        "CS101",
        "--wait",
        "--json",
    ]
    status, printed = await asyncio.to_thread(_run_main, argv)
    assert status == 0
    answer = json.loads(printed)
    assert answer["webhook"][0]["http_status"] == 200
    assert [r["body"] for r in answer["replies"]] == ["got CS101"]

    status, printed = await asyncio.to_thread(
        _run_main, ["send", "--sim", url, "--to", "+15550000000", "--from", "+12025550123"]
    )
    assert status == 1
    assert printed.startswith("rejected: 21606")


def _run_main(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


def test_send_to_nothing_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["send", "--sim", "http://127.0.0.1:9", "--to", DEFAULT_NUMBER, "--from", "+12025550123"]
    )
    assert status == 1  # a runtime failure, not a usage error
    assert "cannot reach twsim at http://127.0.0.1:9" in capsys.readouterr().err


def test_serve_prints_the_web_page_and_opens_it_with_open(tmp_path: Any) -> None:
    """`--open` hands the page to the user's browser (here a command that echoes it)."""
    env = {**os.environ, "BROWSER": "echo opened %s"}
    process = subprocess.Popen(
        [sys.executable, "-m", "twsim", "serve", "--port", "0", "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for _ in range(30):
            line = process.stdout.readline().rstrip()
            lines.append(line)
            if line.startswith("opened "):
                break
    finally:
        process.terminate()
        process.wait(timeout=15)
    url = lines[0].split(" at ")[-1]
    assert f"  web page        {url}/_twsim/ui/" in lines
    assert lines[-1] == f"opened {url}/_twsim/ui/"
