"""The SMTP sink: real SMTP clients (Python's smtplib, Node's nodemailer) hand it mail."""

from __future__ import annotations

import asyncio
import json
import shutil
import smtplib
import subprocess
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from twsim.model.clock import SystemClock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import EmailReceived, EventLog
from twsim.observe.smtp_sink import Inbox, SmtpSink, StoredMail
from twsim.observe.witness import Witness

ROOT = Path(__file__).resolve().parents[2]
NPM_CACHE = ROOT / ".cache" / "npm"  # git-ignored; filled once by the test that needs it
SID = "SM" + "0123456789abcdef" * 2
STUDENT = "+15551230001"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    clock = SystemClock()
    effects = EffectAttribution(clock, 2.0)
    effects.watch()
    sink = SmtpSink(Witness(EventLog(clock), effects), "127.0.0.1", 0)
    await sink.start()
    yield sink
    await sink.stop()


def emails(sink: SmtpSink) -> list[EmailReceived]:
    return sink.witness.events.of_type(EmailReceived)


def send(host: str, port: int, message: EmailMessage) -> None:
    with smtplib.SMTP(host, port, timeout=30) as client:
        client.send_message(message)


def professor_note(subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "attendance@school.test"
    message["To"] = "professor@school.test"
    message["Subject"] = subject
    message.set_content(body)
    return message


async def test_smtplib_mail_becomes_an_event_and_is_never_relayed(sink: SmtpSink) -> None:
    note = professor_note("Invalid code", "A student sent CS1O1.\nPlease check the board.")
    note.add_attachment(
        b"\x00" * 20_000, maintype="application", subtype="pdf", filename="roster.pdf"
    )
    await asyncio.to_thread(send, sink.host, sink.port, note)

    (event,) = emails(sink)
    assert event.mail_from == "attendance@school.test"
    assert event.to == ["professor@school.test"]
    assert event.subject == "Invalid code"
    assert event.excerpt == "A student sent CS1O1. Please check the board."
    assert event.attachments == 1
    assert event.size > 20_000  # what the app sent, attachment and all
    # the recording keeps the message without its attachment
    assert "roster.pdf" in event.raw and "AAAAAAAA" not in event.raw
    assert len(event.raw) < 2_000 and not event.truncated
    # the inbox keeps the raw message as it came
    (kept,) = list(sink.inbox)
    assert kept.seq == event.seq and len(kept.content) == event.size
    assert kept.to == ("professor@school.test",)


async def test_envelope_recipients_are_the_ones_recorded(sink: SmtpSink) -> None:
    note = professor_note("Digest", "3 invalid codes")

    def send_to_two() -> None:
        with smtplib.SMTP(sink.host, sink.port, timeout=30) as client:
            client.send_message(
                note, from_addr="bounce@school.test", to_addrs=["a@school.test", "b@school.test"]
            )

    await asyncio.to_thread(send_to_two)
    (event,) = emails(sink)
    assert event.mail_from == "bounce@school.test"
    assert event.to == ["a@school.test", "b@school.test"]


async def test_html_only_mail_gets_a_text_excerpt(sink: SmtpSink) -> None:
    message = professor_note("Report", "")
    message.set_content("<html><body><p>Three <b>invalid</b> codes</p></body></html>", "html")
    await asyncio.to_thread(send, sink.host, sink.port, message)
    (event,) = emails(sink)
    assert event.excerpt == "Three invalid codes"


async def test_mail_naming_an_inbound_text_is_attributed_to_it(sink: SmtpSink) -> None:
    effects = sink.witness.effects
    effects.opened(SID, "WA1", STUDENT)
    effects.opened("SM" + "f" * 32, "WA2", "+15551230002")
    note = professor_note("Invalid code", f"{STUDENT} sent CS1O1 (message {SID})")
    await asyncio.to_thread(send, sink.host, sink.port, note)
    (event,) = emails(sink)
    assert (event.inbound, event.attempt, event.attributed) == (SID, "WA1", "mention")


async def test_mail_that_is_not_well_formed_is_still_recorded(sink: SmtpSink) -> None:
    raw = b"Subject: =?bogus?Q?x?=\r\nContent-Type: multipart/mixed\r\n\r\n\xff\xfe not MIME at all"

    def send_raw() -> None:
        with smtplib.SMTP(sink.host, sink.port, timeout=30) as client:
            client.sendmail("app@x.test", ["prof@x.test"], raw)

    await asyncio.to_thread(send_raw)
    (event,) = emails(sink)
    assert event.size >= len(raw) and event.to == ["prof@x.test"]  # SMTP ends it with CRLF


def test_the_inbox_is_bounded_by_count_and_size() -> None:
    inbox = Inbox(max_messages=3, max_bytes=250)
    for seq in range(1, 6):
        inbox.add(StoredMail(seq, "a@x", ("b@x",), b"x" * 100))
    assert [m.seq for m in inbox] == [4, 5]  # 3 would make 300 bytes
    assert inbox.received == 5 and inbox.get(5) is not None and inbox.get(1) is None


@pytest.fixture(scope="session")
def nodemailer() -> Path:
    """nodemailer from npm, installed once into a git-ignored cache folder."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("node and npm are needed for the nodemailer test")
    module = NPM_CACHE / "node_modules" / "nodemailer"
    if not module.exists():
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NPM_CACHE),
                "nodemailer@10",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return NPM_CACHE / "node_modules"


NODE_APP = """
const nodemailer = require("nodemailer");
const [host, port] = [process.argv[2], Number(process.argv[3])];
const transport = nodemailer.createTransport({ host, port, secure: false, ignoreTLS: true });
transport.sendMail({
  from: "Attendance <attendance@school.test>",
  to: "professor@school.test, ta@school.test",
  subject: "Invalid code from +15551230001",
  text: "A student sent CS1O1.",
  html: "<p>A student sent <b>CS1O1</b>.</p>",
  attachments: [{ filename: "log.txt", content: "x".repeat(5000) }],
}).then((info) => { console.log(JSON.stringify(info)); })
  .catch((err) => { console.error(err); process.exit(1); });
"""


async def test_a_node_app_sends_with_nodemailer(
    sink: SmtpSink, nodemailer: Path, tmp_path: Path
) -> None:
    script = tmp_path / "send.js"
    script.write_text(NODE_APP)
    process = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        sink.host,
        str(sink.port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"NODE_PATH": str(nodemailer), "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    info = json.loads(out)
    assert info["accepted"] == ["professor@school.test", "ta@school.test"]
    assert "accepted by twsim" in info["response"]

    (event,) = emails(sink)
    assert event.mail_from == "attendance@school.test"
    assert event.to == ["professor@school.test", "ta@school.test"]
    assert event.subject == "Invalid code from +15551230001"
    assert event.excerpt == "A student sent CS1O1."  # the plain part is preferred
    assert event.attachments == 1
    assert "xxxxxxxxxx" not in event.raw and "eHh4eHh4" not in event.raw  # as text or base64
