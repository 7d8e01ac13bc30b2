"""Reading Twilio message logs: Console CSV exports and REST Messages list JSON.

Both give `LoggedMessage`s, one per message, with the fields a log has (field and column
names in any case and either spelling: ``SentDate`` or ``date_sent``). Accepted inputs:

- a Twilio Console message-log CSV export (``From, To, Body, Status, SentDate, ApiVersion,
  NumSegments, ErrorCode, AccountSid, Sid, Direction, Price, PriceUnit`` in any order;
  From, To, Direction and SentDate (or DateCreated) are required, the rest optional);
- REST v2010 Messages JSON: a list page (``{"messages": [...], "next_page_uri": ...}``),
  one Message, a JSON array of pages or Messages, or JSON lines of pages or Messages.

Dates may be ISO 8601 (with an offset, ``Z``, or none for UTC) or RFC 2822. Prices are
negative in logs; a `LoggedMessage` holds the charge, positive. Everything here is pure:
it takes text and a name for messages. Errors are `ImportFailed`, naming the file and
the line (CSV, JSON lines), the line and column (malformed JSON) or the record
(``page.json: messages[3] (SM...)``).
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twsim.core import phone
from twsim.core.lifecycle import MessageDirection

# Column / field names, lower-cased without punctuation, and what they mean.
_FIELDS = {
    "from": "from",
    "to": "to",
    "body": "body",
    "status": "status",
    "direction": "direction",
    "sentdate": "date",
    "datesent": "date",
    "date": "date",
    "datecreated": "created",
    "numsegments": "segments",
    "segments": "segments",
    "nummedia": "media",
    "errorcode": "error_code",
    "accountsid": "account",
    "sid": "sid",
    "messagesid": "sid",
    "price": "price",
    "priceunit": "price_unit",
}
_REQUIRED_COLUMNS = {"from": "From", "to": "To", "direction": "Direction", "date": "SentDate"}
_DIRECTIONS = frozenset(str(d) for d in MessageDirection)


class ImportFailed(ValueError):
    """Input that cannot be imported; the message names the file and line or record."""


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """One message as a Twilio log shows it (price: the charge, positive)."""

    sid: str
    direction: str
    from_: str
    to: str
    at: datetime
    body: str = ""
    status: str = ""
    account_sid: str | None = None
    num_segments: int | None = None
    num_media: int = 0
    price: Decimal | None = None
    price_unit: str | None = None
    error_code: int | None = None
    where: str = ""

    @property
    def inbound(self) -> bool:
        return self.direction == MessageDirection.INBOUND


@dataclass(frozen=True, slots=True)
class Page:
    """Where a REST list page says it is, and where the next one is."""

    where: str
    uri: str | None
    next_page_uri: str | None


@dataclass(slots=True)
class Export:
    """What one input file holds, in file order."""

    name: str
    messages: list[LoggedMessage]
    pages: list[Page] = field(default_factory=list)


# -- values -------------------------------------------------------------------------------------
def parse_time(text: str) -> datetime:
    """A log timestamp in UTC: ISO 8601 (offset, ``Z`` or none = UTC) or RFC 2822."""
    text = text.strip()
    try:
        if text[:1].isdigit():
            parsed = datetime.fromisoformat(text)
        else:
            parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(
            f"bad date {text!r} (expected ISO 8601 like 2024-03-05T14:22:31-08:00 or "
            "RFC 2822 like 'Tue, 05 Mar 2024 22:22:31 +0000')"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _whole(value: Any, what: str) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError(f"bad {what} {value!r} (expected a whole number, 0 or more)")
    return int(text)


def _money(value: Any, what: str) -> Decimal | None:
    text = _text(value)
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValueError(f"bad {what} {value!r} (expected a number like -0.00790)")
    return abs(amount)


def _field_key(name: str) -> str | None:
    return _FIELDS.get(re.sub(r"[^a-z0-9]", "", name.lower()))


def message_from_fields(raw: dict[str, Any], where: str) -> LoggedMessage:
    """A `LoggedMessage` from a CSV row or REST JSON message (field names in any case)."""
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, value in raw.items():
        key = _field_key(str(name))
        if key is not None and key not in values:
            values[key], names[key] = value, str(name)
    try:
        direction = _text(values.get("direction")).lower()
        if direction not in _DIRECTIONS:
            raise ValueError(
                f"bad direction {values.get('direction')!r} (expected one of {', '.join(sorted(_DIRECTIONS))})"
            )
        ends = {}
        for key in ("from", "to"):
            text = _text(values.get(key))
            if not text:
                raise ValueError(f"no {names.get(key, key)!r} number")
            ends[key] = phone.normalize(text) or text
        stamp = _text(values.get("date")) or _text(values.get("created"))
        if not stamp:
            raise ValueError("no date (SentDate, date_sent or date_created)")
        segments = _whole(values.get("segments"), names.get("segments", ""))
        sid = _text(values.get("sid"))
        media = _whole(values.get("media"), names.get("media", "")) or 0
        if sid.startswith("MM"):
            media = max(media, 1)
        error = _whole(values.get("error_code"), names.get("error_code", ""))
        return LoggedMessage(
            sid=sid or "SM" + hashlib.md5(where.encode(), usedforsecurity=False).hexdigest(),
            direction=direction,
            from_=ends["from"],
            to=ends["to"],
            at=parse_time(stamp),
            body="" if values.get("body") is None else str(values["body"]),
            status=_text(values.get("status")).lower()
            or ("received" if direction == "inbound" else "sent"),
            account_sid=_text(values.get("account")) or None,
            num_segments=segments or None,
            num_media=media,
            price=_money(values.get("price"), names.get("price", "")),
            price_unit=_text(values.get("price_unit")).upper() or None,
            error_code=error or None,
            where=where,
        )
    except ValueError as exc:
        raise ImportFailed(f"{where}: {exc}") from None


# -- CSV ----------------------------------------------------------------------------------------
def parse_csv(text: str, name: str) -> Export:
    """A Twilio Console message-log export: a header row, then one message per row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    messages: list[LoggedMessage] = []
    try:
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _check_header(row, f"{name}:{line}")
                continue
            if len(row) != len(header):
                raise ImportFailed(
                    f"{name}:{line}: {len(row)} fields, but the header has {len(header)}"
                )
            messages.append(
                message_from_fields(dict(zip(header, row, strict=True)), f"{name}:{line}")
            )
    except csv.Error as exc:
        raise ImportFailed(f"{name}:{reader.line_num}: unreadable CSV ({exc})") from None
    if header is None:
        raise ImportFailed(f"{name}: empty file (expected a Twilio message log export)")
    return Export(name, messages)


def _check_header(row: list[str], where: str) -> list[str]:
    header = [cell.strip() for cell in row]
    known = {_field_key(cell) for cell in header}
    if "date" not in known and "created" in known:
        known.add("date")
    missing = [label for key, label in _REQUIRED_COLUMNS.items() if key not in known]
    if missing:
        found = ", ".join(header)
        if len(missing) == len(_REQUIRED_COLUMNS):
            raise ImportFailed(
                f"{where}: not a Twilio message log export: no {', '.join(missing)} "
                f"columns (found: {found})"
            )
        raise ImportFailed(f"{where}: missing column(s) {', '.join(missing)} (found: {found})")
    return header


# -- JSON ---------------------------------------------------------------------------------------
def parse_json(text: str, name: str, *, lines: bool | None = None) -> Export:
    """REST Messages list JSON: a page, a message, an array of them, or JSON lines of them.

    `lines` None decides by content: a file that is not one JSON document but whose first
    line is one is read as JSON lines; True and False force the choice.
    """
    export = Export(name, [])
    if not lines:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            first = text.lstrip().partition("\n")[0]
            if lines is False or exc.lineno == 1 or not _is_json(first):
                raise ImportFailed(
                    f"{name}:{exc.lineno}:{exc.colno}: malformed JSON ({exc.msg})"
                ) from None
        else:
            _collect(document, name, "", export, top=True)
            return export
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFailed(f"{name}:{number}:{exc.colno}: malformed JSON ({exc.msg})") from None
        _collect(document, f"{name}:{number}", "", export, top=False)
    return export


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _collect(value: Any, where: str, path: str, export: Export, *, top: bool) -> None:
    here = f"{where}: {path}" if path else where
    if isinstance(value, list) and top:
        for index, item in enumerate(value):
            _collect(item, where, f"{path}[{index}]", export, top=False)
        return
    if not isinstance(value, dict):
        raise ImportFailed(
            f"{here}: expected a Messages list page or a Message, got {_kind(value)}"
        )
    if "messages" in value:
        records = value["messages"]
        if not isinstance(records, list):
            raise ImportFailed(f"{here}: 'messages' is {_kind(records)}, expected a list")
        export.pages.append(Page(here, value.get("uri"), value.get("next_page_uri")))
        prefix = f"{path}." if path else ""
        for index, record in enumerate(records):
            label = f"{prefix}messages[{index}]"
            if not isinstance(record, dict):
                raise ImportFailed(f"{where}: {label}: expected a Message, got {_kind(record)}")
            sid = record.get("sid")
            label += f" ({sid})" if isinstance(sid, str) and sid else ""
            export.messages.append(message_from_fields(record, f"{where}: {label}"))
    elif "sid" in value or "direction" in value:
        export.messages.append(message_from_fields(value, here))
    else:
        keys = ", ".join(map(str, list(value)[:8]))
        raise ImportFailed(
            f"{here}: neither a Messages list page nor a Message (keys: {keys or 'none'})"
        )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def read_export(text: str, name: str) -> Export:
    """Parse one input by its extension (.csv, .json, .jsonl/.ndjson), else by its content."""
    text = text.removeprefix("\ufeff")
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return parse_json(text, name, lines=True)
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("{", "[")):
        return parse_json(text, name)
    return parse_csv(text, name)


def check_pages(pages: Sequence[Page]) -> list[str]:
    """Warnings for REST pages whose next page was not among the inputs."""
    seen = {_uri_key(p.uri) for p in pages if p.uri}
    return [
        f"{p.where}: the next page ({p.next_page_uri}) was not imported; the traffic may be incomplete"
        for p in pages
        if p.next_page_uri and _uri_key(p.next_page_uri) not in seen
    ]


def _uri_key(uri: str) -> tuple[str, frozenset[tuple[str, str]]]:
    parts = urlsplit(uri)
    return parts.path, frozenset(parse_qsl(parts.query, keep_blank_values=True))
