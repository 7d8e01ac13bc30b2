"""The attribution rule for REST sends, case by case on a manual clock."""

from __future__ import annotations

import pytest

from twsim.model.attribution import Attribution, Cause, Send
from twsim.model.clock import ManualClock

ACCOUNT, OTHER_ACCOUNT = "AC1", "AC2"
NUMBER, SECOND_NUMBER = "+15005550006", "+15005550007"
A, B, OWNER = "+12025550101", "+12025550102", "+12025550100"


def exchange(
    rule: Attribution,
    inbound: str,
    phone: str,
    *,
    number: str = NUMBER,
    account: str = ACCOUNT,
    service: str | None = None,
) -> None:
    rule.opened(
        inbound, f"WA{inbound}", account=account, phone=phone, number=number, service=service
    )


def send(to: str, from_: str | None = NUMBER, service: str | None = None) -> Send:
    return Send(account=ACCOUNT, to=to, from_=from_, service=service)


# (webhooks in flight as (inbound, texter, number, service), the send, the inbound it goes to)
IN_FLIGHT = [
    pytest.param([("SM1", A, NUMBER, None)], send(OWNER), "SM1", id="the only one"),
    pytest.param(
        [("SM1", A, SECOND_NUMBER, None), ("SM2", B, NUMBER, None)],
        send(A),
        "SM2",
        id="same number beats the recipient's texter",
    ),
    pytest.param(
        [("SM1", A, NUMBER, "MG1"), ("SM2", B, SECOND_NUMBER, None)],
        send(OWNER, from_=None, service="MG1"),
        "SM1",
        id="the Messaging Service's number",
    ),
    pytest.param(
        [("SM1", A, NUMBER, None), ("SM2", B, NUMBER, None)],
        send(A),
        "SM1",
        id="then the recipient's texter",
    ),
    pytest.param(
        [("SM1", A, NUMBER, None), ("SM2", B, NUMBER, None)],
        send(OWNER),
        "SM2",
        id="then the latest",
    ),
    pytest.param(
        [("SM1", OWNER, NUMBER, None), ("SM2", A, SECOND_NUMBER, None)],
        send(A),
        "SM1",
        id="relay: the owner's webhook, not the stranger's",
    ),
]


@pytest.mark.parametrize(("webhooks", "outgoing", "expected"), IN_FLIGHT)
def test_a_webhook_in_flight_takes_the_send(
    webhooks: list[tuple[str, str, str, str | None]], outgoing: Send, expected: str
) -> None:
    rule = Attribution(ManualClock(), window_s=2.0)
    for inbound, phone, number, service in webhooks:
        exchange(rule, inbound, phone, number=number, service=service)
    assert rule.cause_for(outgoing) == Cause(expected, f"WA{expected}", "in-flight")


def test_concurrent_webhooks_get_one_send_each_before_any_gets_two() -> None:
    rule = Attribution(ManualClock(), window_s=2.0)
    for n in range(4):
        exchange(rule, f"SM{n}", f"+131255501{n:02d}")
    owners = [rule.cause_for(send(OWNER)).inbound for _ in range(8)]
    assert sorted(owners[:4]) == ["SM0", "SM1", "SM2", "SM3"]
    assert sorted(owners[4:]) == ["SM0", "SM1", "SM2", "SM3"]


def test_in_flight_beats_a_finished_webhook_with_the_recipient() -> None:
    rule = Attribution(ManualClock(), window_s=2.0)
    exchange(rule, "SM1", A)
    rule.closed("SM1")
    exchange(rule, "SM2", OWNER)
    assert rule.cause_for(send(A)) == Cause("SM2", "WASM2", "in-flight")


async def test_the_window_applies_only_when_nothing_is_in_flight() -> None:
    clock = ManualClock()
    rule = Attribution(clock, window_s=2.0)
    exchange(rule, "SM1", A)
    exchange(rule, "SM2", B)
    rule.closed("SM1")
    rule.closed("SM2")
    await clock.advance(1.5)
    assert rule.cause_for(send(A)) == Cause("SM1", "WASM1", "conversation")
    assert rule.cause_for(send(OWNER)) == Cause("SM2", "WASM2", "window")
    await clock.advance(1.0)  # 2.5 s after both finished
    assert rule.cause_for(send(A)) == Cause()


def test_other_accounts_webhooks_never_take_a_send() -> None:
    rule = Attribution(ManualClock(), window_s=2.0)
    exchange(rule, "SM1", A, account=OTHER_ACCOUNT)
    assert rule.cause_for(send(A)) == Cause()
