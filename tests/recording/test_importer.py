"""Importing the shipped Twilio exports: events, timing, attribution, prices, the report.

The expectations are worked out from the fixture files themselves (read here with `csv`
and `json`, not with the importer), so the tests say what the import must show for them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from twsim.analysis.report import build
from twsim.cli.main import main
from twsim.config.shipped import load_prices
from twsim.core.pricing import Charge
from twsim.model.events import Event, EventType
from twsim.recording.exports import ImportFailed, LoggedMessage, read_export
from twsim.recording.importer import guess_number_type, import_files, merge, to_events
from twsim.recording.journal import read_recording

IMPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
CSV_EXPORT = IMPORTS / "console-export.csv"
PAGES = [IMPORTS / "messages-page1.json", IMPORTS / "messages-page2.json"]
GATEWAY = "+16175550142"
PROFESSOR = "+16175550199"


def rows() -> list[dict[str, str]]:
    with CSV_EXPORT.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def api_messages() -> list[dict[str, Any]]:
    return [m for path in PAGES for m in json.loads(path.read_text("utf-8"))["messages"]]


def imported(tmp_path: Path, *paths: Path, name: str = "rec.jsonl", **options: Any) -> list[Event]:
    output = tmp_path / name
    import_files(list(paths), output, **options)
    return read_recording(output).events


def of_type(events: list[Event], kind: EventType) -> list[Event]:
    return [e for e in events if e.type is kind]


def charges(events: list[Event]) -> dict[str, dict[str, Any]]:
    return {e.message or "": e.data() for e in of_type(events, EventType.CHARGE)}


# -- the Console CSV export --------------------------------------------------------------------
def test_every_message_gives_the_gateways_events(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    directions = Counter(r["Direction"] for r in rows())
    assert directions == {"inbound": 45, "outbound-reply": 45, "outbound-api": 45}
    kinds = Counter(e.type for e in events)
    assert kinds == {
        EventType.INBOUND_RECEIVED: 45,
        EventType.MESSAGE_CREATED: 90,
        EventType.MESSAGE_STATUS: 90,
        EventType.CHARGE: 135,
    }
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    received = of_type(events, EventType.INBOUND_RECEIVED)[0]
    assert set(received.data()) == {
        "account", "From", "To", "body", "segments", "encoding", "ucs2_chars", "num_media",
        "media", "number_type", "source", "keyword", "meta",
    }  # fmt: skip
    assert received.inbound == received.message and received.data()["source"] == "import"
    created = of_type(events, EventType.MESSAGE_CREATED)[0]
    assert set(created.data()) == {
        "account", "direction", "From", "To", "body", "segments", "encoding", "ucs2_chars",
        "num_media", "status", "status_callback", "attributed",
    }  # fmt: skip


def test_the_header_says_where_the_recording_came_from(tmp_path: Path) -> None:
    import_files([CSV_EXPORT], tmp_path / "rec.jsonl")
    header = read_recording(tmp_path / "rec.jsonl").header
    first = min(datetime.fromisoformat(r["SentDate"]) for r in rows())
    assert datetime.fromisoformat(header.started_at or "") == first
    assert header.meta == {"imported_from": ["console-export.csv"], "anonymized": False}
    assert header.seed is None
    assert header.prices["currency"] == "USD"


def test_messages_keep_their_time_offsets_in_order(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    sent = {r["Sid"]: datetime.fromisoformat(r["SentDate"]) for r in rows()}
    first = min(sent.values())
    assert all(e.t == (sent[e.message or ""] - first).total_seconds() for e in events)
    assert [e.t for e in events] == sorted(e.t for e in events)
    assert events[0].t == 0.0
    assert events[-1].t == (max(sent.values()) - first).total_seconds() == 99.0
    # the export lists newest first; the recording runs oldest first
    assert rows()[-1]["Sid"] == events[0].message


def test_replies_answer_the_text_just_before_and_notifications_are_concurrent(
    tmp_path: Path,
) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    latest_from: dict[str, str] = {}
    checked = Counter[str]()
    for event in events:
        data = event.data()
        if event.type is EventType.INBOUND_RECEIVED:
            latest_from[data["From"]] = event.inbound or ""
        elif event.type is EventType.MESSAGE_CREATED and data["direction"] == "outbound-reply":
            assert event.inbound == latest_from[data["To"]]
            assert data["attributed"] == "conversation"
            checked["reply"] += 1
        elif event.type is EventType.MESSAGE_CREATED:
            assert data["To"] == PROFESSOR
            assert data["attributed"] == "concurrent"
            checked[event.inbound or ""] += 1
    assert checked.pop("reply") == 45
    # one notification per text: each text is matched to one, the earliest unmatched first
    assert len(checked) == 45 and set(checked.values()) == {1}
    assert {row["amplification"] for row in build(events).by_position} == {2.0}


def test_status_charge_and_created_carry_the_same_cause(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    cause = {e.message: e.inbound for e in of_type(events, EventType.MESSAGE_CREATED)}
    for event in of_type(events, EventType.MESSAGE_STATUS):
        assert event.inbound == cause[event.message]
    for event in of_type(events, EventType.CHARGE):
        assert event.inbound == cause.get(event.message, event.message)


def test_final_statuses_and_error_codes(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    logged = {
        r["Sid"]: (r["Status"], int(r["ErrorCode"]) if r["ErrorCode"] else None) for r in rows()
    }
    statuses = of_type(events, EventType.MESSAGE_STATUS)
    assert {e.message: (e.data()["status"], e.data()["error_code"]) for e in statuses} == {
        sid: v for sid, v in logged.items() if v[0] != "received"
    }
    assert Counter(e.data()["status"] for e in statuses) == {
        "delivered": 87,
        "undelivered": 1,
        "sent": 2,
    }


def test_logged_prices_become_charges_per_segment(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    by_sid = charges(events)
    for r in rows():
        data = by_sid[r["Sid"]]
        if not r["Price"]:
            assert data == {"unpriced": "the log has no price for this message"}
            continue
        charge = Charge.from_dict(data["charge"])
        assert charge.total == -Decimal(r["Price"]) == Decimal(data["total"])
        assert charge.units == int(r["NumSegments"])
        assert charge.unit_price == Decimal("0.0079") and charge.carrier_fee == 0
        assert charge.key.direction == ("inbound" if r["Direction"] == "inbound" else "outbound")
        assert (charge.key.country, charge.key.number_type, charge.key.channel) == (
            "US",
            "local",
            "sms",
        )
    assert sum(1 for d in by_sid.values() if "unpriced" in d) == 2


def test_a_price_table_prices_what_the_log_did_not(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT, prices=load_prices("us"))
    unpriced = {r["Sid"] for r in rows() if not r["Price"]}
    for sid in unpriced:
        charge = Charge.from_dict(charges(events)[sid]["charge"])
        assert (charge.unit_price, charge.carrier_fee) == (Decimal("0.0083"), Decimal("0.0042"))
    logged = next(r["Sid"] for r in rows() if r["Price"])
    assert charges(events)[logged]["total"] == "0.00790"  # a logged price wins
    header = read_recording(tmp_path / "rec.jsonl").header
    assert header.prices["name"] == "us"


def test_segments_and_encoding_of_the_long_and_the_emoji_texts(tmp_path: Path) -> None:
    events = imported(tmp_path, CSV_EXPORT)
    texts = {e.data()["body"]: e.data() for e in of_type(events, EventType.INBOUND_RECEIVED)}
    emoji = next(d for b, d in texts.items() if "🙏" in b)
    assert (emoji["encoding"], emoji["segments"], emoji["ucs2_chars"]) == ("UCS-2", 1, "🙏")
    long = next(d for b, d in texts.items() if len(b) > 160)
    assert (long["encoding"], long["segments"], long["ucs2_chars"]) == ("GSM-7", 2, "")
    echoed = [
        e.data() for e in of_type(events, EventType.MESSAGE_CREATED) if "🙏" in e.data()["body"]
    ]
    assert [(d["encoding"], d["segments"]) for d in echoed] == [("UCS-2", 2), ("UCS-2", 2)]


def test_the_report_of_the_classroom_burst(tmp_path: Path) -> None:
    report = build(imported(tmp_path, CSV_EXPORT))
    logged = sum((-Decimal(r["Price"]) for r in rows() if r["Price"]), Decimal(0))
    assert (report.inbound.count, report.outbound.count) == (45, 90)
    assert report.amplification["messages"] == 2.0
    assert report.amplification["replies"] == report.amplification["api"] == 1.0
    assert report.senders == 15
    assert report.errors == {30003: 1}
    assert report.total_cost == logged
    assert [row["inbound"] for row in report.by_position] == [15, 15, 11, 4]
    assert report.duration_s == 99.0
    assert report.repeated_answers[0]["answered"] == 4
    assert report.ucs2["messages"] == 2


# -- REST JSON pages ---------------------------------------------------------------------------
def test_two_linked_pages_import_whole(tmp_path: Path) -> None:
    events = imported(tmp_path, *PAGES)
    listed = api_messages()
    assert len(of_type(events, EventType.INBOUND_RECEIVED)) == 3
    assert len(of_type(events, EventType.MESSAGE_CREATED)) == 6
    assert {e.message for e in events} == {m["sid"] for m in listed}
    result = import_files(PAGES, tmp_path / "again.jsonl")
    assert result.warnings == [] and (result.inbound, result.outbound) == (3, 6)


def test_api_times_prefer_date_sent_then_date_created(tmp_path: Path) -> None:
    events = imported(tmp_path, *PAGES)
    listed = api_messages()
    when = {m["sid"]: parsedate_to_datetime(m["date_sent"] or m["date_created"]) for m in listed}
    first = min(when.values())
    for event in events:
        assert event.t == (when[event.message or ""] - first).total_seconds()


def test_api_attribution_keywords_media_and_failures(tmp_path: Path) -> None:
    events = imported(tmp_path, *PAGES, prices=load_prices("us"))
    listed = {m["sid"]: m for m in api_messages()}
    created = {e.message: e for e in of_type(events, EventType.MESSAGE_CREATED)}
    for sid, event in created.items():
        if listed[sid]["direction"] == "outbound-reply":
            source = listed[event.inbound or ""]
            assert (source["from"], source["to"]) == (listed[sid]["to"], listed[sid]["from"])
            assert event.data()["attributed"] == "conversation"
        else:  # reminders sent minutes away from any text to their number
            assert event.inbound is None and event.data()["attributed"] is None
    received = {e.data()["body"]: e.data() for e in of_type(events, EventType.INBOUND_RECEIVED)}
    assert received["STOP"]["keyword"] == "STOP"
    assert received["STOP"]["number_type"] == "toll-free"
    mms = received["Here's my new insurance card"]
    assert mms["num_media"] == 1
    failed = next(s for s, m in listed.items() if m["status"] == "failed")
    charge = Charge.from_dict(charges(events)[failed]["charge"])
    assert (charge.kind, charge.total) == ("failed", Decimal("0.001"))  # the table's fee
    mms_sid = next(s for s, m in listed.items() if m["num_media"] == "1")
    assert Charge.from_dict(charges(events)[mms_sid]["charge"]).key.channel == "mms"
    ucs2 = next(s for s, m in listed.items() if m["num_segments"] == "3")
    assert charges(events)[ucs2]["charge"]["unit_price"] == "0.00790"


@pytest.mark.parametrize(
    "layout",
    ["array of pages", "json lines of pages", "json lines of messages", "pages reversed"],
)
def test_any_layout_of_the_same_pages_gives_the_same_events(tmp_path: Path, layout: str) -> None:
    pages = [json.loads(p.read_text("utf-8")) for p in PAGES]
    combined = tmp_path / "combined.jsonl"
    inputs = [combined]
    if layout == "array of pages":
        combined = combined.with_suffix(".json")
        combined.write_text(json.dumps(pages), "utf-8")
        inputs = [combined]
    elif layout == "json lines of pages":
        combined.write_text("\n".join(json.dumps(p) for p in pages), "utf-8")
    elif layout == "json lines of messages":
        combined.write_text("\n".join(json.dumps(m) for m in api_messages()), "utf-8")
    else:
        inputs = PAGES[::-1]
    expected = imported(tmp_path, *PAGES, name="expected.jsonl")
    assert imported(tmp_path, *inputs) == expected


def test_a_missing_page_and_repeated_messages_are_warned_about(tmp_path: Path) -> None:
    result = import_files([PAGES[0]], tmp_path / "one.jsonl")
    (warning,) = result.warnings
    assert str(PAGES[0]) in warning and "next page" in warning and "Page=1" in warning
    result = import_files([*PAGES, PAGES[1]], tmp_path / "twice.jsonl")
    assert result.messages == 9
    assert result.warnings == ["4 message(s) appeared more than once; each was imported once"]


# -- attribution details -----------------------------------------------------------------------
@pytest.mark.parametrize("window", [60.0, 1.0, 0.0])
def test_the_window_bounds_rest_attribution(tmp_path: Path, window: float) -> None:
    events = imported(tmp_path, CSV_EXPORT, window_s=window)
    how = Counter(e.data()["attributed"] for e in of_type(events, EventType.MESSAGE_CREATED))
    texts = [datetime.fromisoformat(r["SentDate"]) for r in rows() if r["Direction"] == "inbound"]
    notes = [datetime.fromisoformat(r["SentDate"]) for r in rows() if r["To"] == PROFESSOR]
    near = sum(any(0 <= (n - t).total_seconds() <= window for t in texts) for n in notes)
    assert how["conversation"] == 45  # replies look back without a limit
    assert how["concurrent"] == near
    assert how[None] == 45 - near
    if window == 60.0:
        assert near == 45


T0 = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
A, B, C = "+16175550110", "+16175550111", "+16175550199"


def logged(
    sid: str, direction: str, frm: str, to: str, second: float, **more: Any
) -> LoggedMessage:
    at = T0 + timedelta(seconds=second)
    return LoggedMessage(
        sid, direction, frm, to, at, **({"body": "x", "account_sid": "AC1"} | more)
    )


def text(sid: str, phone: str, second: float) -> LoggedMessage:
    return logged(sid, "inbound", phone, GATEWAY, second)


def api(sid: str, to: str, second: float, **more: Any) -> LoggedMessage:
    return logged(sid, "outbound-api", GATEWAY, to, second, **more)


def reply(sid: str, to: str, second: float) -> LoggedMessage:
    return logged(sid, "outbound-reply", GATEWAY, to, second)


@pytest.mark.parametrize(
    ("traffic", "expected"),
    [
        ([text("a", A, 0), api("o", A, 59)], {"o": ("a", "conversation")}),
        ([text("a", A, 0), api("o", A, 61)], {"o": (None, None)}),
        ([text("a", A, 0), reply("o", A, 3600)], {"o": ("a", "conversation")}),
        ([text("a", A, 0), text("a2", A, 5), reply("o", A, 6)], {"o": ("a2", "conversation")}),
        ([text("a", A, 0), reply("o", B, 1)], {"o": (None, None)}),
        ([text("a", A, 0), api("o", C, 2)], {"o": ("a", "concurrent")}),
        ([text("a", A, 0), api("o", C, 2, account_sid="AC2")], {"o": (None, None)}),
        (
            [text("a", A, 0), text("b", B, 1), api("n1", C, 2), api("n2", C, 2), api("n3", C, 3)],
            {"n1": ("a", "concurrent"), "n2": ("b", "concurrent"), "n3": ("b", "concurrent")},
        ),
        (
            [text("a", A, 0), api("n1", C, 1), text("b", B, 70), api("n2", C, 71)],
            {"n1": ("a", "concurrent"), "n2": ("b", "concurrent")},
        ),
        ([api("o", A, 0), text("a", A, 1)], {"o": (None, None)}),  # effects follow causes
    ],
)
def test_attribution_rules(
    traffic: list[LoggedMessage], expected: dict[str, tuple[str | None, str | None]]
) -> None:
    events = to_events(traffic, window_s=60)
    created = of_type(events, EventType.MESSAGE_CREATED)
    assert {e.message: (e.inbound, e.data()["attributed"]) for e in created} == expected


def test_ties_in_time_put_the_inbound_first() -> None:
    base = {"sid": "", "from": "+16175550110", "to": GATEWAY, "body": "hi"}
    same = "Tue, 05 Mar 2024 22:22:31 +0000"
    reply = base | {"sid": "SM" + "2" * 32, "direction": "outbound-reply"}
    reply |= {"from": GATEWAY, "to": "+16175550110", "date_sent": same}
    text = base | {"sid": "SM" + "1" * 32, "direction": "inbound", "date_sent": same}
    export = read_export(json.dumps({"messages": [reply, text]}), "tie.json")
    ordered, _ = merge([export])
    assert [m.direction for m in ordered] == ["inbound", "outbound-reply"]


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("+16175550142", "local"),
        ("+18885550123", "toll-free"),
        ("+18335550123", "toll-free"),
        ("+18125550123", "local"),  # Indiana, not toll-free
        ("22395", "short-code"),
        ("whatsapp:+18005550100", "toll-free"),
        ("+447700900123", "local"),
    ],
)
def test_number_types_are_guessed_from_the_number(number: str, kind: str) -> None:
    assert guess_number_type(number) == kind


# -- anonymised imports ------------------------------------------------------------------------
def numbers_and_bodies(events: list[Event]) -> list[tuple[str, str, str]]:
    return [
        (e.data()["From"], e.data()["To"], e.data()["body"])
        for e in events
        if e.type in (EventType.INBOUND_RECEIVED, EventType.MESSAGE_CREATED)
    ]


@pytest.mark.parametrize("source", [[CSV_EXPORT], PAGES], ids=["csv", "pages"])
def test_anonymised_imports_hide_numbers_and_bodies_but_bill_the_same(
    tmp_path: Path, source: list[Path]
) -> None:
    real = imported(tmp_path, *source, name="real.jsonl")
    fake = imported(tmp_path, *source, name="fake.jsonl", anonymize=True, seed=42)
    text = (tmp_path / "fake.jsonl").read_text("utf-8")
    originals = numbers_and_bodies(real)
    for sender, recipient, body in originals:
        assert sender not in text and recipient not in text
        assert sender[2:] not in text  # not even without the country code
        if body.strip().upper() != "STOP":  # keywords are kept, see test_anonymize
            assert json.dumps(body, ensure_ascii=False)[1:-1] not in text
    mapping: dict[str, str] = {}
    for (a, b, body), (x, y, scrubbed) in zip(originals, numbers_and_bodies(fake), strict=True):
        assert mapping.setdefault(a, x) == x and mapping.setdefault(b, y) == y
        assert len(scrubbed) == len(body)
    assert len(set(mapping.values())) == len(mapping)  # one fake per real number
    assert GATEWAY not in mapping or guess_number_type(mapping[GATEWAY]) == "local"
    # everything billing and timing depend on is untouched
    for before, after in zip(real, fake, strict=True):
        assert (before.seq, before.t, before.type) == (after.seq, after.t, after.type)
        for key in ("segments", "encoding", "num_media", "number_type", "direction", "status"):
            assert before.data().get(key) == after.data().get(key)
        assert before.data().get("charge") == after.data().get("charge")
        assert (before.inbound is None) == (after.inbound is None)
    a, b = build(real).to_json(), build(fake).to_json()
    for key in ("inbound", "outbound", "amplification", "by_position", "errors", "total_cost"):
        assert a[key] == b[key]
    assert a["ucs2"]["extra_segments"] == b["ucs2"]["extra_segments"]
    assert [r.get("answered") for r in a["repeated_answers"]] == [
        r.get("answered") for r in b["repeated_answers"]
    ]
    header = read_recording(tmp_path / "fake.jsonl").header
    assert header.meta["anonymized"] is True and header.seed == 42


def test_anonymised_imports_are_repeatable_by_seed(tmp_path: Path) -> None:
    import_files(PAGES, tmp_path / "a.jsonl", anonymize=True, seed=1)
    import_files(PAGES, tmp_path / "b.jsonl", anonymize=True, seed=1)
    import_files(PAGES, tmp_path / "c.jsonl", anonymize=True, seed=2)
    a, b, c = ((tmp_path / n).read_text("utf-8") for n in ("a.jsonl", "b.jsonl", "c.jsonl"))
    assert a == b and a != c


def test_the_toll_free_gateway_stays_toll_free_when_anonymised(tmp_path: Path) -> None:
    events = imported(tmp_path, *PAGES, anonymize=True)
    gateways = {e.data()["To"] for e in of_type(events, EventType.INBOUND_RECEIVED)}
    (gateway,) = gateways
    assert gateway != "+18885550123" and guess_number_type(gateway) == "toll-free"


# -- files and the command ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "complaint"),
    [
        ("people.csv", "name,email\nann,ann@example.com\n", "people.csv:1: not a Twilio message log export"),
        ("broken.json", '{"messages": [\n  {"sid": \n', "broken.json:3:1: malformed JSON"),
        ("dates.csv", "From,To,Direction,SentDate\n+16175550110,+16175550142,inbound,2024-03-05 10:00:00\n+16175550110,+16175550142,inbound,next tuesday\n", "dates.csv:3: bad date 'next tuesday'"),
        ("empty.json", '{"messages": []}', "no messages in"),
        ("latin1.csv", "From,To,Direction,SentDate,Body\n+1,+1,inbound,2024-03-05,caf\xe9\n", "latin1.csv:2: not UTF-8 text"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_naming_file_and_line(
    tmp_path: Path, name: str, content: str, complaint: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1" if name == "latin1.csv" else "utf-8"))
    with pytest.raises(ImportFailed) as caught:
        import_files([path], tmp_path / "out.jsonl")
    assert complaint in str(caught.value)
    assert str(path) in str(caught.value)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=r"nowhere\.csv: cannot read"):
        import_files([tmp_path / "nowhere.csv"], tmp_path / "out.jsonl")


def test_an_existing_output_is_kept_unless_forced(tmp_path: Path) -> None:
    output = tmp_path / "rec.jsonl"
    output.write_text("precious\n", "utf-8")
    with pytest.raises(ImportFailed, match="already exists; use --force"):
        import_files(PAGES, output)
    assert output.read_text("utf-8") == "precious\n"
    import_files(PAGES, output, force=True)
    assert (
        len(read_recording(output).events) == 3 * 2 + 6 * 3
    )  # received+charge, created+status+charge


def test_an_input_is_never_the_output(tmp_path: Path) -> None:
    source = tmp_path / "page.json"
    source.write_text(PAGES[0].read_text("utf-8"), "utf-8")
    with pytest.raises(ImportFailed, match="is also an input"):
        import_files([source], source, force=True)
    assert source.read_text("utf-8") == PAGES[0].read_text("utf-8")


def test_the_import_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "rec.jsonl"
    argv = ["import", *map(str, PAGES), "-o", str(output), "--anonymize", "--seed", "5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "imported 9 messages (3 inbound, 6 outbound) from 2 file(s)" in out
    assert "(anonymized)" in out
    assert main(argv) == 2
    assert "already exists; use --force" in capsys.readouterr().err
    assert main([*argv, "--force", "--window", "5", "--prices", "us"]) == 0
    assert main(["import", str(PAGES[0]), "-o", str(tmp_path / "one.jsonl")]) == 0
    assert "warning: " in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{", "utf-8")
    assert main(["import", str(bad), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert f"twsim import: {bad}:1:2: malformed JSON" in capsys.readouterr().err
