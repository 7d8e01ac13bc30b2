"""The gateway's rules, without HTTP: ingest, validation, opt-outs, loops, pacing, billing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from twsim.config.models import Config, NumberConfig
from twsim.config.reader import config_from_dict
from twsim.core.errors import TwilioError
from twsim.core.lifecycle import MessageDirection, MessageStatus
from twsim.core.pricing import Channel, Direction, NumberType, PriceKey
from twsim.gateway.runtime import Gateway
from twsim.model.clock import ManualClock
from twsim.model.events import (
    AutoReply,
    Charged,
    EventType,
    InboundRejected,
    MessageCreated,
    MessageRejected,
    MessageStatusChanged,
)
from twsim.model.state import OutboundRequest

NUMBER = "+15005550006"
PHONE = "+12025550123"


def gateway(config: Config | None = None, clock: ManualClock | None = None) -> Gateway:
    return Gateway(config or Config(), clock=clock or ManualClock())


def send(g: Gateway, to: str = PHONE, body: str = "hi", **fields: object) -> object:
    account = next(iter(g.state.accounts.values()))
    return g.state.create_message(
        account, OutboundRequest(to=to, from_=fields.pop("from_", NUMBER), body=body, **fields)
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("from_", "to", "body", "media", "code"),
    [
        (PHONE, "+15005550999", "hi", (), 21606),
        ("not a phone", NUMBER, "hi", (), 21212),
        ("", NUMBER, "hi", (), 21212),
        (PHONE, NUMBER, "x" * 1601, (), 21617),
        (PHONE, NUMBER, "", tuple(f"https://e.com/{i}.png" for i in range(11)), 21623),
    ],
)
async def test_inbound_validation(
    from_: str, to: str, body: str, media: tuple[str, ...], code: int
) -> None:
    g = gateway()
    with pytest.raises(TwilioError) as caught:
        g.state.receive_inbound(from_=from_, to=to, body=body, media_urls=media)
    assert caught.value.code == code
    rejected = g.events.of_type(InboundRejected)
    assert [e.code for e in rejected] == [code]
    assert not g.state.messages


async def test_inbound_is_stored_and_billed_once() -> None:
    g = gateway()
    received = g.state.receive_inbound(
        from_="+1 (202) 555-0123", to=NUMBER, body="hello €", media_urls=()
    )
    message = received.message
    assert (message.direction, message.status, message.from_, message.num_segments) == (
        MessageDirection.INBOUND,
        MessageStatus.RECEIVED,
        PHONE,
        1,
    )
    charges = g.events.of_type(Charged)
    assert len(charges) == 1 and charges[0].inbound == message.sid
    expected = g.prices.charge(PriceKey("US", NumberType.LOCAL, Direction.INBOUND, Channel.SMS), 1)
    assert message.price == expected.base
    assert g.state.accounts[message.account_sid].balance == Decimal("20.00") - expected.total


@pytest.mark.parametrize(
    ("to", "from_", "body", "code"),
    [
        (None, NUMBER, "hi", 21604),
        ("12", NUMBER, "hi", 21211),
        (PHONE, None, "hi", 21603),
        (PHONE, "nope!", "hi", 21212),
        (PHONE, "+12025550199", "hi", 21606),
        (PHONE, NUMBER, "", 21602),
        (PHONE, NUMBER, "y" * 1601, 21617),
        (NUMBER, NUMBER, "hi", 21211),
        ("+15005550001", NUMBER, "hi", 21211),
        ("+15005550002", NUMBER, "hi", 21612),
        ("+15005550003", NUMBER, "hi", 21408),
        ("+15005550004", NUMBER, "hi", 21610),
        ("+15005550009", NUMBER, "hi", 21614),
        (PHONE, "+15005550008", "hi", 21611),
        (PHONE, "+15005550007", "hi", 21606),
        ("+81312345678", NUMBER, "hi", 21408),
    ],
)
async def test_outbound_validation_codes(
    to: str | None, from_: str | None, body: str, code: int
) -> None:
    g = gateway()
    with pytest.raises(TwilioError) as caught:
        send(g, to=to, from_=from_, body=body)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert [e.code for e in g.events.of_type(MessageRejected)] == [code]


async def test_lifecycle_bills_when_sent_and_reports_every_status() -> None:
    g = gateway()
    message = send(g, body="a" * 200)
    assert message.status is MessageStatus.QUEUED and message.price is None  # type: ignore[attr-defined]
    await g.quiet(60)
    statuses = [e.status for e in g.events.of_type(MessageStatusChanged)]
    assert statuses == ["sending", "sent", "delivered"]
    charge = g.events.of_type(Charged)[0]
    assert charge.charge["units"] == 2
    assert message.price == 2 * g.prices.unit_price(
        PriceKey("US", NumberType.LOCAL, Direction.OUTBOUND, Channel.SMS)
    )  # type: ignore[attr-defined]
    assert message.date_sent is not None  # type: ignore[attr-defined]


async def test_outcome_rules_decide_the_end() -> None:
    config = config_from_dict(
        {"delivery": {"outcomes": [{"to": "+1202*", "status": "undelivered", "error_code": 30003}]}}
    )
    g = gateway(config)
    bad, good = send(g, to=PHONE), send(g, to="+13125550100")
    await g.quiet(60)
    assert (bad.status, bad.error_code, bad.error_message) == (
        MessageStatus.UNDELIVERED,
        30003,
        "Unreachable destination handset",
    )  # type: ignore[attr-defined]
    assert good.status is MessageStatus.DELIVERED  # type: ignore[attr-defined]


async def test_failed_messages_pay_the_failed_fee_only() -> None:
    config = config_from_dict(
        {"delivery": {"outcomes": [{"to": "*", "status": "failed", "error_code": 30008}]}}
    )
    g = gateway(config)
    message = send(g)
    await g.quiet(60)
    assert message.status is MessageStatus.FAILED  # type: ignore[attr-defined]
    charge = g.events.of_type(Charged)[0].charge
    assert charge["kind"] == "failed"


@pytest.mark.parametrize(
    ("body", "blocked_after", "reply_starts"),
    [
        ("STOP", True, "You have successfully been unsubscribed"),
        ("  sToP ", True, "You have successfully been unsubscribed"),
        ("unsubscribe", True, "You have successfully been unsubscribed"),
        ("stop please", False, None),
        ("HELP", False, "Reply STOP to unsubscribe"),
    ],
)
async def test_keywords(body: str, blocked_after: bool, reply_starts: str | None) -> None:
    g = gateway()
    g.state.receive_inbound(from_=PHONE, to=NUMBER, body=body)
    replies = g.events.of_type(AutoReply)
    if reply_starts is None:
        assert replies == []
    else:
        assert replies[0].body.startswith(reply_starts)
        assert replies[0].to == PHONE
    if blocked_after:
        with pytest.raises(TwilioError) as caught:
            send(g)
        assert caught.value.code == 21610
    else:
        send(g)


async def test_start_opts_back_in_and_short_codes_do_not_filter() -> None:
    g = gateway(
        Config(
            numbers=[NumberConfig(), NumberConfig(phone_number="12345", type=NumberType.SHORT_CODE)]
        )
    )
    g.state.receive_inbound(from_=PHONE, to=NUMBER, body="STOP")
    g.state.receive_inbound(from_=PHONE, to=NUMBER, body="yes")
    send(g)
    g.state.receive_inbound(from_=PHONE, to="12345", body="STOP")
    assert len(g.events.of_type(AutoReply)) == 2
    send(g, from_="12345")  # the short code's app handles STOP itself


async def test_toll_free_answers_with_network_messages() -> None:
    g = gateway(
        Config(numbers=[NumberConfig(phone_number="+18445550100", type=NumberType.TOLL_FREE)])
    )
    g.state.receive_inbound(from_=PHONE, to="+18445550100", body="stop")
    assert g.events.of_type(AutoReply)[0].body.startswith("NETWORK MSG:")


async def test_reply_loop_is_cut_after_thirty_replies_in_thirty_seconds() -> None:
    clock = ManualClock()
    g = gateway(clock=clock)
    replies = [send(g, direction=MessageDirection.OUTBOUND_REPLY) for _ in range(31)]
    await g.quiet(60)
    assert [m.status for m in replies[:30]] == [MessageStatus.DELIVERED] * 30  # type: ignore[attr-defined]
    assert (replies[30].status, replies[30].error_code) == (MessageStatus.FAILED, 14107)  # type: ignore[attr-defined]
    await clock.advance(30)
    later = send(g, direction=MessageDirection.OUTBOUND_REPLY)
    await g.quiet(60)
    assert later.status is MessageStatus.DELIVERED  # type: ignore[attr-defined]


async def test_pacing_queues_at_the_sender_rate_and_overflows_with_21611() -> None:
    clock = ManualClock()
    g = gateway(config_from_dict({"delivery": {"pacing": True}}), clock)
    first, second = send(g, body="a" * 300), send(g)  # 2 segments, then 1
    assert (first.queue_delay_s, second.queue_delay_s) == (0.0, 2.0)  # type: ignore[attr-defined]
    long_body = "b" * 1530  # 10 segments = 10 s of a long code
    sent = 2
    while True:
        try:
            send(g, body=long_body)
        except TwilioError as error:
            assert error.code == 21611
            break
        sent += 1
    assert g.state.sender_backlog(NUMBER) > 36_000 - 10
    # the k-th long message waits 3 + 10k s; it is queued while that is at most 10 h
    assert sent == 2 + 3600


async def test_rest_messages_during_a_webhook_are_attributed_to_its_inbound() -> None:
    g = gateway()
    received = g.state.receive_inbound(from_=PHONE, to=NUMBER, body="hi")
    g.state.attribution.opened(
        received.message.sid,
        "WA1",
        account=received.message.account_sid,
        phone=PHONE,
        number=NUMBER,
    )
    to_phone = send(g, to=PHONE)
    to_other = send(g, to="+13125550100")
    g.state.attribution.closed(received.message.sid)
    assert (to_phone.inbound_sid, to_other.inbound_sid) == (
        received.message.sid,
        received.message.sid,
    )  # type: ignore[attr-defined]
    created = {e.message: e.attributed for e in g.events.of_type(MessageCreated)}
    assert created == {to_phone.sid: "in-flight", to_other.sid: "in-flight"}  # type: ignore[attr-defined]


async def test_attribution_window_closes() -> None:
    clock = ManualClock()
    g = gateway(clock=clock)
    received = g.state.receive_inbound(from_=PHONE, to=NUMBER, body="hi")
    g.state.attribution.opened(
        received.message.sid,
        "WA1",
        account=received.message.account_sid,
        phone=PHONE,
        number=NUMBER,
    )
    g.state.attribution.closed(received.message.sid)
    await clock.advance(1.0)
    inside = send(g, to=PHONE)
    await clock.advance(5.0)
    outside = send(g, to=PHONE)
    assert inside.inbound_sid == received.message.sid  # type: ignore[attr-defined]
    assert outside.inbound_sid is None  # type: ignore[attr-defined]


async def test_reset_forgets_messages_and_opt_outs() -> None:
    g = gateway()
    g.state.receive_inbound(from_=PHONE, to=NUMBER, body="STOP")
    g.reset()
    assert not g.state.messages and len(g.state.opt_outs) == 0
    assert [e.type for e in g.events] == [EventType.NUMBER_CHANGED, EventType.RESET]
    send(g)


async def test_same_seed_same_sids() -> None:
    first = [send(gateway(Config(seed=3))).sid for _ in range(1)]  # type: ignore[attr-defined]
    again = [send(gateway(Config(seed=3))).sid for _ in range(1)]  # type: ignore[attr-defined]
    other = [send(gateway(Config(seed=4))).sid for _ in range(1)]  # type: ignore[attr-defined]
    assert first == again != other
