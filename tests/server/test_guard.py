"""No web page can drive the gateway: Host names, cross-site writes, the control token,
stalled bodies, and protocol errors answered as Twilio's JSON.

Requests are sent as a browser would send them (a rebinding page's own Host name, a
cross-site form's Origin and Referer) from a plain client on loopback; raw sockets send
what no client library would (a cut body, a NUL in a header).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest

from twsim.server.simulator import Simulator

EVENTS = "/_twsim/events"
FORM = {"From": "+15551230001", "To": "+15005550006", "Body": "hi"}
TOKEN = "0123456789abcdef-token"


def _is_twilio_error(answer: Any, status: int) -> None:
    assert answer.status == status, answer.text
    assert answer.content_type == "application/json"
    body = answer.json()
    assert set(body) >= {"code", "message", "more_info", "status"}
    assert body["status"] == status


# -- Host ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("LOCALHOST.", 200),
        ("[::1]:{port}", 200),
        ("127.0.0.2", 200),
        ("twsim.lan:{port}", 200),  # in server.allowed_hosts
        ("box.ngrok-free.app", 200),  # *.ngrok-free.app
        ("api.twilio.com", 200),  # an SDK routed here by `twsim exec` names Twilio's host
        ("api.dublin.ie1.twilio.com", 200),
        ("evil.twilio.com.attacker.example", 403),
        ("pages.twilio.com", 403),
        ("rebind.evil:8910", 403),
        ("ngrok-free.app", 403),
        ("127.0.0.1.evil.example", 403),
        ("", 403),
        ("a b c", 403),
    ],
)
async def test_only_host_names_the_gateway_serves_are_answered(
    make_sim: Any, http: Any, paths: Any, host: str, status: int
) -> None:
    sim = await make_sim({"server": {"allowed_hosts": ["twsim.lan", "*.ngrok-free.app"]}})
    header = {"Host": host.format(port=sim.port)}
    for path in (EVENTS, "/_twsim/messages", paths(sim, "/Messages.json")):
        answer = await http(sim, "GET", path, headers=header)
        if status == 200:
            assert answer.status == 200, (path, answer.text)
        else:
            _is_twilio_error(answer, 403)
            assert "server.allowed_hosts" in answer.json()["message"]


async def test_a_rebinding_page_cannot_set_a_webhook_through_rest(
    sim: Simulator, http: Any, paths: Any
) -> None:
    number = sim.gateway.state.numbers[sim.number]
    answer = await http(
        sim,
        "POST",
        paths(sim, f"/IncomingPhoneNumbers/{number.sid}.json"),
        headers={"Host": "rebind.evil:8910"},
        data={"SmsUrl": "http://127.0.0.1:6666/steal"},
    )
    _is_twilio_error(answer, 403)
    assert number.sms_url is None


# -- Origin ----------------------------------------------------------------------------------
CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1.evil.example:8910"},
    {"Referer": "https://evil.example/attack.html"},
    {"Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_cross_site_pages_cannot_change_state(
    sim: Simulator, http: Any, paths: Any, headers: dict[str, str]
) -> None:
    await sim.send("stays", from_="+15551230001")
    reset = await http(sim, "POST", "/_twsim/reset", headers=headers, auth=None)
    inbound = await http(sim, "POST", "/_twsim/inbound", headers=headers, data=FORM, auth=None)
    create = await http(
        sim,
        "POST",
        paths(sim, "/Messages.json"),
        headers=headers,
        data={"To": "+15551230001", "From": sim.number, "Body": "x"},
    )
    for answer in (reset, inbound, create):
        _is_twilio_error(answer, 403)
    assert len(sim.gateway.state.messages) == 1  # not reset, nothing received or sent


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost:3000"},  # the developer's own app page
        {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"},
        {"Referer": "http://localhost:{port}/_twsim/ui/"},
    ],
)
async def test_same_machine_pages_and_plain_clients_may(
    sim: Simulator, http: Any, headers: dict[str, str]
) -> None:
    sent = {k: v.format(port=sim.port) for k, v in headers.items()}
    answer = await http(sim, "POST", "/_twsim/inbound", headers=sent, data=FORM, auth=None)
    assert answer.status == 202, answer.text


async def test_no_cors_ever(sim: Simulator, http: Any, paths: Any) -> None:
    origin = {"Origin": "http://evil.example"}
    read = await http(sim, "GET", EVENTS, headers=origin)
    preflight = await http(
        sim,
        "OPTIONS",
        "/_twsim/inbound",
        headers={**origin, "Access-Control-Request-Method": "POST"},
        auth=None,
    )
    rest = await http(sim, "GET", paths(sim, "/Messages.json"), headers=origin)
    assert read.status == rest.status == 200  # a read is harmless: the page cannot see it
    assert preflight.status >= 400
    for answer in (read, preflight, rest):
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


# -- the control token -----------------------------------------------------------------------
async def test_the_control_token_guards_the_control_plane(
    make_sim: Any, http: Any, paths: Any
) -> None:
    sim = await make_sim({"server": {"control_token": TOKEN}})
    without = await http(sim, "GET", "/_twsim/messages", auth=None)
    wrong = await http(sim, "GET", "/_twsim/messages", headers={"X-Twsim-Token": "x" * 22})
    header = await http(sim, "GET", "/_twsim/messages", headers={"X-Twsim-Token": TOKEN})
    bearer = await http(
        sim, "GET", "/_twsim/messages", auth=None, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    cookie = await http(sim, "GET", "/_twsim/report", headers={"Cookie": f"twsim_token={TOKEN}"})
    health = await http(sim, "GET", "/_twsim/health", auth=None)
    spec = await http(sim, "GET", "/_twsim/openapi.json", auth=None)
    rest = await http(sim, "GET", paths(sim, "/Messages.json"))  # Basic auth, as Twilio
    _is_twilio_error(without, 401)
    _is_twilio_error(wrong, 401)
    assert "X-Twsim-Token" in without.json()["message"]
    assert [a.status for a in (header, bearer, cookie, health, spec, rest)] == [200] * 6


# -- bodies ------------------------------------------------------------------------------------
async def _raw(sim: Simulator, request: bytes, *, linger: bool = False) -> tuple[int, str, bytes]:
    """Send raw bytes; the status, the Connection header and the body of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        body = await asyncio.wait_for(
            reader.readexactly(int(headers.get("content-length", "0"))), 60
        )
        return int(lines[0].split()[1]), headers.get("connection", ""), body
    finally:
        writer.close()


def _request(sim: Simulator, path: str, extra: str = "", body: bytes = b"") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{sim.port}\r\n{extra}\r\n"
    return head.encode() + body


async def test_a_body_that_stalls_is_timed_out_with_408(make_sim: Any) -> None:
    sim = await make_sim({"server": {"body_timeout_s": 0.2}})
    request = _request(
        sim,
        "/_twsim/inbound",
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n",
        b"From=%2B15551230001&Body=",  # and then nothing: the client holds the connection
    )
    status, connection, body = await _raw(sim, request)
    assert (status, connection.lower()) == (408, "close")
    assert b'"code"' in body and b'"more_info"' in body
    assert not sim.gateway.state.messages


@pytest.mark.parametrize(
    ("name", "request_bytes", "status"),
    [
        (
            "request line over 8 KiB",
            b"GET /_twsim/health?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            400,
        ),
        (
            "NUL in a header",
            b"GET /_twsim/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n\r\n",
            400,
        ),
        (
            "header over 8 KiB",
            b"GET /_twsim/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n",
            400,
        ),
        ("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        (
            "bad chunking",
            b"POST /_twsim/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            400,
        ),
        (
            "both Content-Length and chunked",
            b"POST /_twsim/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            400,
        ),
    ],
)
async def test_protocol_errors_are_twilio_shaped(
    sim: Simulator, name: str, request_bytes: bytes, status: int
) -> None:
    answered, _, body = await _raw(sim, request_bytes)
    assert answered == status, name
    assert b'"code"' in body and b'"more_info"' in body and b'"status": 400' in body


async def test_the_openapi_document_names_this_server(sim: Simulator, http: Any) -> None:
    document = (await http(sim, "GET", "/_twsim/openapi.json", auth=None)).json()
    assert urlsplit(document["servers"][0]["url"]).port == sim.port


async def test_multipart_bodies_are_read_as_they_are_parsed(
    sim: Simulator, http: Any, paths: Any
) -> None:
    import aiohttp

    form = aiohttp.FormData()
    for key, value in (("To", "+15551230001"), ("From", sim.number), ("Body", "multipart")):
        form.add_field(key, value)
    form.add_field("Note", b"bytes", filename="n.txt")  # forces multipart/form-data
    created = await http(sim, "POST", paths(sim, "/Messages.json"), data=form)
    assert created.status == 201, created.text
    assert created.json()["body"] == "multipart"
