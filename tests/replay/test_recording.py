"""Recordings on disk: the header, one self-contained event per line, no secrets, and a
reader that tolerates a run killed mid-write but names the line of anything else wrong."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
import sys
import warnings
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from harness import (
    CLASS_CODE,
    INVALID_REPLY,
    WRONG_CODE,
    ClassroomApp,
    cli,
    cli_json,
    lines_of,
    write_scenario,
)
from twilio.rest import Client

import twsim
from twsim.config.models import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_NUMBER,
    AccountConfig,
    ApiKeyConfig,
    Config,
    NumberConfig,
)
from twsim.config.shipped import DATA
from twsim.model.events import EventType, InboundReceived
from twsim.recording.journal import RecordingError, RecordingWarning, read_recording
from twsim.scenario.runner import run_burst
from twsim.scenario.spec import load_scenario
from twsim.server.simulator import Simulator

TEXTS = [
    ("+15551230001", WRONG_CODE),
    ("+15551230002", CLASS_CODE),
    ("+15551230001", WRONG_CODE.lower()),
]


async def record_class(
    path: Path, app: ClassroomApp, config: Config | None = None, **options: Any
) -> list[dict[str, Any]]:
    """Record a gateway while three texts reach the classroom app; the gateway's own events."""
    if config is None:
        config = Config(seed=5)
        config.numbers = [NumberConfig(sms_url=f"{app.url}/sms")]
    async with Simulator(config, port=0, record=path, **options) as sim:
        for phone, body in TEXTS:
            await sim.send(body, from_=phone)
        await sim.quiet()
        events = [json.loads(json.dumps(e.to_json(), default=str)) for e in sim.events]
    return events


@pytest.fixture
async def recording(tmp_path: Path, classroom_app: ClassroomApp) -> Path:
    path = tmp_path / "class.jsonl"
    await record_class(path, classroom_app)
    return path


# -- what is written -------------------------------------------------------------------------
async def test_header_names_the_format_versions_seed_scenario_and_price_table(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    path = tmp_path / "class.jsonl"
    scenario = {"name": "small-class", "seed": 5, "students": 2, "source": None}
    await record_class(path, classroom_app, record_meta={"scenario": scenario, "note": "hi"})

    header = lines_of(path)[0]
    us = yaml.safe_load(DATA.joinpath("prices", "us.yaml").read_text(encoding="utf-8"))
    assert header["format"] == "twsim-recording"
    assert header["version"] == 1
    assert header["twsim_version"] == twsim.__version__
    assert header["seed"] == 5
    assert header["scenario"] == scenario
    assert header["meta"] == {"note": "hi"}
    assert {k: header["prices"][k] for k in ("name", "taken", "currency")} == {
        "name": us["name"],
        "taken": us["taken"],
        "currency": us["currency"],
    }
    assert re.fullmatch(r"[0-9a-f]{16}", header["prices"]["digest"])
    assert datetime.fromisoformat(header["started_at"]).tzinfo is not None
    read = read_recording(path).header
    assert (read.version, read.seed, read.scenario) == (1, 5, scenario)


async def test_the_price_digest_tells_tables_apart(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    cheap = tmp_path / "us.yaml"  # the same name, other figures
    text = DATA.joinpath("prices", "us.yaml").read_text(encoding="utf-8")
    cheap.write_text(text.replace('"0.0083"', '"0.0001"'), encoding="utf-8")
    config = Config(seed=5, prices=str(cheap))
    config.numbers = [NumberConfig(sms_url=f"{classroom_app.url}/sms")]
    await record_class(tmp_path / "a.jsonl", classroom_app)
    await record_class(tmp_path / "b.jsonl", classroom_app, config)

    a, b = (lines_of(tmp_path / name)[0]["prices"] for name in ("a.jsonl", "b.jsonl"))
    assert a["name"] == b["name"] == "us"
    assert a["digest"] != b["digest"]
    # diff says so, unless one table prices both
    code, _, err = cli("diff", tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    assert code == 0 and "priced with different tables" in err and a["digest"] in err
    code, _, err = cli("diff", tmp_path / "a.jsonl", tmp_path / "b.jsonl", "--prices", "us")
    assert code == 0 and "different tables" not in err
    assert "different tables" not in cli("diff", tmp_path / "a.jsonl", tmp_path / "a.jsonl")[2]


async def test_every_line_is_one_self_contained_event_in_order(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    path = tmp_path / "class.jsonl"
    logged = await record_class(path, classroom_app)

    events = lines_of(path)[1:]
    assert events == logged  # everything the gateway logged, nothing else
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(a["t"] <= b["t"] for a, b in pairwise(events))
    assert {EventType(e["type"]) for e in events} >= {
        EventType.INBOUND_RECEIVED,
        EventType.WEBHOOK_ATTEMPT,
        EventType.TWIML_EXECUTED,
        EventType.MESSAGE_CREATED,
        EventType.MESSAGE_STATUS,
        EventType.CHARGE,
    }
    assert sum(e["type"] == "inbound.received" for e in events) == len(TEXTS)


async def test_every_event_links_to_causes_recorded_before_it(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    path = tmp_path / "class.jsonl"
    await record_class(path, classroom_app)

    inbound: set[str] = set()
    attempts: dict[str, str] = {}  # attempt sid -> its inbound sid
    messages: set[str] = set()
    replies = 0
    for event in lines_of(path)[1:]:
        kind = event["type"]
        if kind == "inbound.received":
            inbound.add(event["inbound"])
            messages.add(event["message"])
            continue
        if "inbound" in event:
            assert event["inbound"] in inbound, event
        if kind == "webhook.attempt":
            attempts[event["attempt"]] = event["inbound"]
        elif kind == "message.created":
            assert attempts[event["attempt"]] == event["inbound"], event
            assert event["data"]["direction"] == "outbound-reply"
            messages.add(event["message"])
            replies += 1
        elif kind in ("charge", "message.status"):
            assert event["message"] in messages, event
    assert replies == len(TEXTS)


async def test_no_token_secret_password_or_signature_is_ever_written(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    token = "f00dfeed" * 4
    key_sid, key_secret = "SK" + "5" * 32, "apikeysecret" + "9" * 20
    hook_password, callback_password = "hookpassword42", "callbackpassword42"
    host = classroom_app.url.removeprefix("http://")
    config = Config(
        accounts=[AccountConfig(auth_token=token, api_keys=[ApiKeyConfig(key_sid, key_secret)])],
        numbers=[NumberConfig(sms_url=f"http://hook:{hook_password}@{host}/sms")],
    )
    path = tmp_path / "class.jsonl"
    async with Simulator(config, port=0, record=path) as sim:
        await sim.send(WRONG_CODE, from_="+15551230001")
        twilio = Client(key_sid, key_secret, DEFAULT_ACCOUNT_SID)
        twilio.api.base_url = sim.url
        await asyncio.to_thread(
            twilio.messages.create,
            to="+15551230009",
            from_=DEFAULT_NUMBER,
            body="class moved to room 2",
            status_callback=f"http://cb:{callback_password}@{host}/status",
        )
        await sim.quiet()

    text = path.read_text(encoding="utf-8")
    signatures = [s for s in classroom_app.signatures if s]
    credentials = [a.removeprefix("Basic ") for a in classroom_app.authorizations if a]
    assert len(signatures) >= 2  # the webhook and at least one status callback were signed
    assert {base64.b64decode(c).decode() for c in credentials} == {
        f"hook:{hook_password}",
        f"cb:{callback_password}",
    }
    for secret in (token, key_secret, hook_password, callback_password, *signatures, *credentials):
        assert secret not in text
    assert f"{host}/sms" in text and f"{host}/status" in text  # where requests went is kept


# -- writing as it happens ---------------------------------------------------------------------
async def test_serve_record_flushes_while_running_and_a_killed_server_leaves_a_readable_file(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    path = tmp_path / "serve.jsonl"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "twsim", "serve", "--port", "0"),
        *("--sms-url", f"{classroom_app.url}/sms", "--record", str(path)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = re.search(r"gateway at (http://\S+)", first)
        assert url, first
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{url[1]}/_twsim/inbound",
                params={"wait": "1"},
                json={"From": "+15551230001", "To": DEFAULT_NUMBER, "Body": WRONG_CODE},
            ) as response,
        ):
            assert response.status == 200, await response.text()
        # the server keeps running: the reply reaches the file by the periodic flush alone
        await poll_file(path, process, lambda text: INVALID_REPLY in text)
        assert process.returncode is None
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    assert process.returncode == -signal.SIGKILL

    code, report = cli_json("report", path)
    assert code == 0
    assert (report["inbound"]["count"], report["outbound"]["count"]) == (1, 1)
    text = path.read_text(encoding="utf-8")
    assert all(s not in text for s in classroom_app.signatures if s)


async def test_a_burst_killed_with_sigkill_leaves_a_recording_report_reads(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    scenario = write_scenario(
        tmp_path / "steady.yaml",
        population={"size": 30},
        arrival={"kind": "constant", "rate": 6},  # five seconds of first texts
    )
    path = tmp_path / "killed.jsonl"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "twsim", "burst", str(scenario), "--quiet"),
        *("--app", f"{classroom_app.url}/sms", "--port", "0", "--record", str(path)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await poll_file(path, process, lambda text: text.count('"type":"inbound.received"') >= 5)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    assert process.returncode == -signal.SIGKILL  # killed mid-burst, not finished

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecordingWarning)  # the last line may be cut
        events = read_recording(path).events
    code, report = cli_json("report", path)
    assert code == 0
    received = sum(isinstance(e, InboundReceived) for e in events)
    assert 5 <= report["inbound"]["count"] == received < 30


async def poll_file(path: Path, process: Any, done: Any, limit_s: float = 20.0) -> None:
    """Wait (bounded) until the subprocess's recording satisfies `done(text)`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        if process.returncode is not None:
            err = await process.stderr.read() if process.stderr else b""
            pytest.fail(f"the process ended early ({process.returncode}): {err.decode()[-800:]}")
        if path.exists() and done(path.read_text(encoding="utf-8", errors="replace")):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{path} did not get the expected events within {limit_s:g} s")


# -- reading: a cut last line is tolerated, anything else is an error naming the line -----------
def test_a_cut_last_line_is_skipped_with_a_warning(recording: Path) -> None:
    lines = recording.read_bytes().splitlines(keepends=True)
    recording.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])

    with pytest.warns(RecordingWarning, match=rf":{len(lines)}: the last line is cut short"):
        events = read_recording(recording).events
    assert [e.seq for e in events] == list(range(1, len(lines) - 1))

    code, out, err = cli("report", recording, "--json")
    assert code == 0
    assert err.startswith(f"twsim report: warning: {recording}:{len(lines)}: the last line")
    assert json.loads(out)["inbound"]["count"] == len(TEXTS)


def test_a_last_line_cut_inside_a_character_is_skipped_too(recording: Path) -> None:
    raw = recording.read_bytes()
    check = "\u2705".encode()
    at = raw.index(check) + 2  # two of the mark's three bytes made it to the disk
    recording.write_bytes(raw[:at])
    number = raw[:at].count(b"\n") + 1

    with pytest.warns(RecordingWarning, match=rf":{number}: the last line is cut short"):
        events = read_recording(recording).events
    assert len(events) == number - 2


def test_a_complete_last_line_without_its_newline_is_read_silently(recording: Path) -> None:
    expected = len(lines_of(recording)) - 1
    recording.write_bytes(recording.read_bytes().rstrip(b"\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_recording(recording).events) == expected


def rewrite_line(path: Path, number: int, line: bytes) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = line
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"seq": 2, "t": \n', "malformed event"),
        (b"\n", "empty line"),
        (b'{"seq": 2, "t": 0.1, "data": {}}\n', "no 'type' field"),
        (b'{"seq": 2, "t": 0.1, "type": "no.such.thing", "data": {}}\n', "no.such.thing"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"seq": 2, "t": 0.1, "type": "reset", "data": {"b": "\xff"}}\n', "not UTF-8"),
    ],
)
def test_a_malformed_line_before_the_last_is_an_error_naming_it(
    recording: Path, line: bytes, problem: str
) -> None:
    rewrite_line(recording, 3, line)

    with pytest.raises(RecordingError, match=rf"^{re.escape(str(recording))}:3: .*{problem}"):
        read_recording(recording)

    code, out, err = cli("report", recording)
    assert code == 2
    assert err.startswith(f"twsim report: {recording}:3: ")
    assert "Traceback" not in err and not out


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (b"hello\n", "the header line is not JSON"),
        (b'{"seq": 1, "t": 0, "type": "reset", "data": {}}\n', "not a twsim recording"),
        (b'{"format": "twsim-recording", "version": 2}\n', "unknown recording format version 2"),
        (b'{"format": "twsim-recording"}\n', "unknown recording format version None"),
    ],
)
def test_a_wrong_header_is_an_error_naming_line_1(
    recording: Path, header: bytes, problem: str
) -> None:
    rewrite_line(recording, 1, header)

    with pytest.raises(RecordingError, match=rf"^{re.escape(str(recording))}:1: .*{problem}"):
        read_recording(recording)

    code, _, err = cli("diff", recording, recording)
    assert code == 2
    assert err.startswith(f"twsim diff: {recording}:1: ")


def test_an_empty_or_missing_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match=r":1: empty file"):
        read_recording(empty)
    code, _, err = cli("replay", tmp_path / "missing.jsonl", "--port", "0")
    assert code == 2
    assert "missing.jsonl: cannot read" in err


# -- nothing overwrites a recording without --force -------------------------------------------
async def test_a_gateway_never_overwrites_a_recording_without_force(
    tmp_path: Path, classroom_app: ClassroomApp
) -> None:
    kept = tmp_path / "kept.jsonl"
    kept.write_text("precious\n", encoding="utf-8")

    with pytest.raises(RecordingError, match=rf"{re.escape(str(kept))} already exists.*--force"):
        Simulator(port=0, record=kept)
    assert kept.read_text(encoding="utf-8") == "precious\n"

    await record_class(kept, classroom_app, force=True)
    assert lines_of(kept)[0]["format"] == "twsim-recording"


async def test_a_burst_never_overwrites_a_recording_without_force(tmp_path: Path) -> None:
    kept = tmp_path / "kept.jsonl"
    kept.write_text("precious\n", encoding="utf-8")
    scenario = load_scenario(str(write_scenario(tmp_path / "class.yaml")))

    with pytest.raises(RecordingError, match="already exists"):
        await run_burst(scenario, record=kept)
    assert kept.read_text(encoding="utf-8") == "precious\n"


def test_replay_never_overwrites_a_recording_without_force(recording: Path) -> None:
    other = recording.with_name("other.jsonl")
    other.write_bytes(b"precious\n")
    original = recording.read_bytes()
    for target in (other, recording):  # another file, or the very recording replayed
        code, _, err = cli("replay", recording, "--port", "0", "--speed", "max", "--record", target)
        assert code == 2
        assert f"{target} already exists; use --force" in err
    assert other.read_bytes() == b"precious\n"
    assert recording.read_bytes() == original
