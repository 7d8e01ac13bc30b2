"""`twsim serve` with observers, as a user runs it: the banner says where the SMTP sink is,
mail and log lines sent while it runs are in its events and its recording."""

from __future__ import annotations

import asyncio
import json
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest

from twsim.cli.main import main


async def test_serve_watches_mail_and_logs_and_records_them(tmp_path: Path) -> None:
    record, log = tmp_path / "served.jsonl", tmp_path / "app.log"
    log.write_text("before twsim\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twsim", "serve", "--port", "0", "--record", str(record),
        "--smtp", "0", "--observe-log", str(log), "--log-level-regex", "ERROR",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    banner: list[str] = []
    try:
        while not banner or not banner[-1].startswith("Press Ctrl-C"):
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, "serve ended early: " + "\n".join(banner)
            banner.append(line.decode().rstrip())
        url = banner[0].split(" at ")[-1]
        sink = next(line for line in banner if "SMTP sink" in line).split()[2]
        assert f"  watching log    {log}" in banner
        host, _, port = sink.rpartition(":")

        note = EmailMessage()
        note["From"], note["To"], note["Subject"] = "app@x.test", "prof@x.test", "Hello"
        note.set_content("an email while twsim serves")

        def mail() -> None:
            with smtplib.SMTP(host, int(port), timeout=30) as client:
                client.send_message(note)

        await asyncio.to_thread(mail)
        with log.open("a") as f:
            f.write("INFO one\nERROR two\n")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/_twsim/quiet") as r:  # observers look when quiet
                assert r.status == 200
            async with session.get(
                f"{url}/_twsim/events", params=[("type", "email.received"), ("type", "log.lines")]
            ) as r:
                events = (await r.json())["events"]
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0
    kinds = {e["type"]: e["data"] for e in events}
    assert kinds["email.received"]["subject"] == "Hello"
    assert (kinds["log.lines"]["lines"], kinds["log.lines"]["errors"]) == (2, 1)
    # the recording has them too, and its report counts them
    assert main(["report", str(record), "--json"]) == 0


def test_side_effect_options_need_the_in_process_gateway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["burst", "classroom", "--sim", "http://127.0.0.1:9", "--smtp", "0"])
    assert status == 2
    assert "observing side effects needs the in-process gateway" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--smtp", "host:port", "expected [HOST:]PORT"),
        ("--observe-db", "mysql://x", "expected a sqlite:/// or postgresql:// URL"),
        ("--log-level-regex", "(", "not a regular expression"),
        ("--observe-port", "70000", "port must be 1-65535"),
    ],
)
def test_bad_side_effect_options_are_usage_errors(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", option, value]) == 2
    assert message in capsys.readouterr().err


def test_a_report_without_observers_says_nothing_was_watched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample = Path(__file__).resolve().parents[2] / "recordings" / "sample-classroom.jsonl"
    assert main(["report", str(sample), "--json"]) == 0
    side = json.loads(capsys.readouterr().out)["side_effects"]
    assert side["watched"] == {} and side["totals"]["emails"] == 0
    assert main(["report", str(sample)]) == 0
    assert "side effects" not in capsys.readouterr().out  # nothing watched: no block


def test_observers_that_cannot_start_are_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--port", "0", "--observe-pid", "4194303"]) == 1
    assert "cannot observe process 4194303" in capsys.readouterr().err
    status = main(
        [
            "burst", "classroom", "--app", "http://127.0.0.1:9/sms", "--port", "0", "--quiet",
            "--app-cmd", "echo 'the app needs DATABASE_URL'; exit 3",
        ]
    )  # fmt: skip
    assert status == 1
    err = capsys.readouterr().err
    assert "exited with status 3" in err and "the app needs DATABASE_URL" in err
