"""No secret leaves twsim: not in recordings, events, outcomes, the banner or the report.

The app's webhook URL carries basic-auth credentials and a token in its query; a REST
call carries the account's token in its query string and a signature-like parameter in
its form. None of them may appear anywhere twsim writes or prints.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import aiohttp
from apps import PHONE, TwilioApp, reply

from twsim.cli.serve import banner
from twsim.config.models import DEFAULT_AUTH_TOKEN, Config, NumberConfig

SECRETS = ("pa55word", "hook-token-123", "client-secret-456")


async def test_secrets_are_masked_everywhere(app: TwilioApp, make_sim: Any, tmp_path: Path) -> None:
    url = app.answer("/sms", reply("hi"))
    port = url.split(":")[2].split("/")[0]
    secret_url = f"http://user:pa55word@127.0.0.1:{port}/sms?token=hook-token-123"
    config = Config()
    config.numbers = [NumberConfig(sms_url=secret_url, status_callback=secret_url)]
    recording = tmp_path / "run.jsonl"
    sim = await make_sim(config, record=recording)

    outcome = await sim.send("hello", from_=PHONE)
    credentials = base64.b64encode(f"{sim.account_sid}:{sim.auth_token}".encode()).decode()
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{sim.url}/2010-04-01/Accounts/{sim.account_sid}/Messages.json",
            params={"AuthToken": DEFAULT_AUTH_TOKEN, "PageSize": "5"},
            headers={"Authorization": f"Basic {credentials}"},
        ) as r:
            assert r.status == 200
        async with http.post(
            f"{sim.url}/2010-04-01/Accounts/{sim.account_sid}/Messages.json",
            data={
                "To": PHONE,
                "From": sim.number,
                "Body": "x",
                "client_secret": "client-secret-456",
                "StatusCallback": secret_url,
            },
            headers={"Authorization": f"Basic {credentials}"},
        ) as r:
            assert r.status == 201
        await sim.quiet()
        async with http.get(f"{sim.url}/_twsim/events") as r:
            events = await r.text()
        async with http.get(f"{sim.url}/_twsim/report") as r:
            report = await r.text()
    await sim.stop()

    assert app.hits[0].headers.get("Authorization")  # the app did get its credentials
    written = {
        "recording": recording.read_text(),
        "events": events,
        "report": report,
        "outcome": " ".join(a.url for a in outcome.attempts),
        "banner": "\n".join(banner(sim, config, str(recording))),
    }
    for where, text in written.items():
        for secret in SECRETS:
            assert secret not in text, (where, secret)
        if where != "banner":
            assert DEFAULT_AUTH_TOKEN not in text, where  # the banner shows it on purpose
    assert "user:***@127.0.0.1" in written["recording"]
    assert "token=***" in written["recording"]
    assert "AuthToken" in written["recording"]  # the parameter is recorded, its value is not
