"""Every JSON body the REST API answers with validates against Twilio's OpenAPI schemas.

The bodies are read raw (not through the client, which would hide shape mistakes) and
checked with `OAS30Validator` against Twilio's OpenAPI document (its messaging subset,
committed as `tests/data/twilio_api_v2010.messaging.json`).

One deliberate exception: a usage record's `price`. The schema types it as a number, but
Twilio sends a decimal string, as the document's own `readFull` example shows (the first
test below pins that contradiction down). The gateway follows the wire format, because
twilio-python turns the string into an exact `Decimal`; a JSON number would arrive as a
binary float. Usage records are therefore checked with only that one field relaxed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from twsim.model.clock import ManualClock

MESSAGE = "api.v2010.account.message"
MEDIA = "api.v2010.account.message.media"
NUMBER = "api.v2010.account.incoming_phone_number"
USAGE = "api.v2010.account.usage.usage_record"
MESSAGES_LIST = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MEDIA_LIST = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json"
NUMBERS_LIST = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
USAGE_LIST = "/2010-04-01/Accounts/{AccountSid}/Usage/Records.json"

SERVICE = "MG" + "5" * 32
PHONE = "+15557654321"
UNLUCKY = "+15557770000"
CONFIG: dict[str, Any] = {
    "numbers": [{"phone_number": "+15005550006"}, {"phone_number": "+15005550010"}],
    "services": [{"sid": SERVICE, "numbers": ["+15005550010"]}],
    "delivery": {"outcomes": [{"to": UNLUCKY, "status": "undelivered", "error_code": 30003}]},
}


def test_spec_example_sends_usage_price_as_a_string(openapi: Any) -> None:
    example = openapi.spec["paths"][USAGE_LIST]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]["readFull"]["value"]
    assert openapi.list_errors(USAGE_LIST, example) == [
        "usage_records/0/price: '2192.84855' is not of type 'number'"
    ]
    assert usage_schema(openapi).list_errors(USAGE_LIST, example) == []


def usage_schema(openapi: Any) -> Any:
    return openapi.patched(
        USAGE, "price", {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "nullable": True}
    )


async def test_message_bodies_in_every_state(
    make_sim: Any, http: Any, paths: Any, openapi: Any
) -> None:
    clock = ManualClock()
    sim = await make_sim(CONFIG, clock=clock)
    send_at = (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    creates = {
        "sms": {"To": PHONE, "From": sim.number, "Body": "hello"},
        "unicode, two segments": {"To": PHONE, "From": sim.number, "Body": "ü" * 71},
        "mms": {
            "To": PHONE,
            "From": sim.number,
            "Body": "look",
            "MediaUrl": ["https://example.com/a.png", "https://example.com/b.gif"],
        },
        "undelivered": {"To": UNLUCKY, "From": sim.number, "Body": "x"},
        "service pool": {"To": PHONE, "MessagingServiceSid": SERVICE, "Body": "pool"},
        "scheduled": {
            "To": PHONE,
            "MessagingServiceSid": SERVICE,
            "Body": "later",
            "ScheduleType": "fixed",
            "SendAt": send_at,
        },
    }
    bodies: dict[str, dict[str, Any]] = {}
    for name, form in creates.items():
        answer = await http(sim, "POST", paths(sim, "/Messages.json"), data=_form(form))
        assert answer.status == 201, answer.text
        bodies[name] = answer.json()
    await sim.gateway.receive(from_=PHONE, to=sim.number, body="inbound", wait=True)

    sids = {name: body["sid"] for name, body in bodies.items()}
    redacted = await http(
        sim, "POST", paths(sim, f"/Messages/{sids['sms']}.json"), data={"Body": ""}
    )
    canceled = await http(
        sim,
        "POST",
        paths(sim, f"/Messages/{sids['scheduled']}.json"),
        data={"Status": "canceled"},
    )
    await clock.advance(3600 + 1)
    await sim.quiet()

    assert redacted.json()["body"] == ""
    assert canceled.json()["status"] == "canceled"
    fetched = [
        (await http(sim, "GET", paths(sim, f"/Messages/{sid}.json"))).json()
        for sid in sids.values()
    ]
    statuses = {m["status"] for m in fetched}
    assert statuses == {"delivered", "undelivered", "canceled"}
    assert any(m["error_code"] == 30003 for m in fetched)
    for body in [*bodies.values(), redacted.json(), canceled.json(), *fetched]:
        assert openapi.component_errors(MESSAGE, body) == [], body

    pages = await _all_pages(http, sim, paths(sim, "/Messages.json?PageSize=3"))
    assert len(pages) == 3  # seven messages: six created, one inbound
    directions = set()
    for page in pages:
        assert openapi.list_errors(MESSAGES_LIST, page) == []
        directions |= {m["direction"] for m in page["messages"]}
    assert directions == {"outbound-api", "inbound"}


async def test_media_bodies(make_sim: Any, http: Any, paths: Any, openapi: Any) -> None:
    sim = await make_sim()
    created = await http(
        sim,
        "POST",
        paths(sim, "/Messages.json"),
        data=_form(
            {
                "To": PHONE,
                "From": sim.number,
                "MediaUrl": ["https://example.com/a.jpg", "https://example.com/b.png"],
            }
        ),
    )
    sid = created.json()["sid"]
    listed = (await http(sim, "GET", paths(sim, f"/Messages/{sid}/Media.json"))).json()
    assert openapi.list_errors(MEDIA_LIST, listed) == []
    assert len(listed["media_list"]) == 2
    for item in listed["media_list"]:
        one = (
            await http(sim, "GET", paths(sim, f"/Messages/{sid}/Media/{item['sid']}.json"))
        ).json()
        assert one == item
        assert openapi.component_errors(MEDIA, one) == []


async def test_incoming_phone_number_bodies(
    make_sim: Any, http: Any, paths: Any, openapi: Any
) -> None:
    sim = await make_sim()
    created = [
        await http(sim, "POST", paths(sim, path), data=form)
        for path, form in [
            (
                "/IncomingPhoneNumbers.json",
                {"PhoneNumber": "+15005550020", "SmsUrl": "https://app.example/sms"},
            ),
            ("/IncomingPhoneNumbers/TollFree.json", {"PhoneNumber": "+18005550100"}),
            ("/IncomingPhoneNumbers/Local.json", {"AreaCode": "415"}),
        ]
    ]
    assert [a.status for a in created] == [201, 201, 201]
    updated = await http(
        sim,
        "POST",
        paths(sim, f"/IncomingPhoneNumbers/{created[0].json()['sid']}.json"),
        data={"SmsMethod": "GET", "SmsFallbackUrl": "https://app.example/fallback"},
    )
    assert updated.status == 200
    for body in [*(a.json() for a in created), updated.json()]:
        assert openapi.component_errors(NUMBER, body) == [], body
    for sub in ("", "/Local", "/TollFree"):
        listed = (await http(sim, "GET", paths(sim, f"/IncomingPhoneNumbers{sub}.json"))).json()
        assert listed["incoming_phone_numbers"]
        assert openapi.list_errors(NUMBERS_LIST, listed) == []


@pytest.mark.parametrize(
    "query",
    [
        "/Usage/Records.json",
        "/Usage/Records/Today.json?Category=sms",
        "/Usage/Records/Daily.json?StartDate=-2days",
        "/Usage/Records/ThisMonth.json?Category=totalprice",
        "/Usage/Records/AllTime.json?PageSize=5",
    ],
)
async def test_usage_record_bodies(
    make_sim: Any, http: Any, paths: Any, openapi: Any, query: str
) -> None:
    sim = await make_sim()
    await http(
        sim,
        "POST",
        paths(sim, "/Messages.json"),
        data={"To": PHONE, "From": sim.number, "Body": "hi"},
    )
    await sim.quiet()
    answer = await http(sim, "GET", paths(sim, query))
    assert answer.status == 200
    body = answer.json()
    assert body["usage_records"]
    assert usage_schema(openapi).list_errors(USAGE_LIST, body) == []


async def test_account_balance_and_feedback_bodies(
    sim: Any, http: Any, paths: Any, openapi: Any
) -> None:
    account = (await http(sim, "GET", f"/2010-04-01/Accounts/{sim.account_sid}.json")).json()
    accounts = (await http(sim, "GET", "/2010-04-01/Accounts.json")).json()
    balance = (await http(sim, "GET", paths(sim, "/Balance.json"))).json()
    sid = (
        await http(
            sim,
            "POST",
            paths(sim, "/Messages.json"),
            data={"To": PHONE, "From": sim.number, "Body": "hi"},
        )
    ).json()["sid"]
    feedback = await http(
        sim, "POST", paths(sim, f"/Messages/{sid}/Feedback.json"), data={"Outcome": "confirmed"}
    )
    assert feedback.status == 201
    assert openapi.component_errors("api.v2010.account", account) == []
    assert openapi.list_errors("/2010-04-01/Accounts.json", accounts) == []
    assert [a["sid"] for a in accounts["accounts"]] == [sim.account_sid]
    assert openapi.component_errors("api.v2010.account.balance", balance) == []
    assert (
        openapi.component_errors("api.v2010.account.message.message_feedback", feedback.json())
        == []
    )


def _form(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """Form fields with repeated keys for lists, as the client sends MediaUrl."""
    out: list[tuple[str, str]] = []
    for key, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            out.append((key, one))
    return out


async def _all_pages(http: Any, sim: Any, first: str) -> list[dict[str, Any]]:
    pages = []
    uri: str | None = first
    while uri is not None:
        answer = await http(sim, "GET", uri)
        assert answer.status == 200, answer.text
        page = answer.json()
        pages.append(page)
        uri = page["next_page_uri"]
    return pages
