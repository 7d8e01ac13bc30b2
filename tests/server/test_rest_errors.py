"""Errors as the official client sees them: `TwilioRestException` with Twilio's code and
HTTP status, Twilio's JSON for anything else (never HTML), and an `api.request` event for
every call, rejected or not."""

from __future__ import annotations

import random
from typing import Any

import pytest
from twilio.rest import Client

from twsim.model.clock import ManualClock
from twsim.model.events import ApiRequest, MessageRejected
from twsim.server.sdk import client as sdk_client

PHONE = "+15557654321"
A, B = "AC" + "a" * 32, "AC" + "b" * 32
A_KEY, A_KEY_SECRET = "SK" + "a" * 32, "keysecreta"
A_NUMBER, B_NUMBER = "+15005550006", "+15005550011"
TWO_ACCOUNTS: dict[str, Any] = {
    "accounts": [
        {
            "sid": A,
            "auth_token": "tokena",
            "api_keys": [{"sid": A_KEY, "secret": A_KEY_SECRET}],
        },
        {"sid": B, "auth_token": "tokenb"},
    ],
    "numbers": [
        {"phone_number": A_NUMBER, "account": A},
        {"phone_number": B_NUMBER, "account": B},
    ],
}
ERROR_KEYS = {"code", "message", "more_info", "status"}


def _client(sim: Any, username: str, password: str, account_sid: str | None = None) -> Client:
    client = Client(username, password, account_sid)
    client.api.base_url = sim.url
    return client


# -- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (A, "wrong"),
        (A, ""),
        (B, "tokena"),  # another account's token
        ("AC" + "f" * 32, "tokena"),  # no such account
        (A_KEY, "wrong"),
        ("SK" + "f" * 32, A_KEY_SECRET),
    ],
)
async def test_wrong_credentials_are_20003(
    make_sim: Any, sdk_error: Any, api_log: Any, username: str, password: str
) -> None:
    sim = await make_sim(TWO_ACCOUNTS)
    client = _client(sim, username, password, A)

    error = await sdk_error(client.messages.create, to=PHONE, from_=A_NUMBER, body="x")

    assert (error.code, error.status) == (20003, 401)
    assert sim.gateway.state.messages == {}
    [logged] = api_log(sim)
    assert (logged["status"], logged["code"], logged["account"]) == (401, 20003, None)


@pytest.mark.parametrize(
    "authorization", [None, "Basic !!!not-base64", "Bearer abc", "Basic " + "Zm9v"]
)
async def test_missing_or_malformed_credentials_are_20003(
    sim: Any, http: Any, paths: Any, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = await http(sim, "GET", paths(sim, "/Messages.json"), auth=False, headers=headers)
    assert answer.status == 401
    assert answer.content_type == "application/json"
    assert answer.json()["code"] == 20003
    assert set(answer.json()) >= ERROR_KEYS
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


async def test_an_api_key_works_like_the_account(make_sim: Any, sdk: Any) -> None:
    sim = await make_sim(TWO_ACCOUNTS)
    client = _client(sim, A_KEY, A_KEY_SECRET, A)
    created = await sdk(client.messages.create, to=PHONE, from_=A_NUMBER, body="via key")
    fetched = await sdk(client.messages(created.sid).fetch)
    assert fetched.account_sid == A
    assert fetched.body == "via key"


async def test_an_api_key_opens_only_its_own_account(make_sim: Any, sdk_error: Any) -> None:
    sim = await make_sim(TWO_ACCOUNTS)
    client = _client(sim, A_KEY, A_KEY_SECRET, B)
    error = await sdk_error(client.messages.create, to=PHONE, from_=B_NUMBER, body="x")
    assert (error.code, error.status) == (20003, 401)


async def test_accounts_are_isolated(
    make_sim: Any, sdk: Any, sdk_error: Any, sdk_list_error: Any
) -> None:
    sim = await make_sim(TWO_ACCOUNTS)
    a = sdk_client(sim.url, A, "tokena")
    b = sdk_client(sim.url, B, "tokenb")
    a_message = await sdk(a.messages.create, to=PHONE, from_=A_NUMBER, body="a's secret")
    b_message = await sdk(b.messages.create, to=PHONE, from_=B_NUMBER, body="b's")
    await sim.quiet()

    fetch = await sdk_error(b.messages(a_message.sid).fetch)
    update = await sdk_error(b.messages(a_message.sid).update, body="")
    delete = await sdk_error(b.messages(a_message.sid).delete)
    media = await sdk_list_error(b.messages(a_message.sid).media.list)
    send_as_a = await sdk_error(b.messages.create, to=PHONE, from_=A_NUMBER, body="x")
    # B's credentials on A's URLs
    b_on_a = _client(sim, B, "tokenb", A)
    on_a_path = await sdk_error(b_on_a.messages(a_message.sid).fetch)
    listed_on_a = await sdk_list_error(b_on_a.messages.list)
    account_a = await sdk_error(b.api.accounts(A).fetch)

    assert (fetch.code, fetch.status) == (20404, 404)
    assert update.code == delete.code == 20404
    assert media == (404, 20404)
    assert send_as_a.code == 21606
    assert (on_a_path.code, on_a_path.status) == (20003, 401)
    assert listed_on_a == (401, 20003)
    assert account_a.code == 20003
    assert [m.sid for m in await sdk(b.messages.list)] == [b_message.sid]
    assert [m.sid for m in await sdk(a.messages.list)] == [a_message.sid]
    assert sim.gateway.state.messages[a_message.sid].body == "a's secret"
    b_numbers = await sdk(b.incoming_phone_numbers.list)
    assert [n.phone_number for n in b_numbers] == [B_NUMBER]
    b_sms = await sdk(b.usage.records.list, category="sms")
    assert [r.count for r in b_sms] == ["1"]


# -- unknown resources ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.messages("SM" + "0" * 32).fetch(),
        lambda c: c.messages("SM" + "0" * 32).update(body=""),
        lambda c: c.messages("SM" + "0" * 32).delete(),
        lambda c: c.messages("MM" + "0" * 32).media("ME" + "0" * 32).fetch(),
        lambda c: c.messages("not-a-sid").fetch(),
        lambda c: c.incoming_phone_numbers("PN" + "0" * 32).fetch(),
        lambda c: c.incoming_phone_numbers("PN" + "0" * 32).update(sms_url="https://x.example/"),
        lambda c: c.incoming_phone_numbers("PN" + "0" * 32).delete(),
    ],
)
async def test_unknown_sids_are_20404(sim: Any, sdk_error: Any, api_log: Any, call: Any) -> None:
    error = await sdk_error(call, sim.client())
    assert (error.code, error.status) == (20404, 404)
    assert "was not found" in error.msg
    assert api_log(sim)[-1]["code"] == 20404


# -- sending -------------------------------------------------------------------------------

SERVICE = "MG" + "c" * 32


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "", "from_": A_NUMBER, "body": "x"}, 21604),
        ({"to": "not a number", "from_": A_NUMBER, "body": "x"}, 21211),
        ({"to": "+1555", "from_": A_NUMBER, "body": "x"}, 21211),
        ({"to": A_NUMBER, "from_": A_NUMBER, "body": "x"}, 21211),  # to itself
        ({"to": "+15005550001", "from_": A_NUMBER, "body": "x"}, 21211),  # magic
        ({"to": PHONE, "body": "x"}, 21603),
        ({"to": PHONE, "from_": "+12", "body": "x"}, 21212),
        ({"to": PHONE, "from_": "+15005550001", "body": "x"}, 21212),  # magic
        ({"to": PHONE, "from_": "+15551230000", "body": "x"}, 21606),  # not ours
        ({"to": PHONE, "from_": "Acme", "body": "x"}, 21606),  # no such sender ID
        ({"to": PHONE, "from_": "+15005550007", "body": "x"}, 21606),  # magic
        ({"to": PHONE, "from_": A_NUMBER}, 21602),
        ({"to": PHONE, "from_": A_NUMBER, "body": ""}, 21602),
        ({"to": PHONE, "from_": A_NUMBER, "body": "x" * 1601}, 21617),
        ({"to": PHONE, "from_": "+15005550008", "body": "x"}, 21611),  # magic: queue full
        ({"to": "+15005550004", "from_": A_NUMBER, "body": "x"}, 21610),  # magic
        ({"to": "+15005550002", "from_": A_NUMBER, "body": "x"}, 21612),  # magic
        ({"to": "+15005550003", "from_": A_NUMBER, "body": "x"}, 21408),  # magic
        ({"to": "+15005550009", "from_": A_NUMBER, "body": "x"}, 21614),  # magic
        (
            {
                "to": PHONE,
                "from_": A_NUMBER,
                "media_url": [f"https://x.example/{i}.png" for i in range(11)],
            },
            21623,
        ),
        ({"to": PHONE, "from_": A_NUMBER, "media_url": ["ftp://x.example/a.png"]}, 21620),
        ({"to": PHONE, "from_": A_NUMBER, "body": "x", "status_callback": "not a url"}, 21609),
        ({"to": PHONE, "messaging_service_sid": "MG" + "0" * 32, "body": "x"}, 21701),
        (
            {
                "to": PHONE,
                "messaging_service_sid": SERVICE,
                "body": "x",
                "schedule_type": "fixed",
                "send_at": "2020-01-01T00:00:00Z",
            },
            35115,
        ),
    ],
)
async def test_create_errors(
    make_sim: Any, sdk_error: Any, api_log: Any, fields: dict[str, Any], code: int
) -> None:
    sim = await make_sim(
        {
            "numbers": [{"phone_number": A_NUMBER}, {"phone_number": "+15005550012"}],
            "services": [{"sid": SERVICE, "numbers": ["+15005550012"]}],
        }
    )

    error = await sdk_error(sim.client().messages.create, **fields)

    assert (error.code, error.status) == (code, 400)
    assert error.msg.startswith("Unable to create record: ")
    assert error.uri.endswith("/Messages.json")
    assert sim.gateway.state.messages == {}
    [logged] = api_log(sim)
    assert (logged["method"], logged["status"], logged["code"]) == ("POST", 400, code)
    assert logged["error"] and logged["error"] in error.msg
    rejected = sim.events.of_type(MessageRejected)
    if code not in (35115,):  # rejected before the gateway's send rules ran
        assert [e.code for e in rejected] == [code]


async def test_stop_blocks_and_start_unblocks(sim: Any, sdk: Any, sdk_error: Any) -> None:
    client = sim.client()
    await sim.gateway.receive(from_=PHONE, to=sim.number, body="STOP", wait=True)

    blocked = await sdk_error(client.messages.create, to=PHONE, from_=sim.number, body="hi")
    other = await sdk(client.messages.create, to="+15557654399", from_=sim.number, body="hi")
    await sim.gateway.receive(from_=PHONE, to=sim.number, body="START", wait=True)
    allowed = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="hi again")

    assert (blocked.code, blocked.status) == (21610, 400)
    assert "unsubscribed" in blocked.msg
    assert other.status == "queued"
    assert allowed.status == "queued"
    rejected = sim.events.of_type(MessageRejected)
    assert [(e.code, e.to) for e in rejected] == [(21610, PHONE)]
    outbound_to_phone = [
        m for m in sim.gateway.state.messages.values() if m.to == PHONE and m.direction != "inbound"
    ]
    assert [m.sid for m in outbound_to_phone] == [allowed.sid]


async def test_a_full_sender_queue_is_21611(make_sim: Any, sdk: Any, sdk_error: Any) -> None:
    """Pacing: a long code sends 1 segment a second and queues at most 10 hours' worth."""
    from twsim.model.state import OutboundRequest

    clock = ManualClock()
    sim = await make_sim(
        {"numbers": [{"phone_number": A_NUMBER}], "delivery": {"pacing": True}}, clock=clock
    )
    state = sim.gateway.state
    account = state.accounts[sim.account_sid]
    ten_segments = "x" * 1530
    for _ in range(3600):  # 36,000 segments: exactly 10 hours at 1 segment a second
        state.create_message(account, OutboundRequest(to=PHONE, from_=A_NUMBER, body=ten_segments))
    client = sim.client()

    last_fit = await sdk(client.messages.create, to=PHONE, from_=A_NUMBER, body="one more")
    full = await sdk_error(client.messages.create, to=PHONE, from_=A_NUMBER, body="too many")
    await clock.advance(3.0)
    fits_again = await sdk(client.messages.create, to=PHONE, from_=A_NUMBER, body="later")

    assert last_fit.status == "queued"
    assert (full.code, full.status) == (21611, 400)
    assert fits_again.status == "queued"


# -- anything else answers Twilio's JSON ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/", 404, 20404),
        ("GET", "/favicon.ico", 404, 20404),
        ("GET", "/2010-04-01", 404, 20404),
        ("GET", "/2010-04-01/Accounts/{sid}/Calls.json", 404, 20404),
        ("GET", "/2010-04-01/Accounts/{sid}/Messages", 404, 20404),
        ("GET", "/2010-04-01/Accounts/{sid}/Messages.xml", 404, 20404),
        ("DELETE", "/2010-04-01/Accounts/{sid}/Messages.json", 405, 20004),
        ("PUT", "/2010-04-01/Accounts/{sid}/Messages/SM" + "0" * 32 + ".json", 405, 20004),
        ("PATCH", "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", 405, 20004),
        ("POST", "/2010-04-01/Accounts/{sid}/Usage/Records.json", 405, 20004),
        ("POST", "/2010-04-01/Accounts/{sid}/Balance.json", 405, 20004),
    ],
)
async def test_unknown_routes_and_wrong_methods_answer_json(
    sim: Any, http: Any, api_log: Any, method: str, path: str, status: int, code: int
) -> None:
    path = path.format(sid=sim.account_sid)
    answer = await http(sim, method, path)

    assert answer.status == status
    assert answer.content_type == "application/json"
    body = answer.json()
    assert set(body) >= ERROR_KEYS
    assert (body["code"], body["status"]) == (code, status)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    if path.startswith("/2010-04-01/"):
        assert [(r["path"], r["status"], r["code"]) for r in api_log(sim)] == [(path, status, code)]


async def test_a_crash_inside_is_a_json_500(
    sim: Any, http: Any, paths: Any, api_log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(account: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.gateway.state, "messages_of", broken)
    answer = await http(sim, "GET", paths(sim, "/Messages.json"))

    assert answer.status == 500
    assert answer.content_type == "application/json"
    assert answer.json()["code"] == 20500
    assert "boom" not in answer.text
    assert (api_log(sim)[-1]["status"], api_log(sim)[-1]["code"]) == (500, 20500)


GARBAGE: list[tuple[str, bytes, str]] = [
    ("undecodable form", b"\xff\xfe%%%&&==\x00", "application/x-www-form-urlencoded"),
    ("form without values", b"&&&===&To&Body", "application/x-www-form-urlencoded"),
    ("unknown charset", b"To=%2B15557654321", "application/x-www-form-urlencoded; charset=nope"),
    ("broken multipart", b"--zz\r\ngarbage\r\n", "multipart/form-data; boundary=zz"),
    ("multipart without boundary", b"To=1", "multipart/form-data"),
    ("bad json", b"{not json", "application/json"),
    ("json array", b"[1, 2, 3]", "application/json"),
    ("xml", b"<To>+15557654321</To>", "text/xml"),
    ("no content type", b"To=%2B15557654321&Body=hi", ""),
]


@pytest.mark.parametrize(("name", "body", "content_type"), GARBAGE, ids=[g[0] for g in GARBAGE])
async def test_malformed_bodies_are_client_errors(
    sim: Any, http: Any, paths: Any, api_log: Any, name: str, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await http(sim, "POST", paths(sim, "/Messages.json"), data=body, headers=headers)

    assert 400 <= answer.status < 500, (name, answer.status, answer.text)
    assert answer.content_type == "application/json"
    assert set(answer.json()) >= ERROR_KEYS
    assert api_log(sim)[-1]["code"] == answer.json()["code"]
    assert sim.gateway.state.messages == {}
    still = await http(sim, "GET", paths(sim, "/Messages.json"))
    assert still.status == 200


async def test_a_huge_body_is_413_and_not_kept(
    sim: Any, http: Any, paths: Any, api_log: Any
) -> None:
    body = b"To=%2B15557654321&Body=" + b"a" * (5 * 1024 * 1024)
    answer = await http(
        sim,
        "POST",
        paths(sim, "/Messages.json"),
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 413
    assert answer.content_type == "application/json"
    [logged] = api_log(sim)
    assert (logged["status"], logged["params"]) == (413, {})
    assert (await http(sim, "GET", paths(sim, "/Messages.json"))).status == 200


async def test_random_bytes_never_crash_it(sim: Any, http: Any, paths: Any) -> None:
    rng = random.Random(2010)
    targets = [
        ("POST", "/Messages.json"),
        ("POST", "/Messages/SM" + "0" * 32 + ".json"),
        ("POST", "/IncomingPhoneNumbers.json"),
    ]
    content_types = [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "application/json",
        "application/octet-stream",
    ]
    statuses = set()
    for _ in range(60):
        method, path = rng.choice(targets)
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        if rng.random() < 0.5:
            body = b"--b\r\n" + body
        answer = await http(
            sim,
            method,
            paths(sim, path),
            data=body,
            headers={"Content-Type": rng.choice(content_types)},
        )
        assert answer.status < 500, (body, answer.text)
        assert answer.content_type == "application/json"
        statuses.add(answer.status)
    assert statuses <= {400, 404}
    assert not [e for e in sim.events.of_type(ApiRequest) if e.status >= 500]


@pytest.mark.parametrize(
    "query",
    [
        "PageSize=abc",
        "PageSize=-1",
        "Page=-2",
        "DateSent=yesterday",
        "DateSent%3E=2026-13-45",
        "DateSent%3C=not-a-date",
    ],
)
async def test_bad_list_queries_are_400(
    sim: Any, http: Any, paths: Any, api_log: Any, query: str
) -> None:
    answer = await http(sim, "GET", paths(sim, f"/Messages.json?{query}"))
    assert answer.status == 400
    assert answer.json()["code"] == 20001
    assert api_log(sim)[-1]["status"] == 400
