"""The SMTP sink: a real SMTP server (aiosmtpd) on loopback that takes the app's mail and
never relays it.

Point the app's SMTP host at it, as developers point apps at Mailpit. It runs on the
gateway's own event loop, so a message arrives while the webhook that sent it is still in
flight. Each message becomes an `email.received` event; the raw messages are kept in an
`Inbox` bounded by count and size, oldest forgotten first.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from twsim.model.events import EmailReceived
from twsim.observe.mail import read_mail
from twsim.observe.witness import Witness

ACCEPTED = "250 2.0.0 OK: accepted by twsim (never relayed)"
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredMail:
    """One received message as it came, kept in memory."""

    seq: int
    mail_from: str
    to: tuple[str, ...]
    content: bytes


class Inbox:
    """The latest messages received, at most `max_messages` and `max_bytes` of them."""

    def __init__(self, max_messages: int = 1000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._mail: deque[StoredMail] = deque()
        self._bytes = 0
        self.received = 0

    def add(self, mail: StoredMail) -> None:
        self.received += 1
        self._mail.append(mail)
        self._bytes += len(mail.content)
        while self._mail and (len(self._mail) > self.max_messages or self._bytes > self.max_bytes):
            self._bytes -= len(self._mail.popleft().content)

    def __iter__(self) -> Any:
        return iter(tuple(self._mail))

    def __len__(self) -> int:
        return len(self._mail)

    def get(self, seq: int) -> StoredMail | None:
        """The message whose `email.received` event has sequence number `seq`, if kept."""
        for mail in self._mail:
            if mail.seq == seq:
                return mail
        return None


class _Handler:
    """aiosmtpd's DATA hook: record the message, answer 250, deliver it nowhere."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        self._sink.received(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        return ACCEPTED


class SmtpSink:
    """An SMTP server that turns every message it is given into an `email.received` event."""

    name = "smtp"

    def __init__(self, witness: Witness, host: str = "127.0.0.1", port: int = 0) -> None:
        self.witness = witness
        self.host = host
        self.port = port
        self.inbox = Inbox()
        self._server: asyncio.AbstractServer | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)

        def protocol() -> SMTP:
            return SMTP(
                handler,
                hostname="twsim",
                ident="twsim SMTP sink",
                data_size_limit=MAX_MESSAGE_BYTES,
                enable_SMTPUTF8=True,
                loop=loop,
            )

        try:
            self._server = await loop.create_server(protocol, self.host, self.port)
        except OSError as exc:
            raise OSError(f"the SMTP sink cannot listen on {self.address}: {exc.strerror}") from exc
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def look(self) -> None:
        """Mail is reported as it arrives: nothing to look at."""

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def received(self, mail_from: str, to: list[str], content: bytes) -> None:
        mail = read_mail(content)
        event = EmailReceived(
            mail_from=mail_from,
            to=to,
            subject=mail.subject,
            size=len(content),
            excerpt=mail.excerpt,
            attachments=mail.attachments,
            raw=mail.raw,
            truncated=mail.truncated,
        )
        self.witness.saw(event, mail.text)
        self.inbox.add(StoredMail(event.seq, mail_from, tuple(to), content))
