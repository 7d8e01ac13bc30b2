"""Reading Twilio message logs: dates, fields, CSV and JSON shapes, and errors that say where."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from twsim.recording.exports import (
    ImportFailed,
    Page,
    check_pages,
    message_from_fields,
    parse_csv,
    parse_json,
    parse_time,
    read_export,
)

AT = datetime(2024, 3, 5, 22, 22, 31, tzinfo=UTC)
HEADER = "From,To,Body,Status,SentDate,ApiVersion,NumSegments,ErrorCode,AccountSid,Sid,Direction,Price,PriceUnit"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"


def row(**over: str) -> str:
    values = {
        "From": "+16175550110",
        "To": "+16175550142",
        "Body": "BIO110",
        "Status": "received",
        "SentDate": "2024-03-05T14:22:31-08:00",
        "ApiVersion": "2010-04-01",
        "NumSegments": "1",
        "ErrorCode": "",
        "AccountSid": ACCOUNT,
        "Sid": "SM" + "1" * 32,
        "Direction": "inbound",
        "Price": "-0.00790",
        "PriceUnit": "USD",
    } | over
    return ",".join(values[c] for c in HEADER.split(","))


def message(**over: object) -> dict[str, object]:
    return {
        "sid": "SM" + "a" * 32,
        "account_sid": ACCOUNT,
        "from": "+16175550142",
        "to": "+16175550110",
        "body": "Sorry",
        "direction": "outbound-reply",
        "status": "delivered",
        "date_created": "Tue, 05 Mar 2024 22:22:30 +0000",
        "date_sent": "Tue, 05 Mar 2024 22:22:31 +0000",
        "num_segments": "1",
        "num_media": "0",
        "price": "-0.00790",
        "price_unit": "USD",
        "error_code": None,
    } | over


# -- values ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T14:22:31-08:00", AT),
        ("2024-03-05 22:22:31", AT),  # no offset: UTC
        ("2024-03-05T22:22:31Z", AT),
        ("2024-03-05T22:22:31.000+00:00", AT),
        ("Tue, 05 Mar 2024 22:22:31 +0000", AT),
        ("Tue, 05 Mar 2024 14:22:31 -0800", AT),
        ("  Tue, 05 Mar 2024 22:22:31 +0000 ", AT),
    ],
)
def test_dates_in_every_log_format(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-05 10:00:00", "Tue, 99 Mar 2024", ""])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad date"):
        parse_time(text)


@pytest.mark.parametrize(
    ("over", "field", "expected"),
    [
        ({}, "price", Decimal("0.00790")),  # the charge, positive
        ({"price": None}, "price", None),
        ({"price": ""}, "price", None),
        ({"price": "0.00000"}, "price", Decimal("0")),
        ({"num_segments": "3"}, "num_segments", 3),
        ({"num_segments": "0"}, "num_segments", None),  # not yet known: count the body
        ({"num_segments": 2}, "num_segments", 2),
        ({"error_code": 30003}, "error_code", 30003),
        ({"error_code": "30007"}, "error_code", 30007),
        ({"error_code": 0}, "error_code", None),
        ({"date_sent": None}, "at", datetime(2024, 3, 5, 22, 22, 30, tzinfo=UTC)),
        ({"sid": "MM" + "b" * 32, "num_media": "0"}, "num_media", 1),  # MM means media
        ({"num_media": "2"}, "num_media", 2),
        ({"direction": "OUTBOUND-API"}, "direction", "outbound-api"),
        ({"to": "(617) 555-0110"}, "to", "+16175550110"),
        ({"status": None}, "status", "sent"),
        ({"price_unit": "usd"}, "price_unit", "USD"),
        ({"body": None}, "body", ""),
    ],
)
def test_message_fields(over: dict[str, object], field: str, expected: object) -> None:
    logged = message_from_fields(message(**over), "x.json")
    assert getattr(logged, field) == expected


def test_field_names_in_any_case_or_spelling() -> None:
    a = message_from_fields(message(), "a")
    b = message_from_fields(
        {
            "Sid": a.sid,
            "AccountSid": ACCOUNT,
            "FROM": a.from_,
            "To": a.to,
            "Body": a.body,
            "Direction": a.direction,
            "Status": a.status,
            "Sent Date": "2024-03-05 22:22:31",
            "NumSegments": "1",
            "NumMedia": "0",
            "Price": "-0.00790",
            "PriceUnit": "USD",
            "ErrorCode": "",
            "Unrelated": "ignored",
        },
        "a",
    )
    assert b == a


def test_a_message_without_a_sid_gets_a_stable_one() -> None:
    one = message_from_fields(message(sid=None), "export.csv:7")
    assert one.sid.startswith("SM") and len(one.sid) == 34
    assert message_from_fields(message(sid=None), "export.csv:7").sid == one.sid
    assert message_from_fields(message(sid=None), "export.csv:8").sid != one.sid


@pytest.mark.parametrize(
    ("over", "complaint"),
    [
        ({"direction": "sideways"}, "bad direction 'sideways'"),
        ({"direction": None}, "bad direction"),
        ({"from": ""}, "no 'from' number"),
        ({"date_sent": None, "date_created": None}, "no date"),
        ({"date_sent": "soon"}, "bad date 'soon'"),
        ({"num_segments": "two"}, "bad num_segments 'two'"),
        ({"price": "free"}, "bad price 'free'"),
        ({"error_code": "E30003"}, "bad error_code 'E30003'"),
        ({"num_media": "-1"}, "bad num_media '-1'"),
    ],
)
def test_bad_fields_name_the_record(over: dict[str, object], complaint: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        message_from_fields(message(**over), "page.json: messages[3]")
    assert str(caught.value).startswith("page.json: messages[3]: ")
    assert complaint in str(caught.value)


# -- CSV ---------------------------------------------------------------------------------------
def test_csv_rows_in_file_order() -> None:
    text = "\n".join([HEADER, row(Sid="SM" + "2" * 32), row(Sid="SM" + "3" * 32)]) + "\n"
    export = parse_csv(text, "log.csv")
    assert [m.sid for m in export.messages] == ["SM" + "2" * 32, "SM" + "3" * 32]
    assert export.messages[0].where == "log.csv:2"
    assert export.messages[0].at == AT


def test_csv_columns_in_any_order_and_optional_ones_missing() -> None:
    text = "direction,sentdate,to,from,body\ninbound,2024-03-05 22:22:31,+16175550142,+16175550110,hi\n"
    (logged,) = parse_csv(text, "min.csv").messages
    assert (logged.from_, logged.to, logged.body, logged.at) == (
        "+16175550110",
        "+16175550142",
        "hi",
        AT,
    )
    assert logged.price is None and logged.num_segments is None and logged.status == "received"


def test_csv_quoted_bodies_with_line_breaks_keep_line_numbers() -> None:
    multi = row(Body='"two\nlines, and a comma"')
    text = "\r\n".join([HEADER, multi, row(SentDate="later")]) + "\r\n"
    with pytest.raises(ImportFailed, match=r"^log\.csv:4: bad date 'later'"):
        parse_csv(text, "log.csv")
    (logged,) = parse_csv("\r\n".join([HEADER, multi]), "log.csv").messages
    assert logged.body == "two\nlines, and a comma"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", r"^e\.csv: empty file"),
        ("name,email\nann,a@x\n", r"^e\.csv:1: not a Twilio message log export: no From, To, Direction, SentDate columns \(found: name, email\)"),
        ("From,To,Body\n+16175550110,+16175550142,hi\n", r"^e\.csv:1: missing column\(s\) Direction, SentDate"),
        (f"{HEADER}\n{row()},extra\n", r"^e\.csv:2: 14 fields, but the header has 13"),
        (f"{HEADER}\n\n{row(SentDate='05/03/2024')}\n", r"^e\.csv:3: bad date '05/03/2024'"),
        (f"{HEADER}\n{row(Direction='incoming')}\n", r"^e\.csv:2: bad direction 'incoming'"),
        (f"{HEADER}\n{row(NumSegments='1.5')}\n", r"^e\.csv:2: bad NumSegments '1\.5'"),
        (f"{HEADER}\n{row(Price='n/a')}\n", r"^e\.csv:2: bad Price 'n/a'"),
    ],
)  # fmt: skip
def test_bad_csv_names_file_and_line(text: str, complaint: str) -> None:
    with pytest.raises(ImportFailed, match=complaint):
        parse_csv(text, "e.csv")


# -- JSON --------------------------------------------------------------------------------------
def page(*messages: dict[str, object], uri: str = "/p0", next_uri: str | None = None) -> dict:
    return {"messages": list(messages), "uri": uri, "next_page_uri": next_uri, "page": 0}


ONE = message(sid="SM" + "1" * 32)
TWO = message(sid="SM" + "2" * 32)
THREE = message(sid="SM" + "3" * 32)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("page.json", json.dumps(page(ONE, TWO, THREE))),
        ("pages.json", json.dumps([page(ONE, TWO), page(THREE, uri="/p1")])),
        ("messages.json", json.dumps([ONE, TWO, THREE])),
        ("pages.jsonl", json.dumps(page(ONE, TWO)) + "\n\n" + json.dumps(page(THREE)) + "\n"),
        ("messages.ndjson", "\n".join(json.dumps(m) for m in (ONE, TWO, THREE))),
        ("lines.txt", "\n".join(json.dumps(m) for m in (ONE, TWO, THREE))),  # sniffed
        ("one.json", json.dumps(ONE) + "\n" + json.dumps(page(TWO, THREE))),  # sniffed lines
    ],
)
def test_every_json_shape_gives_the_same_messages(name: str, text: str) -> None:
    export = read_export(text, name)
    assert [m.sid for m in export.messages] == [ONE["sid"], TWO["sid"], THREE["sid"]]


def test_json_records_say_where_they_came_from() -> None:
    export = parse_json(json.dumps([page(ONE), page(TWO)]), "p.json")
    assert [m.where for m in export.messages] == [
        f"p.json: [0].messages[0] ({ONE['sid']})",
        f"p.json: [1].messages[0] ({TWO['sid']})",
    ]
    assert [p.where for p in export.pages] == ["p.json: [0]", "p.json: [1]"]


@pytest.mark.parametrize(
    ("name", "text", "complaint"),
    [
        ("b.json", '{"messages": [\n  {"sid": "SM1",\n  }\n]}', r"^b\.json:3:3: malformed JSON"),
        ("b.json", "", r"^b\.json:1:1: malformed JSON"),
        ("b.json", '{"messages": [', r"^b\.json:1:\d+: malformed JSON"),
        ("b.jsonl", json.dumps(ONE) + "\n{nope\n", r"^b\.jsonl:2:2: malformed JSON"),
        ("b.json", json.dumps(ONE) + "\n{nope\n", r"^b\.json:2:2: malformed JSON"),
        ("b.json", '"hello"', r"^b\.json: expected a Messages list page or a Message, got str"),
        ("b.json", "[[1]]", r"^b\.json: \[0\]: expected a Messages list page or a Message, got list"),
        ("b.json", '{"messages": 3}', r"^b\.json: 'messages' is int, expected a list"),
        ("b.json", '{"messages": [1]}', r"^b\.json: messages\[0\]: expected a Message, got int"),
        ("b.json", '{"accounts": []}', r"^b\.json: neither a Messages list page nor a Message \(keys: accounts\)"),
        ("b.json", json.dumps(page(ONE, message(sid="SM9", date_sent="never"))), r"^b\.json: messages\[1\] \(SM9\): bad date 'never'"),
        ("b.jsonl", json.dumps(ONE) + "\n" + json.dumps(message(direction="up")), r"^b\.jsonl:2: bad direction 'up'"),
    ],
)  # fmt: skip
def test_bad_json_names_file_and_line_or_record(name: str, text: str, complaint: str) -> None:
    with pytest.raises(ImportFailed, match=complaint):
        read_export(text, name)


def test_csv_is_recognised_without_an_extension_and_through_a_bom() -> None:
    export = read_export("\ufeff" + HEADER + "\n" + row() + "\n", "download")
    assert len(export.messages) == 1


def test_pages_whose_next_page_is_missing_are_reported() -> None:
    first = Page("p1.json", "/M.json?PageSize=5&Page=0", "/M.json?PageSize=5&Page=1&PageToken=PA1")
    second = Page("p2.json", "/M.json?Page=1&PageSize=5&PageToken=PA1", None)  # params reordered
    assert check_pages([first, second]) == []
    (warning,) = check_pages([first])
    assert warning.startswith("p1.json: the next page (/M.json?PageSize=5&Page=1&PageToken=PA1)")
