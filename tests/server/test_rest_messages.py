"""The Messages resource through the official twilio client, only its base URL changed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from twsim.core.pricing import Channel, Direction, NumberType, PriceKey, format_price
from twsim.model.clock import ManualClock
from twsim.model.events import (
    MessageCreated,
    MessageDeleted,
    MessageStatusChanged,
    MessageUpdated,
)

PHONE = "+15557654321"
OTHER_PHONE = "+15557654322"
SERVICE = "MG" + "a" * 32
SERVICE_NUMBER = "+15005550010"
WITH_SERVICE: dict[str, Any] = {
    "numbers": [{"phone_number": "+15005550006"}, {"phone_number": SERVICE_NUMBER}],
    "services": [{"sid": SERVICE, "numbers": [SERVICE_NUMBER]}],
}
SLOW: dict[str, Any] = {
    "numbers": [{"phone_number": "+15005550006"}],
    "delivery": {"timing": {"send_s": 5, "deliver_s": 5}},
}


def _get(sim: Any, sid: str) -> Any:
    return sim.gateway.state.messages[sid]


async def test_create_then_fetch_after_delivery(sim: Any, sdk: Any) -> None:
    client = sim.client()
    created = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="hello")

    assert re.fullmatch(r"SM[0-9a-f]{32}", created.sid)
    assert created.account_sid == sim.account_sid
    assert (created.to, created.from_, created.body) == (PHONE, sim.number, "hello")
    assert created.status == "queued"
    assert created.direction == "outbound-api"
    assert (created.num_segments, created.num_media) == ("1", "0")
    assert created.price is None and created.date_sent is None
    assert created.date_created.tzinfo is not None
    assert created.uri == f"/2010-04-01/Accounts/{sim.account_sid}/Messages/{created.sid}.json"

    await sim.quiet()
    fetched = await sdk(client.messages(created.sid).fetch)
    charge = sim.gateway.prices.charge(
        PriceKey("US", NumberType.LOCAL, Direction.OUTBOUND, Channel.SMS), 1
    )
    assert fetched.sid == created.sid
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    assert fetched.price == format_price(charge.base)
    assert fetched.price.startswith("-")
    assert fetched.price_unit == "USD"

    created_events = [e for e in sim.events.of_type(MessageCreated) if e.message == created.sid]
    assert len(created_events) == 1


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("a" * 1530, "10"),
        ("ü" * 70, "1"),  # ü is in GSM-7
        ("€" * 80, "1"),  # two septets each: exactly 160
        ("😀" * 35, "1"),  # UCS-2, two code units each: exactly 70
        ("😀" * 36, "2"),
    ],
)
async def test_segments_are_counted_as_twilio_does(
    sim: Any, sdk: Any, body: str, segments: str
) -> None:
    created = await sdk(sim.client().messages.create, to=PHONE, from_=sim.number, body=body)
    assert created.num_segments == segments


async def test_stream_pages_through_everything_newest_first(
    sim: Any, sdk: Any, api_log: Any
) -> None:
    client = sim.client()
    sids = [
        (await sdk(client.messages.create, to=PHONE, from_=sim.number, body=f"n{i}")).sid
        for i in range(7)
    ]
    before = len(api_log(sim))

    streamed = await sdk(lambda: [m.sid for m in client.messages.stream(page_size=3)])

    assert streamed == list(reversed(sids))
    pages = api_log(sim)[before:]
    assert [(r["method"], r["status"]) for r in pages] == [("GET", 200)] * 3
    assert [r["query"].get("PageSize") for r in pages] == ["3"] * 3
    assert "PageToken" not in pages[0]["query"]
    assert all("PageToken" in r["query"] for r in pages[1:])


async def test_list_limit_and_page(sim: Any, sdk: Any) -> None:
    client = sim.client()
    for i in range(5):
        await sdk(client.messages.create, to=PHONE, from_=sim.number, body=f"n{i}")

    limited = await sdk(client.messages.list, limit=4, page_size=3)
    first = await sdk(client.messages.page, page_size=2)
    second = await sdk(first.next_page)
    third = await sdk(second.next_page)

    pages = [[m.sid for m in p] for p in (first, second, third)]  # a Page iterates once
    assert len(limited) == 4
    assert [len(p) for p in pages] == [2, 2, 1]
    assert third.next_page_url is None
    assert len({sid for p in pages for sid in p}) == 5


async def test_page_envelope(sim: Any, sdk: Any, http: Any, paths: Any) -> None:
    client = sim.client()
    for i in range(3):
        await sdk(client.messages.create, to=PHONE, from_=sim.number, body=f"n{i}")
    base = paths(sim, "/Messages.json")

    first = (await http(sim, "GET", f"{base}?To=%2B15557654321&PageSize=2")).json()
    second = (await http(sim, "GET", first["next_page_uri"])).json()

    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
    assert first["previous_page_uri"] is None
    assert first["first_page_uri"].startswith(base + "?")
    assert "To=%2B15557654321" in first["next_page_uri"]
    assert (second["page"], second["start"], second["end"]) == (1, 2, 2)
    assert second["next_page_uri"] is None
    assert second["previous_page_uri"] is not None
    assert len(second["messages"]) == 1
    capped = (await http(sim, "GET", f"{base}?PageSize=5000")).json()
    assert capped["page_size"] == 1000
    empty = (await http(sim, "GET", f"{base}?To=%2B19999999999")).json()
    assert (empty["messages"], empty["start"], empty["end"], empty["next_page_uri"]) == (
        [],
        0,
        0,
        None,
    )


async def test_redact_body_keeps_everything_else(sim: Any, sdk: Any) -> None:
    client = sim.client()
    created = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="secret")
    await sim.quiet()

    updated = await sdk(client.messages(created.sid).update, body="")
    fetched = await sdk(client.messages(created.sid).fetch)

    assert updated.body == "" and fetched.body == ""
    assert (fetched.to, fetched.from_, fetched.status, fetched.num_segments) == (
        PHONE,
        sim.number,
        "delivered",
        "1",
    )
    assert fetched.price is not None
    assert [e.redacted for e in sim.events.of_type(MessageUpdated)] == [True]


async def test_body_can_only_be_redacted(sim: Any, sdk: Any, sdk_error: Any) -> None:
    client = sim.client()
    created = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="keep")
    error = await sdk_error(client.messages(created.sid).update, body="changed")
    assert error.status == 400
    assert _get(sim, created.sid).body == "keep"


async def test_cancel_a_scheduled_service_message(make_sim: Any, sdk: Any) -> None:
    clock = ManualClock()
    sim = await make_sim(WITH_SERVICE, clock=clock)
    client = sim.client()
    scheduled = await sdk(
        client.messages.create,
        to=PHONE,
        messaging_service_sid=SERVICE,
        body="tomorrow",
        schedule_type="fixed",
        send_at=clock.now() + timedelta(hours=2),
    )
    assert scheduled.status == "scheduled"
    assert scheduled.date_sent is None

    canceled = await sdk(client.messages(scheduled.sid).update, status="canceled")
    await clock.advance(3 * 3600)
    await sim.quiet()
    fetched = await sdk(client.messages(scheduled.sid).fetch)

    assert canceled.status == "canceled"
    assert fetched.status == "canceled"
    assert fetched.date_sent is None and fetched.price is None
    assert not [e for e in sim.gateway.state.ledger if e.message_sid == scheduled.sid]
    statuses = [
        e.status for e in sim.events.of_type(MessageStatusChanged) if e.message == scheduled.sid
    ]
    assert statuses == ["canceled"]


async def test_a_scheduled_message_left_alone_is_sent_at_its_time(make_sim: Any, sdk: Any) -> None:
    clock = ManualClock()
    sim = await make_sim(WITH_SERVICE, clock=clock)
    client = sim.client()
    scheduled = await sdk(
        client.messages.create,
        to=PHONE,
        messaging_service_sid=SERVICE,
        body="later",
        schedule_type="fixed",
        send_at=clock.now() + timedelta(hours=2),
    )
    await clock.advance(2 * 3600 + 1)
    await sim.quiet()
    fetched = await sdk(client.messages(scheduled.sid).fetch)
    assert fetched.status == "delivered"
    assert fetched.date_sent >= datetime(2026, 1, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("state", ["delivered", "received", "canceled"])
async def test_cancel_anything_not_scheduled_is_30409(
    make_sim: Any, sdk: Any, sdk_error: Any, state: str
) -> None:
    clock = ManualClock()
    sim = await make_sim(WITH_SERVICE, clock=clock)
    client = sim.client()
    if state == "received":
        received, _ = await sim.gateway.receive(from_=PHONE, to=sim.number, body="hi", wait=True)
        sid = received.message.sid
    else:
        message = await sdk(
            client.messages.create,
            to=PHONE,
            messaging_service_sid=SERVICE,
            body="x",
            schedule_type="fixed" if state == "canceled" else None,
            send_at=clock.now() + timedelta(hours=1) if state == "canceled" else None,
        )
        sid = message.sid
        if state == "canceled":
            await sdk(client.messages(sid).update, status="canceled")
        else:
            await sim.quiet()

    error = await sdk_error(client.messages(sid).update, status="canceled")

    assert (error.code, error.status) == (30409, 400)
    assert _get(sim, sid).status == state


async def test_delete(sim: Any, sdk: Any, sdk_error: Any, sdk_list_error: Any) -> None:
    client = sim.client()
    kept = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="keep")
    gone = await sdk(
        client.messages.create,
        to=PHONE,
        from_=sim.number,
        body="drop",
        media_url=["https://example.com/x.png"],
    )
    await sim.quiet()

    assert await sdk(client.messages(gone.sid).delete) is True

    missing = await sdk_error(client.messages(gone.sid).fetch)
    media = await sdk_list_error(client.messages(gone.sid).media.list)
    again = await sdk_error(client.messages(gone.sid).delete)
    listed = [m.sid for m in await sdk(client.messages.list)]
    assert (missing.code, missing.status) == (20404, 404)
    assert gone.sid in missing.msg
    assert media == (404, 20404)
    assert again.code == 20404
    assert listed == [kept.sid]
    assert [e.message for e in sim.events.of_type(MessageDeleted)] == [gone.sid]


async def test_a_message_still_on_its_way_cannot_be_deleted(
    make_sim: Any, sdk: Any, sdk_error: Any
) -> None:
    clock = ManualClock()
    sim = await make_sim(SLOW, clock=clock)
    client = sim.client()
    created = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="x")

    error = await sdk_error(client.messages(created.sid).delete)
    await clock.advance(60)
    await sim.quiet()

    assert error.code == 20009
    assert await sdk(client.messages(created.sid).delete) is True


async def test_media(
    sim: Any, sdk: Any, sdk_error: Any, http: Any, paths: Any, api_log: Any
) -> None:
    client = sim.client()
    urls = ["http://127.0.0.1:9/cat.png", "http://localhost:9/dog.gif"]  # loopback: served
    created = await sdk(
        client.messages.create, to=PHONE, from_=sim.number, body="pets", media_url=urls
    )
    await sim.quiet()

    assert re.fullmatch(r"MM[0-9a-f]{32}", created.sid)
    assert created.num_media == "2"
    media = await sdk(client.messages(created.sid).media.list)
    assert sorted(m.content_type for m in media) == ["image/gif", "image/png"]
    for item in media:
        assert re.fullmatch(r"ME[0-9a-f]{32}", item.sid)
        assert item.parent_sid == created.sid
        fetched = await sdk(client.messages(created.sid).media(item.sid).fetch)
        assert (fetched.sid, fetched.content_type) == (item.sid, item.content_type)
        content_path = paths(sim, f"/Messages/{created.sid}/Media/{item.sid}")
        content = await http(sim, "GET", content_path)
        assert content.status == 302
        assert content.headers["Location"] in urls
        assert (api_log(sim)[-1]["path"], api_log(sim)[-1]["status"]) == (content_path, 302)

    assert await sdk(client.messages(created.sid).media(media[0].sid).delete) is True
    remaining = await sdk(client.messages(created.sid).media.list)
    unknown = await sdk_error(client.messages(created.sid).media("ME" + "0" * 32).fetch)
    assert [m.sid for m in remaining] == [media[1].sid]
    assert (unknown.code, unknown.status) == (20404, 404)


async def test_mms_without_body_is_fine(sim: Any, sdk: Any) -> None:
    created = await sdk(
        sim.client().messages.create,
        to=PHONE,
        from_=sim.number,
        media_url=["https://example.com/only.jpg"],
    )
    assert (created.body, created.num_media) == ("", "1")


async def test_list_filters(make_sim: Any, sdk: Any, http: Any, paths: Any) -> None:
    """Day 1: to PHONE. Day 2: to OTHER_PHONE, and one in from PHONE. Day 3: to PHONE."""
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    sim = await make_sim(clock=clock)
    client = sim.client()
    sent: dict[str, str] = {}
    await clock.advance(10 * 3600)
    sent["day1"] = (await sdk(client.messages.create, to=PHONE, from_=sim.number, body="1")).sid
    await clock.advance(24 * 3600)
    sent["day2"] = (
        await sdk(client.messages.create, to=OTHER_PHONE, from_=sim.number, body="2")
    ).sid
    received, _ = await sim.gateway.receive(from_=PHONE, to=sim.number, body="in", wait=True)
    sent["in"] = received.message.sid
    await clock.advance(24 * 3600)
    sent["day3"] = (await sdk(client.messages.create, to=PHONE, from_=sim.number, body="3")).sid
    await sim.quiet()

    async def listed(**filters: Any) -> set[str]:
        names = {sid: name for name, sid in sent.items()}
        return {names[m.sid] for m in await sdk(client.messages.list, **filters)}

    assert await listed() == {"day1", "day2", "in", "day3"}
    assert await listed(to=PHONE) == {"day1", "day3"}
    assert await listed(to=sim.number) == {"in"}
    assert await listed(from_=sim.number) == {"day1", "day2", "day3"}
    assert await listed(from_=PHONE) == {"in"}
    # the client sends dates as midnight datetimes; DateSent means "sent on that day"
    assert await listed(date_sent=date(2026, 3, 2)) == {"day2", "in"}
    assert await listed(date_sent=datetime(2026, 3, 2, 15, 30, tzinfo=UTC)) == {"day2", "in"}
    assert await listed(date_sent_after=datetime(2026, 3, 2, tzinfo=UTC)) == {
        "day2",
        "in",
        "day3",
    }
    assert await listed(date_sent_after=datetime(2026, 3, 2, 11, tzinfo=UTC)) == {"day3"}
    assert await listed(date_sent_before=datetime(2026, 3, 2, 23, 59, tzinfo=UTC)) == {
        "day1",
        "day2",
        "in",
    }
    assert await listed(date_sent_before=datetime(2026, 3, 2, tzinfo=UTC)) == {"day1"}
    assert await listed(
        date_sent_after=datetime(2026, 3, 1, 12, tzinfo=UTC),
        date_sent_before=datetime(2026, 3, 3, tzinfo=UTC),
    ) == {"day2", "in"}
    assert await listed(to=PHONE, date_sent_after=datetime(2026, 3, 2, tzinfo=UTC)) == {"day3"}
    assert await listed(to=PHONE, from_=PHONE) == set()

    # Twilio's documented forms: YYYY-MM-DD, and the inequality written into the key
    base = paths(sim, "/Messages.json")
    for query, expected in [
        ("DateSent=2026-03-02", {"day2", "in"}),
        ("DateSent<=2026-03-02", {"day1", "day2", "in"}),
        ("DateSent>=2026-03-02", {"day2", "in", "day3"}),
        ("DateSent%3E=2026-03-03&To=%2B15557654321", {"day3"}),
    ]:
        page = (await http(sim, "GET", f"{base}?{query}")).json()
        names = {sid: name for name, sid in sent.items()}
        assert {names[m["sid"]] for m in page["messages"]} == expected, query


async def test_service_message_without_from_is_accepted(make_sim: Any, sdk: Any) -> None:
    sim = await make_sim(WITH_SERVICE)
    client = sim.client()
    created = await sdk(
        client.messages.create, to=PHONE, messaging_service_sid=SERVICE, body="pool"
    )
    await sim.quiet()
    fetched = await sdk(client.messages(created.sid).fetch)
    assert created.status == "accepted"
    assert created.messaging_service_sid == SERVICE
    assert (fetched.status, fetched.from_) == ("delivered", SERVICE_NUMBER)


async def test_every_call_is_an_api_request_event(sim: Any, sdk: Any, api_log: Any) -> None:
    client = sim.client()
    created = await sdk(client.messages.create, to=PHONE, from_=sim.number, body="hi")
    await sdk(client.messages(created.sid).fetch)
    await sdk(client.messages.list)

    log = api_log(sim)
    assert [(r["method"], r["status"], r["code"]) for r in log] == [
        ("POST", 201, None),
        ("GET", 200, None),
        ("GET", 200, None),
    ]
    assert log[0]["params"] == {"To": PHONE, "From": sim.number, "Body": "hi"}
    assert all(r["account"] == sim.account_sid for r in log)
