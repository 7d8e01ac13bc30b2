"""The amplification report, built from hand-written event lists (no gateway involved)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
import yaml

from twsim.analysis.report import ReportBuilder, build
from twsim.analysis.text import render, side_by_side
from twsim.config.shipped import DATA
from twsim.core.price_table_reader import read_price_table
from twsim.core.pricing import (
    Channel,
    Direction,
    NumberType,
    PriceKey,
    PriceTable,
    format_money,
)
from twsim.core.segments import segment
from twsim.model.events import (
    ApiRequest,
    AutoReply,
    CallbackAttempt,
    Charged,
    Event,
    InboundReceived,
    InboundRejected,
    MessageCreated,
    MessageRejected,
    MessageStatusChanged,
    NumberChanged,
    SendPlanned,
    TwimlWarning,
    WebhookAttempt,
)

US_YAML = yaml.safe_load(DATA.joinpath("prices", "us.yaml").read_text())
US = read_price_table(US_YAML, name="us")

NUMBER = "+15005550006"
A, B, C, D = "+12025550101", "+12025550102", "+12025550103", "+12025550104"
INVALID = "Invalid code, try again"
NUDGE = "Reminder: the code is on the syllabus"
# a curly apostrophe forces UCS-2: 100 characters are 2 UCS-2 segments but 1 GSM-7 segment
CURLY = "You\u2019re checked in for CS101. " + "Have a good class! " * 3 + "x" * 14


def key(direction: Direction) -> PriceKey:
    return PriceKey("US", NumberType.LOCAL, direction, Channel.SMS)


def unit(prices: PriceTable, direction: Direction) -> Decimal:
    """One single-segment SMS between the local number and a US phone."""
    return prices.charge(key(direction), 1).total


class Log:
    """Writes events as the gateway would, with made-up times."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event_class: type[Event], /, **fields: Any) -> None:
        seq = len(self.events) + 1
        self.events.append(event_class(seq=seq, t=0.25 * seq, **fields))

    def inbound(
        self, sid: str, sender: str, body: str, *, latency_ms: float, failed: bool = False
    ) -> None:
        seg = segment(body)
        self.emit(
            InboundReceived,
            inbound=sid,
            message=sid,
            from_=sender,
            to=NUMBER,
            body=body,
            segments=seg.count,
            encoding=str(seg.encoding),
            ucs2_chars="".join(seg.ucs2_chars),
            meta={},
        )
        self.emit(
            Charged,
            inbound=sid,
            message=sid,
            charge=US.charge(key(Direction.INBOUND), seg.count).to_dict(),
        )
        self.emit(
            WebhookAttempt,
            inbound=sid,
            attempt=f"WA{sid}",
            latency_ms=latency_ms,
            http_status=None if failed else 200,
            error_code=11200 if failed else None,
        )
        if failed:
            self.emit(TwimlWarning, inbound=sid, attempt=f"WA{sid}", code=11200, fatal=True)

    def outbound(
        self,
        sid: str,
        inbound: str | None,
        body: str,
        *,
        api: bool = False,
        to: str = "",
        fails_with: int | None = None,
    ) -> None:
        seg = segment(body)
        direction = "outbound-api" if api else "outbound-reply"
        self.emit(
            MessageCreated,
            inbound=inbound,
            message=sid,
            direction=direction,
            from_=NUMBER,
            to=to,
            body=body,
            segments=seg.count,
            encoding=str(seg.encoding),
            ucs2_chars="".join(seg.ucs2_chars),
            status="queued",
        )
        self.emit(MessageStatusChanged, inbound=inbound, message=sid, status="sending")
        if fails_with is not None:
            self.emit(
                MessageStatusChanged,
                inbound=inbound,
                message=sid,
                status="failed",
                error_code=fails_with,
            )
            charge = US.failed_fee(key(Direction.OUTBOUND))
        else:
            self.emit(MessageStatusChanged, inbound=inbound, message=sid, status="sent")
            charge = US.charge(key(Direction.OUTBOUND), seg.count)
        self.emit(Charged, inbound=inbound, message=sid, charge=charge.to_dict())
        if fails_with is None:
            self.emit(MessageStatusChanged, inbound=inbound, message=sid, status="delivered")

    def refused_reply(self, inbound: str, code: int, warning: int) -> None:
        """A <Message> the gateway refused: a TwiML warning plus the rejected message."""
        self.emit(TwimlWarning, inbound=inbound, attempt=f"WA{inbound}", code=warning)
        self.emit(
            MessageRejected,
            inbound=inbound,
            attempt=f"WA{inbound}",
            direction="outbound-reply",
            code=code,
        )


def story() -> list[Event]:
    """A wrong code texted three times by A, once right by B, twice by C, once by D.

    - A (SM1-SM3): every text gets "Invalid" and a REST nudge; the third reply fails
      (30003, failed-message fee) and the third nudge is refused (21610, opted out).
    - B (SM4): one reply forced to 2 UCS-2 segments by a curly apostrophe.
    - C (SM5, SM6): the first answered; the second's <Message> refused (21211 -> 14101).
    - D (SM7): the webhook fails (11200).
    - And: an inbound from a bad sender (21212), a REST broadcast not caused by any text,
      two status callbacks (one fails), one opt-out auto-reply, seven planned sends.
    """
    log = Log()
    for n, lateness in enumerate([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 60.0]):
        log.emit(SendPlanned, phone=A, kind="first", planned_s=n, lateness_ms=lateness)
    log.inbound("SM1", A, "CS1O1", latency_ms=5)
    log.emit(ApiRequest, status=201)
    log.outbound("SMn1", "SM1", NUDGE, api=True, to=A)
    log.outbound("SMr1", "SM1", INVALID, to=A)
    log.emit(CallbackAttempt, inbound="SM1", message="SMr1", error_code=None)
    log.emit(CallbackAttempt, inbound="SM1", message="SMr1", error_code=11205)
    log.inbound("SM2", A, "CS1O1", latency_ms=10)
    log.emit(ApiRequest, status=201)
    log.outbound("SMn2", "SM2", NUDGE, api=True, to=A)
    log.outbound("SMr2", "SM2", INVALID, to=A)
    log.inbound("SM3", A, "CS1O1", latency_ms=15)
    log.emit(ApiRequest, status=400)
    log.emit(
        MessageRejected,
        inbound="SM3",
        direction="outbound-api",
        code=21610,
        to=A,
    )
    log.outbound("SMr3", "SM3", INVALID, to=A, fails_with=30003)
    log.inbound("SM4", B, "CS101", latency_ms=20)
    log.outbound("SMr4", "SM4", CURLY, to=B)
    log.inbound("SM5", C, "cs1o1 ", latency_ms=25)
    log.outbound("SMr5", "SM5", INVALID, to=C)
    log.inbound("SM6", C, "CS1O1", latency_ms=30)
    log.refused_reply("SM6", code=21211, warning=14101)
    log.inbound("SM7", D, "CS101", latency_ms=200, failed=True)
    log.emit(InboundRejected, source="scenario", code=21212, from_="bogus", to=NUMBER)
    log.emit(ApiRequest, status=201)
    log.outbound("SMu1", None, "Class is cancelled tomorrow", api=True, to=B)
    log.emit(AutoReply, inbound="SM5", from_=NUMBER, to=C, body="You are unsubscribed")
    return log.events


IN, OUT = unit(US, Direction.INBOUND), unit(US, Direction.OUTBOUND)
FAILED_FEE = US.failed_fee(key(Direction.OUTBOUND)).total


def test_totals_and_amplification() -> None:
    report = build(story())

    assert segment(CURLY).count == 2 and segment(CURLY.replace("\u2019", "'")).count == 1
    assert (report.inbound.count, report.inbound.segments) == (7, 7)
    assert report.inbound.cost == 7 * IN
    # replies SMr1-5 (SMr4 has 2 segments) and REST SMn1, SMn2, SMu1
    assert (report.outbound.count, report.outbound.segments) == (8, 9)
    assert report.outbound_by_origin["reply"].count == 5
    assert report.outbound_by_origin["api"].count == 3
    assert report.outbound.cost == 8 * OUT + FAILED_FEE
    assert report.outbound_by_origin["reply"].cost == 5 * OUT + FAILED_FEE
    assert report.outbound_by_origin["api"].cost == 3 * OUT
    assert report.total_cost == 7 * IN + 8 * OUT + FAILED_FEE
    assert report.outbound_by_status == {"delivered": 7, "failed": 1}
    # per text: what the texts caused; SMu1, which no text caused, has its own line
    assert report.amplification == {
        "messages": round(7 / 7, 4),
        "segments": round(8 / 7, 4),
        "cost": round(float(7 * OUT + FAILED_FEE) / 7, 4),
        "replies": round(5 / 7, 4),
        "api": round(2 / 7, 4),
    }
    assert report.unattributed.to_json() == {"count": 1, "segments": 1, "cost": format_money(OUT)}
    # the headline agrees with the per-position table
    by_position = report.by_position
    assert sum(p["outbound"] for p in by_position) == 7
    assert report.amplification["messages"] == round(
        sum(p["outbound"] for p in by_position) / sum(p["inbound"] for p in by_position), 4
    )
    assert report.senders == 4
    assert report.auto_replies == 1
    assert report.api_calls == {201: 3, 400: 1}
    assert report.rejected == {"inbound": 1, "outbound": 2}
    assert report.callbacks == {"requests": 2, "failures": 1}
    # from the first to the last gateway event (the seven send.planned events come first)
    assert report.duration_s == round(0.25 * len(story()) - 0.25 * 8, 3)


def test_gateway_set_up_is_not_part_of_the_run() -> None:
    """A recording starts with the gateway's numbers; the live report starts at the burst."""
    events = story()
    set_up = NumberChanged(action="added", number=NUMBER)
    recorded = build([set_up, *events])
    assert recorded.to_json() == build(events).to_json()
    assert recorded.duration_s == round(events[-1].t - events[7].t, 3)


def test_plans_written_by_a_remote_harness_do_not_bend_the_duration() -> None:
    """Against a remote gateway, send.planned events carry no time on the gateway's clock."""
    events = [e for e in story() if not isinstance(e, SendPlanned)]
    untimed = [SendPlanned(phone=A, lateness_ms=1.0) for _ in range(3)]
    report = build([*events, *untimed])
    assert report.duration_s == round(events[-1].t - events[0].t, 3) > 0
    assert report.lateness["sends"] == 3


def test_amplification_by_burst_position() -> None:
    report = build(story())

    assert report.by_position == [
        # SM1 (A), SM4 (B), SM5 (C), SM7 (D): SMn1, SMr1, SMr4, SMr5
        {
            "position": 1,
            "inbound": 4,
            "outbound": 4,
            "amplification": 1.0,
            "cost": format_money(5 * OUT),
        },
        # SM2 (A), SM6 (C): SMn2, SMr2
        {
            "position": 2,
            "inbound": 2,
            "outbound": 2,
            "amplification": 1.0,
            "cost": format_money(2 * OUT),
        },
        # SM3 (A): the failed SMr3
        {
            "position": 3,
            "inbound": 1,
            "outbound": 1,
            "amplification": 1.0,
            "cost": format_money(FAILED_FEE),
        },
    ]


def test_worst_senders_first() -> None:
    report = build(story())

    assert report.worst_senders == [
        {
            "sender": A,
            "inbound": 3,
            "outbound": 5,
            "amplification": round(5 / 3, 4),
            "cost": format_money(4 * OUT + FAILED_FEE),
        },
        {"sender": B, "inbound": 1, "outbound": 1, "amplification": 1.0, "cost": "0.025"},
        {"sender": C, "inbound": 2, "outbound": 1, "amplification": 0.5, "cost": "0.0125"},
        {"sender": D, "inbound": 1, "outbound": 0, "amplification": 0.0, "cost": "0.00"},
    ]
    assert format_money(2 * OUT) == "0.025" and format_money(OUT) == "0.0125"


def test_repeated_answers_count_answered_texts_of_one_body() -> None:
    report = build(story())
    # C's "cs1o1 " and "CS1O1" are one body, but only the first was answered
    assert report.repeated_answers == [{"sender": A, "body": "cs1o1", "answered": 3}]


def test_many_repeated_senders_are_cut_with_a_count() -> None:
    log = Log()
    for n in range(12):
        sender = f"+1202555{n:04d}"
        for k in range(2 + (n == 5)):
            sid = f"SM{n}-{k}"
            log.inbound(sid, sender, "code?", latency_ms=1)
            log.outbound(f"SMr{n}-{k}", sid, INVALID, to=sender)
    repeated = build(log.events).repeated_answers

    assert repeated[0] == {"sender": "+12025550005", "body": "code?", "answered": 3}
    assert len(repeated) == 11 and repeated[-1] == {"more": 2}


def test_errors_by_code_count_a_refused_message_once() -> None:
    report = build(story())

    assert report.errors == {
        11200: 1,  # D's webhook, as its TwiML warning
        11205: 1,  # the failed status callback
        14101: 1,  # C's refused <Message>, as its TwiML warning ...
        21212: 1,  # the inbound from a bad sender
        21610: 1,  # the REST nudge to an opted-out phone
        30003: 1,  # SMr3's delivery failure
    }
    assert 21211 not in report.errors  # ... not again as the rejected outbound-reply


def test_a_rejected_reply_without_its_warning_still_counts() -> None:
    """Only a rejection tied to an inbound's TwiML is left to the warning."""
    log = Log()
    log.emit(MessageRejected, direction="outbound-reply", code=21211)
    log.emit(MessageRejected, inbound="SM1", direction="outbound-api", code=21211)
    report = build(log.events)
    assert report.errors == {21211: 2}
    assert report.rejected == {"inbound": 0, "outbound": 2}


def test_webhook_failures_include_answers_that_are_not_2xx() -> None:
    log = Log()
    for n, (status, code) in enumerate([(200, None), (204, None), (500, None), (None, 11205)]):
        log.emit(
            WebhookAttempt,
            inbound=f"SM{n}",
            latency_ms=1.0,
            http_status=status,
            error_code=code,
        )
    assert build(log.events).webhook["failures"] == 2


def test_ucs2_characters_and_their_extra_cost() -> None:
    report = build(story())

    assert report.ucs2 == {
        "messages": 1,
        "chars": [{"char": "\u2019", "codepoint": "U+2019", "messages": 1}],
        "extra_segments": 1,
        "extra_cost": format_money(OUT),  # one of its two segments
    }


def cheaper() -> PriceTable:
    data = copy.deepcopy(US_YAML)
    data["name"] = "cheap"
    us = data["countries"]["US"]
    us["sms"]["inbound"]["local"] = "0.0050"
    us["sms"]["outbound"]["local"] = "0.0060"
    us["carrier_fees"]["sms"]["outbound"]["local"] = "0.0020"
    us["failed_fee"] = "0.0005"
    return read_price_table(data, name="cheap")


def test_repricing_with_another_table() -> None:
    cheap = cheaper()
    in2, out2 = unit(cheap, Direction.INBOUND), unit(cheap, Direction.OUTBOUND)
    assert (in2, out2) == (Decimal("0.0050"), Decimal("0.0080"))

    report = build(story(), prices=cheap)

    assert report.inbound.cost == 7 * in2
    assert report.outbound.cost == 8 * out2 + Decimal("0.0005")
    assert report.total_cost == 7 * in2 + 8 * out2 + Decimal("0.0005")
    assert report.ucs2["extra_cost"] == format_money(out2)
    assert report.worst_senders[0]["cost"] == format_money(4 * out2 + Decimal("0.0005"))
    # counts do not depend on prices
    assert report.outbound.count == build(story()).outbound.count


def test_repricing_keeps_charges_the_table_cannot_price() -> None:
    data = copy.deepcopy(US_YAML)
    del data["countries"]["US"]
    canada_only = read_price_table(data, name="canada")
    assert build(story(), prices=canada_only).total_cost == build(story()).total_cost


def test_latency_and_lateness_percentiles() -> None:
    report = build(story())

    latency = report.webhook["latency_ms"]
    assert (report.webhook["requests"], report.webhook["failures"]) == (7, 1)
    assert latency["count"] == 7
    # 5, 10, 15, 20, 25, 30, 200 ms, to HdrHistogram's three significant digits
    assert latency["p50"] == pytest.approx(20, rel=1e-3)
    assert latency["p90"] == pytest.approx(30, rel=1e-3)
    assert latency["p99"] == pytest.approx(200, rel=1e-3)
    assert latency["max"] == pytest.approx(200, rel=1e-3)
    lateness = report.lateness
    assert (lateness["sends"], lateness["count"]) == (7, 7)
    assert lateness["p50"] == pytest.approx(3, rel=1e-3)
    assert lateness["max"] == pytest.approx(60, rel=1e-3)


def test_an_empty_log_gives_an_empty_report() -> None:
    report = build([])

    assert report.inbound.count == report.outbound.count == 0
    assert report.amplification == dict.fromkeys(
        ("messages", "segments", "cost", "replies", "api"), 0.0
    )
    assert report.webhook["latency_ms"] == {
        "count": 0,
        "p50": None,
        "p90": None,
        "p99": None,
        "max": None,
    }
    assert report.total_cost == 0 and report.errors == {}
    text = render(report)
    assert "errors by Twilio code: none" in text
    assert "p50 -  p90 -  p99 -  max -" in text


def test_live_builder_and_recorded_events_give_the_same_report() -> None:
    events = story()
    live = ReportBuilder()
    for event in events:
        live.add(event)
    reloaded = [Event.from_json(json.loads(json.dumps(e.to_json()))) for e in events]

    expected = build(events).to_json()
    assert live.result().to_json() == expected
    assert build(reloaded).to_json() == expected
    assert expected["total_cost"] == format_money(7 * IN + 8 * OUT + FAILED_FEE)
    assert expected["errors"] == {
        "11200": 1,
        "11205": 1,
        "14101": 1,
        "21212": 1,
        "21610": 1,
        "30003": 1,
    }


def test_rendered_report_shows_the_key_figures() -> None:
    report = build(story())
    text = render(report, "classroom")

    lines = text.splitlines()
    assert lines[:2] == ["classroom", "========="]
    row = {line.split()[0]: line.split()[1:] for line in lines[2:8] if line.strip()}
    assert row["inbound"] == ["7", "7", "$" + format_money(7 * IN)]
    assert row["outbound"] == ["8", "9", "$" + format_money(8 * OUT + FAILED_FEE)]
    assert row["total"] == ["$" + format_money(report.total_cost)]
    assert (
        "amplification: 1.00 outbound messages, 1.14 segments and "
        f"${round(float(7 * OUT + FAILED_FEE) / 7, 4):.4f} per inbound text "
        "(0.71 replies + 0.29 REST sends)"
    ) in text
    assert (
        f"unattributed: 1 message(s) no text caused (1 segments, {format_money(OUT)}), "
        "in the totals above but not per text"
    ) in text
    assert "outbound by status: delivered 7, failed 1" in text
    assert "worst senders (of 4):" in text
    assert f"  {A}" in text
    assert "answered more than once for the same text: 1 sender(s)" in text
    assert f"{A} 'cs1o1' answered 3 times" in text
    assert "webhooks: 7 requests, 1 failed" in text
    assert "status callbacks: 2 requests, 1 failed" in text
    assert "schedule: 7 sends" in text
    assert (
        "errors by Twilio code: 11200 HTTP retrieval failure x1, 11205 HTTP connection "
        "failure x1, 14101 Invalid \"To\" attribute x1, 21212 The 'From' number is not a valid "
        "phone number, shortcode, or alphanumeric sender ID. x1, 21610 Attempt to send to "
        "unsubscribed recipient x1, 30003 Unreachable destination handset x1"
    ) in text
    assert (
        "UCS-2: 1 outbound message(s) forced to UCS-2 by '\u2019' U+2019 in 1; "
        f"1 extra segment(s), ${format_money(OUT)}"
    ) in text
    assert "rejected: 1 inbound, 2 outbound" in text
    assert "opt-out auto-replies: 1" in text


def test_side_by_side_compares_two_reports() -> None:
    naive = build(story())
    fixed = build(story(), prices=cheaper())
    text = side_by_side(naive, fixed, ("naive", "fixed"))

    rows = {line[:28].strip(): line[28:].split() for line in text.splitlines()[1:]}
    assert rows["inbound texts"] == ["7", "7"]
    assert rows["outbound messages"] == ["8", "8"]
    assert rows["total cost"] == [format_money(naive.total_cost), format_money(fixed.total_cost)]
    assert rows["errors"] == ["6", "6"]


def test_worst_senders_rank_by_outbound_then_money_then_number() -> None:
    """Ties in outbound messages go to the sender who cost more, numerically ($10 > $9)."""
    log = Log()
    for n, (sender, price) in enumerate(((B, "9.00"), (A, "9.00"), (C, "10.00"))):
        sid = f"SM{n}"
        log.inbound(sid, sender, "hi", latency_ms=1)
        charge = US.charge(key(Direction.OUTBOUND), 1).to_dict() | {"unit_price": price}
        log.emit(Charged, inbound=sid, message=f"SMx{n}", charge=charge)
    rows = build(log.events).worst_senders
    assert [r["sender"] for r in rows] == [C, A, B]  # equal outbound: money, then the number
    assert [Decimal(r["cost"]) for r in rows] == sorted(
        (Decimal(r["cost"]) for r in rows), reverse=True
    )
