"""IncomingPhoneNumbers through the official client, and that their SmsUrl routes inbound."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web

from twsim.core.errors import ApiError
from twsim.core.pricing import NumberType
from twsim.model.events import NumberChanged

PHONE = "+15557654321"
NEW_NUMBER = "+15005550020"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>got it</Message></Response>'


async def _app(serve_app: Any) -> tuple[str, list[dict[str, Any]]]:
    """A loopback app answering every text with one reply; returns its base URL and hits."""
    hits: list[dict[str, Any]] = []

    async def sms(request: web.Request) -> web.Response:
        form = await request.post() if request.method == "POST" else request.query
        hits.append({"path": request.path, "method": request.method, **dict(form)})
        return web.Response(text=TWIML, content_type="text/xml")

    app = web.Application()
    app.router.add_route("*", "/{name}", sms)
    server = await serve_app(app)
    return str(server.make_url("")).rstrip("/"), hits


async def test_list_shows_the_configured_number(sim: Any, sdk: Any) -> None:
    numbers = await sdk(sim.client().incoming_phone_numbers.list)
    assert [n.phone_number for n in numbers] == [sim.number]
    only = numbers[0]
    assert re.fullmatch(r"PN[0-9a-f]{32}", only.sid)
    assert only.account_sid == sim.account_sid
    assert only.capabilities == {"voice": False, "sms": True, "mms": True, "fax": False}
    assert only.friendly_name == "(500) 555-0006"


async def test_create_fetch_update_delete(sim: Any, sdk: Any, sdk_error: Any) -> None:
    numbers = sim.client().incoming_phone_numbers
    created = await sdk(
        numbers.create,
        phone_number=NEW_NUMBER,
        sms_url="https://app.example/sms",
        friendly_name="front desk",
    )
    assert created.phone_number == NEW_NUMBER
    assert (created.sms_url, created.sms_method) == ("https://app.example/sms", "POST")
    assert created.friendly_name == "front desk"
    assert sim.gateway.state.numbers[NEW_NUMBER].sms_url == "https://app.example/sms"

    fetched = await sdk(numbers(created.sid).fetch)
    assert (fetched.sid, fetched.phone_number) == (created.sid, NEW_NUMBER)

    updated = await sdk(
        numbers(created.sid).update,
        sms_url="https://app.example/other",
        sms_method="GET",
        sms_fallback_url="https://app.example/fallback",
        status_callback="https://app.example/status",
    )
    assert (updated.sms_url, updated.sms_method) == ("https://app.example/other", "GET")
    assert updated.sms_fallback_url == "https://app.example/fallback"
    assert updated.status_callback == "https://app.example/status"
    assert updated.friendly_name == "front desk"
    kept = sim.gateway.state.numbers[NEW_NUMBER]
    assert (kept.sms_url, kept.sms_method) == ("https://app.example/other", "GET")

    by_number = await sdk(numbers.list, phone_number=NEW_NUMBER)
    assert [n.sid for n in by_number] == [created.sid]

    assert await sdk(numbers(created.sid).delete) is True
    gone = await sdk_error(numbers(created.sid).fetch)
    assert (gone.code, gone.status) == (20404, 404)
    assert NEW_NUMBER not in sim.gateway.state.numbers
    assert [n.phone_number for n in await sdk(numbers.list)] == [sim.number]
    actions = [e.action for e in sim.events.of_type(NumberChanged)]
    assert actions[-2:] == ["added", "removed"]


async def test_buy_by_area_code_and_by_kind(sim: Any, sdk: Any) -> None:
    numbers = sim.client().incoming_phone_numbers
    by_area = await sdk(numbers.create, area_code="415")
    toll_free = await sdk(numbers.toll_free.create, phone_number="+18005550100")
    local = await sdk(numbers.local.create, phone_number="+15005550030")

    assert by_area.phone_number.startswith("+1415")
    state = sim.gateway.state.numbers
    assert state[toll_free.phone_number].type is NumberType.TOLL_FREE
    assert state[local.phone_number].type is NumberType.LOCAL
    assert {n.sid for n in await sdk(numbers.toll_free.list)} == {toll_free.sid}
    assert toll_free.sid not in {n.sid for n in await sdk(numbers.local.list)}


async def test_setting_sms_url_routes_inbound_to_the_app(
    sim: Any, sdk: Any, serve_app: Any
) -> None:
    base, hits = await _app(serve_app)
    numbers = sim.client().incoming_phone_numbers
    [configured] = await sdk(numbers.list, phone_number=sim.number)

    _, before = await sim.gateway.receive(from_=PHONE, to=sim.number, body="one", wait=True)
    await sdk(numbers(configured.sid).update, sms_url=f"{base}/first")
    _, first = await sim.gateway.receive(from_=PHONE, to=sim.number, body="two", wait=True)
    await sdk(numbers(configured.sid).update, sms_url=f"{base}/second", sms_method="GET")
    _, second = await sim.gateway.receive(from_=PHONE, to=sim.number, body="three", wait=True)
    await sdk(numbers(configured.sid).update, sms_url="")
    _, cleared = await sim.gateway.receive(from_=PHONE, to=sim.number, body="four", wait=True)

    assert before.replies == [] and cleared.replies == []
    assert [(h["path"], h["method"], h["Body"], h["To"]) for h in hits] == [
        ("/first", "POST", "two", sim.number),
        ("/second", "GET", "three", sim.number),
    ]
    assert [r.body for r in first.replies + second.replies] == ["got it", "got it"]
    assert sim.gateway.state.numbers[sim.number].sms_url is None


async def test_a_bought_number_receives_and_sends(sim: Any, sdk: Any, serve_app: Any) -> None:
    base, hits = await _app(serve_app)
    client = sim.client()
    await sdk(client.incoming_phone_numbers.create, phone_number=NEW_NUMBER, sms_url=f"{base}/in")

    _, outcome = await sim.gateway.receive(from_=PHONE, to=NEW_NUMBER, body="hi", wait=True)
    sent = await sdk(client.messages.create, to=PHONE, from_=NEW_NUMBER, body="from new")

    assert [h["To"] for h in hits] == [NEW_NUMBER]
    assert [(r.from_, r.to) for r in outcome.replies] == [(NEW_NUMBER, PHONE)]
    assert sent.from_ == NEW_NUMBER


async def test_a_released_number_neither_receives_nor_sends(
    sim: Any, sdk: Any, sdk_error: Any
) -> None:
    client = sim.client()
    created = await sdk(client.incoming_phone_numbers.create, phone_number=NEW_NUMBER)
    await sdk(client.incoming_phone_numbers(created.sid).delete)

    with pytest.raises(ApiError):
        await sim.gateway.receive(from_=PHONE, to=NEW_NUMBER, body="hi", wait=True)
    error = await sdk_error(client.messages.create, to=PHONE, from_=NEW_NUMBER, body="x")
    assert (error.code, error.status) == (21606, 400)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"phone_number": "+15005550006"}, 21422),  # already this account's
        ({"phone_number": "not a number"}, 21421),
        ({"area_code": "41"}, 21451),
        ({}, 21451),
        ({"phone_number": NEW_NUMBER, "sms_url": "ftp://app.example/sms"}, 21402),
        ({"phone_number": NEW_NUMBER, "sms_method": "PUT"}, 20001),
    ],
)
async def test_create_errors(
    sim: Any, sdk: Any, sdk_error: Any, fields: dict[str, str], code: int
) -> None:
    error = await sdk_error(sim.client().incoming_phone_numbers.create, **fields)
    assert (error.code, error.status) == (code, 400)
    assert [n.phone_number for n in await sdk(sim.client().incoming_phone_numbers.list)] == [
        sim.number
    ]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"sms_url": "not a url"}, 21402),
        ({"sms_fallback_url": "mailto:x@example.com"}, 21402),
        ({"status_callback": "app.example/status"}, 21402),
        ({"sms_url": "http://[::1/sms"}, 21402),
        ({"sms_url": "https:///no-host"}, 21402),
        ({"sms_method": "DELETE"}, 20001),
    ],
)
async def test_update_errors_change_nothing(
    sim: Any, sdk: Any, sdk_error: Any, fields: dict[str, str], code: int
) -> None:
    numbers = sim.client().incoming_phone_numbers
    [number] = await sdk(numbers.list)
    await sdk(numbers(number.sid).update, sms_url="https://app.example/sms")

    error = await sdk_error(numbers(number.sid).update, friendly_name="renamed", **fields)

    assert (error.code, error.status) == (code, 400)
    kept = await sdk(numbers(number.sid).fetch)
    assert (kept.sms_url, kept.friendly_name) == ("https://app.example/sms", number.friendly_name)


async def test_numbers_of_another_account_are_invisible(
    make_sim: Any, sdk: Any, sdk_error: Any
) -> None:
    other = "AC" + "b" * 32
    sim = await make_sim(
        {
            "accounts": [
                {"sid": "AC" + "a" * 32, "auth_token": "tokena"},
                {"sid": other, "auth_token": "tokenb"},
            ],
            "numbers": [
                {"phone_number": "+15005550006"},
                {"phone_number": "+15005550040", "account": other},
            ],
        }
    )
    mine = sim.client().incoming_phone_numbers
    theirs_sid = sim.gateway.state.numbers["+15005550040"].sid

    listed = await sdk(mine.list)
    error = await sdk_error(mine(theirs_sid).fetch)
    update = await sdk_error(mine(theirs_sid).update, sms_url="https://evil.example/")
    taken = await sdk_error(mine.create, phone_number="+15005550040")

    assert [n.phone_number for n in listed] == ["+15005550006"]
    assert (error.code, update.code, taken.code) == (20404, 20404, 21422)
    assert sim.gateway.state.numbers["+15005550040"].sms_url is None
