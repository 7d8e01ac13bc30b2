"""No input makes `POST /_twsim/inbound` fail: every malformed body is a Twilio-shaped 4xx,
and nothing over the size limits reaches the state, the events or the recording.

The first table is the inputs that once answered 500: each is sent to the control plane
and, where it applies, to REST's Messages.json too, and both must answer 4xx.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from twsim.model.events import InboundReceived, InboundRejected
from twsim.server.simulator import Simulator

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _multipart_with_file_fields() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("From", b"+15551230001", filename="from.txt", content_type="text/plain")
    form.add_field("To", b"+15005550006", filename="to.txt", content_type="text/plain")
    form.add_field("Body", "hi")
    return form


MALFORMED: list[tuple[str, dict[str, str], Any]] = [
    ("invalid UTF-8 in a form body", {"Content-Type": FORM}, b"From=\xff\xfe&To=%2B15005550006"),
    ("invalid UTF-8 in a JSON body", {"Content-Type": JSON}, b'{"From": "\xff\xfe"}'),
    ("JSON nested 100,000 deep", {"Content-Type": JSON}, b"[" * 100_000 + b"]" * 100_000),
    ("a JSON integer of 5,000 digits", {"Content-Type": JSON}, b'{"From": ' + b"7" * 5000 + b"}"),
    ("From and To as multipart files", {}, _multipart_with_file_fields),
    ("charset=nope-42", {"Content-Type": f"{FORM}; charset=nope-42"}, b"From=%2B15551230001"),
    (
        "Content-Encoding: gzip on a plain body",
        {"Content-Type": FORM, "Content-Encoding": "gzip"},
        b"From=%2B1555&To=x",
    ),
    (
        "Content-Encoding: br on a plain body",
        {"Content-Type": JSON, "Content-Encoding": "br"},
        b"{}",
    ),
    (
        "a gzip bomb",
        {"Content-Type": JSON, "Content-Encoding": "gzip"},
        gzip.compress(b"[" * 3_000_000),
    ),
    ("JSON that is not an object", {"Content-Type": JSON}, b'["From", "To"]'),
    ("JSON NaN", {"Content-Type": JSON}, b'{"From": NaN}'),
    ("a JSON number too large for a double", {"Content-Type": JSON}, b'{"From": 1e999}'),
    ("Body as an object", {"Content-Type": JSON}, b'{"From": "+15551230001", "Body": {"a": 1}}'),
    (
        "MediaUrl of numbers",
        {"Content-Type": JSON},
        b'{"From": "+15551230001", "MediaUrl": [1, 2]}',
    ),
    (
        "MediaUrl that is not http",
        {"Content-Type": JSON},
        b'{"From": "+15551230001", "MediaUrl": "file:///etc/passwd"}',
    ),
    ("a body over 4 MiB", {"Content-Type": FORM}, b"Body=" + b"a" * (4 * 1024 * 1024 + 10)),
    ("garbage multipart", {"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nnonsense"),
    ("no Content-Type, binary body", {"Content-Type": ""}, bytes(range(256)) * 8),
]


async def _post(
    sim: Simulator, path: str, headers: dict[str, str], body: Any, **extra: Any
) -> tuple[int, Any]:
    data = body() if callable(body) else body
    async with (
        aiohttp.ClientSession() as session,
        session.post(sim.url + path, data=data, headers=headers, **extra) as response,
    ):
        text = await response.text(errors="replace")
        return response.status, (json.loads(text) if response.content_type == JSON else text)


def _twilio_error(status: int, body: Any) -> None:
    assert 400 <= status < 500, (status, body)
    assert isinstance(body, dict) and set(body) >= {"code", "message", "more_info", "status"}
    assert body["status"] == status


@pytest.mark.parametrize(("name", "headers", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_inbound_is_a_4xx_on_the_control_plane_and_on_rest(
    sim: Simulator, name: str, headers: dict[str, str], body: Any
) -> None:
    control = await _post(sim, "/_twsim/inbound", headers, body)
    credentials = base64.b64encode(f"{sim.account_sid}:{sim.auth_token}".encode()).decode()
    rest = await _post(
        sim,
        f"/2010-04-01/Accounts/{sim.account_sid}/Messages.json",
        {**headers, "Authorization": f"Basic {credentials}"},
        body,
    )
    _twilio_error(*control)
    _twilio_error(*rest)
    assert not sim.events.of_type(InboundReceived)


async def test_oversized_fields_are_clipped_or_refused_before_the_state(
    make_sim: Any, tmp_path: Path
) -> None:
    recording = tmp_path / "run.jsonl"
    sim = await make_sim(record=recording)
    huge = "+1" + "5" * 3_500_000
    answers = [
        await _post(sim, "/_twsim/inbound", {}, {"From": huge, "To": "+15005550006", "Body": "x"}),
        await _post(
            sim,
            "/_twsim/inbound?source=" + "s" * 5000,
            {"Content-Type": JSON},
            json.dumps({"From": "+15551230001", "To": huge, "Body": "x"}),
        ),
        await _post(
            sim,
            "/_twsim/inbound",
            {"Content-Type": JSON},
            json.dumps({"From": "+15551230001", "To": "+15005550006", "Body": "y" * 1_000_000}),
        ),
        await _post(
            sim,
            "/_twsim/inbound",
            {"Content-Type": JSON},
            json.dumps(
                {
                    "From": "+15551230001",
                    "To": "+15005550006",
                    "Body": "z",
                    "meta": {"k": "m" * 100_000},
                }
            ),
        ),
        await _post(
            sim,
            "/_twsim/inbound",
            {"Content-Type": JSON},
            json.dumps(
                {
                    "From": "+15551230001",
                    "To": "+15005550006",
                    "Body": "z",
                    "MediaUrl": ["http://127.0.0.1/" + "u" * 10_000],
                }
            ),
        ),
        await _post(
            sim,
            "/_twsim/inbound",
            {"Content-Type": JSON},
            json.dumps(
                {
                    "From": "+15551230001",
                    "To": "+15005550006",
                    "Body": "z",
                    "MediaUrl": ["http://127.0.0.1/a"] * 50_000,
                }
            ),
        ),
    ]
    codes = []
    for status, body in answers:
        _twilio_error(status, body)
        codes.append(body["code"])
    assert codes == [21212, 21606, 21617, 20001, 21620, 21623]
    rejected = sim.events.of_type(InboundRejected)
    assert [len(e.from_ or "") for e in rejected[:2]] == [64, 12]
    assert len(rejected[1].to or "") == 64 and len(rejected[1].source) == 64
    assert not sim.gateway.state.messages
    await sim.stop()
    longest = max(len(line) for line in recording.read_bytes().splitlines())
    assert longest < 4096


@pytest.mark.parametrize("timeout", ["nan", "inf", "-1", "1e9", "abc", ""])
async def test_quiet_takes_only_a_sane_timeout(sim: Simulator, timeout: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.url}/_twsim/quiet", params={"timeout": timeout}) as response,
    ):
        _twilio_error(response.status, await response.json())
