"""Importing real Twilio traffic as a twsim recording.

Takes the messages of Twilio Console message-log CSV exports and REST Messages list JSON
(read by `twsim.recording.exports`; one file or several) and turns them into the events the
gateway would have logged for the same traffic, so report, diff and replay read an import
like any recording:

- an inbound message gives ``inbound.received`` and its ``charge``;
- an outbound message gives ``message.created``, a ``message.status`` with its final status
  and error code, and its ``charge``. It is attributed, as the gateway attributes messages,
  to the latest inbound from its recipient to its sender at most `window_s` seconds earlier
  (``attributed: "conversation"``; a reply looks back without a time limit). Else (REST
  messages only) it goes to an inbound to its sender within the window (``"concurrent"``):
  the earliest that has caused no such message yet, else the latest, so an app that sends
  one notification per text gets each notification matched to its own text.

Time is kept: ``t`` is seconds since the first message (date sent, else date created),
so an imported burst replays as it happened. Prices come from the log (``price`` is
negative there; a charge is its size, spread evenly over the billing units, with no
carrier fee). A message the log has no price for is priced from `prices` when given (as
the gateway does: a failed outbound pays the failed-message fee), else its charge event
says ``unpriced``. Segments come from the log, else from the body; encoding from the body.

Everything but `import_files` is pure: it takes messages and returns data. Errors are
`ImportFailed` naming the file and the line or record. With `anonymize`, numbers, SIDs and
bodies are replaced first (`twsim.recording.anonymizer`).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from twsim.core import keywords, phone
from twsim.core.lifecycle import MessageDirection, MessageStatus
from twsim.core.pricing import (
    Channel,
    Charge,
    Direction,
    NumberType,
    PriceKey,
    PriceTable,
    PricingError,
    billing_units,
)
from twsim.model.events import (
    Charged,
    Event,
    InboundReceived,
    MessageCreated,
    MessageStatusChanged,
)
from twsim.model.records import Message, new_message
from twsim.recording.anonymizer import TOLL_FREE_AREA_CODES, Anonymizer
from twsim.recording.exports import Export, ImportFailed, LoggedMessage, check_pages, read_export
from twsim.recording.journal import Header, RecordingError, open_new, recording_lines

DEFAULT_WINDOW_S = 60.0
DEFAULT_COUNTRY = "US"
ZERO = Decimal(0)


@dataclass(slots=True)
class ImportProgress:
    """How far an import has come, for live progress (updated as it goes, read by another thread)."""

    files: int = 0
    files_read: int = 0
    reading: str = ""
    messages: int = 0  # read so far; all of them once the files are read
    converted: int = 0
    written: int = 0
    events: int = 0
    cost: Decimal = ZERO
    phase: str = "reading"


@dataclass(slots=True)
class ImportResult:
    output: Path
    messages: int
    inbound: int
    outbound: int
    warnings: list[str]


def guess_number_type(number: str) -> NumberType:
    """A gateway number's type: short code, NANP toll-free (+1 8xx), else local."""
    address = number.rpartition(":")[2].strip()
    if phone.SHORT_CODE.match(address):
        return NumberType.SHORT_CODE
    if address.startswith("+1") and address[2:5] in TOLL_FREE_AREA_CODES:
        return NumberType.TOLL_FREE
    return NumberType.LOCAL


# -- ordering and conversion --------------------------------------------------------------------
def merge(exports: Iterable[Export]) -> tuple[list[LoggedMessage], list[str]]:
    """Every export's messages, once each (by SID), oldest first; plus warnings.

    Twilio lists newest first; a file that reads mostly backwards in time is turned round
    before sorting, so messages logged in the same second keep their order. At the same
    time an inbound goes before an outbound.
    """
    exports = list(exports)
    warnings = check_pages([p for e in exports for p in e.pages])
    chosen: dict[str, LoggedMessage] = {}
    duplicates = 0
    for export in exports:
        messages = export.messages
        steps = list(itertools.pairwise(messages))
        if sum(b.at < a.at for a, b in steps) > sum(b.at > a.at for a, b in steps):
            messages = messages[::-1]
        for message in messages:
            if message.sid in chosen:
                duplicates += 1
            else:
                chosen[message.sid] = message
    if duplicates:
        warnings.append(f"{duplicates} message(s) appeared more than once; each was imported once")
    units = sorted({m.price_unit for m in chosen.values() if m.price_unit})
    if len(units) > 1:
        warnings.append(f"prices in several currencies ({', '.join(units)}) are added as they are")
    order = {sid: index for index, sid in enumerate(chosen)}
    ordered = sorted(chosen.values(), key=lambda m: (m.at, not m.inbound, order[m.sid]))
    return ordered, warnings


def anonymize_messages(messages: Sequence[LoggedMessage], seed: int = 0) -> list[LoggedMessage]:
    """The same traffic with fake numbers, SIDs and scrubbed bodies (see `twsim.recording.anonymizer`)."""
    numbers = {m.from_ for m in messages} | {m.to for m in messages}
    fake = Anonymizer(seed, avoid=numbers)
    return [
        replace(
            m,
            sid=fake.sid(m.sid),
            account_sid=fake.sid(m.account_sid) if m.account_sid else None,
            from_=fake.number(m.from_),
            to=fake.number(m.to),
            body=fake.body(m.body),
            where="",
        )
        for m in messages
    ]


class _Attribution:
    """Which earlier inbound an outbound message answered (see the module notes)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._by_pair: dict[tuple[str, str], LoggedMessage] = {}
        self._by_number: dict[str, deque[LoggedMessage]] = {}
        self._claimed: set[str] = set()

    def saw(self, inbound: LoggedMessage) -> None:
        self._by_pair[inbound.from_, inbound.to] = inbound
        self._by_number.setdefault(inbound.to, deque()).append(inbound)

    def cause(self, outbound: LoggedMessage) -> tuple[str | None, str | None]:
        found = self._by_pair.get((outbound.to, outbound.from_))
        if found is not None and (
            outbound.direction == MessageDirection.OUTBOUND_REPLY or self._near(outbound, found)
        ):
            return found.sid, "conversation"
        if outbound.direction == MessageDirection.OUTBOUND_REPLY:
            return None, None
        recent = self._by_number.get(outbound.from_, deque())
        while recent and not self._near(outbound, recent[0]):
            recent.popleft()
        candidates = [
            m for m in recent if m.account_sid == outbound.account_sid or not outbound.account_sid
        ]
        if not candidates:
            return None, None
        chosen = next((m for m in candidates if m.sid not in self._claimed), candidates[-1])
        self._claimed.add(chosen.sid)
        return chosen.sid, "concurrent"

    def _near(self, outbound: LoggedMessage, inbound: LoggedMessage) -> bool:
        return (outbound.at - inbound.at).total_seconds() <= self.window_s


def to_events(
    messages: Sequence[LoggedMessage],
    *,
    window_s: float = DEFAULT_WINDOW_S,
    prices: PriceTable | None = None,
    progress: ImportProgress | None = None,
) -> list[Event]:
    """The events the gateway logs for this traffic; `messages` must be oldest first."""
    progress = progress or ImportProgress()
    events: list[Event] = []
    if not messages:
        return events
    start = messages[0].at
    attribution = _Attribution(window_s)
    for m in messages:
        t = (m.at - start).total_seconds()
        message = _message(m)
        if m.inbound:
            logged = _received(m, message)
            attribution.saw(m)
            cause: str | None = m.sid
            key = _key(m.from_, message.number_type, Direction.INBOUND, m)
        else:
            cause, how = attribution.cause(m)
            logged = _sent(m, message, cause, how)
            key = _key(m.to, message.number_type, Direction.OUTBOUND, m)
        charged = _charged(m, key, message.num_segments, prices, cause)
        progress.converted += 1
        if charged.total is not None:
            progress.cost += Decimal(charged.total)
        logged.append(charged)
        for event in logged:  # numbered in order, all at the message's time
            event.seq, event.t = len(events) + 1, t
            events.append(event)
    return events


def _received(m: LoggedMessage, message: Message) -> list[Event]:
    handles = keywords.handles_keywords(message.number_type)
    keyword = keywords.classify(m.body) if handles else None
    received = InboundReceived.of(message, source="import", keyword=keyword and str(keyword))
    received.num_media = m.num_media  # logs give the media count, not the URLs
    return [received]


def _sent(m: LoggedMessage, message: Message, cause: str | None, how: str | None) -> list[Event]:
    message.inbound_sid = cause
    created = MessageCreated.of(message, attributed=how)
    created.num_media = m.num_media
    if m.status == "queued":
        return [created]
    final = MessageStatusChanged(
        inbound=cause, message=m.sid, status=m.status, previous="queued", error_code=m.error_code
    )
    return [created, final]


def _charged(
    m: LoggedMessage, key: PriceKey, segments: int, prices: PriceTable | None, cause: str | None
) -> Charged:
    charge, unpriced = _charge(m, key, segments, prices)
    if charge is None:
        return Charged(inbound=cause, message=m.sid, unpriced=unpriced)
    return Charged(
        inbound=cause,
        message=m.sid,
        account=m.account_sid,
        total=f"{charge.total:f}",
        charge=charge.to_dict(),
    )


def _message(m: LoggedMessage) -> Message:
    """The message a log line describes, as the gateway would have stored it."""
    number_type = guess_number_type(m.to if m.inbound else m.from_)
    other = m.from_ if m.inbound else m.to
    message = new_message(
        sid=m.sid,
        account_sid=m.account_sid or "",
        direction=MessageDirection(m.direction),
        from_=m.from_,
        to=m.to,
        body=m.body,
        status=MessageStatus.RECEIVED if m.inbound else MessageStatus.QUEUED,
        number_type=number_type,
        country=phone.country_of(other) or DEFAULT_COUNTRY,
        now=m.at,
    )
    if m.num_segments:
        message.num_segments = m.num_segments
    return message


def _key(other: str, number_type: NumberType, direction: Direction, m: LoggedMessage) -> PriceKey:
    country = phone.country_of(other) or DEFAULT_COUNTRY
    channel = Channel.MMS if m.num_media else Channel.SMS
    return PriceKey(country, number_type, direction, channel)


def _charge(
    m: LoggedMessage, key: PriceKey, segments: int, prices: PriceTable | None
) -> tuple[Charge | None, str]:
    units = billing_units(key.channel, max(segments, 1))
    if m.price is not None:
        return Charge(key, units, m.price / units, ZERO), ""
    if prices is None:
        return None, "the log has no price for this message"
    try:
        if key.direction is Direction.OUTBOUND and m.status == "failed":
            return prices.failed_fee(key), ""
        return prices.charge(key, max(segments, 1)), ""
    except PricingError as exc:
        return None, str(exc)


# -- files --------------------------------------------------------------------------------------
def import_files(
    paths: Sequence[str | Path],
    output: str | Path,
    *,
    anonymize: bool = False,
    seed: int = 0,
    window_s: float = DEFAULT_WINDOW_S,
    prices: PriceTable | None = None,
    force: bool = False,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Read Twilio exports and write them as one recording at `output`.

    An existing `output` is kept unless `force`; it is never one of the inputs. `progress`,
    when given, is kept up to date as the files are read, converted and written.
    """
    progress = progress or ImportProgress()
    output = Path(output)
    if not paths:
        raise ImportFailed("no input files")
    if window_s < 0:
        raise ImportFailed(f"the attribution window must not be negative, got {window_s}")
    if output.exists() and not force:
        raise ImportFailed(f"{output} already exists; use --force to overwrite it")
    inputs = [Path(p) for p in paths]
    for path in inputs:
        if path.exists() and output.exists() and path.samefile(output):
            raise ImportFailed(f"{output} is also an input; choose another output")
    progress.files = len(inputs)
    exports = []
    for path in inputs:
        progress.reading = path.name
        export = read_export(_read_text(path), str(path))
        exports.append(export)
        progress.files_read += 1
        progress.messages += len(export.messages)
    progress.phase = "converting"
    messages, warnings = merge(exports)
    progress.messages = len(messages)
    if not messages:
        raise ImportFailed(f"no messages in {', '.join(map(str, inputs))}")
    if anonymize:
        messages = anonymize_messages(messages, seed)
    currency = next((m.price_unit for m in messages if m.price_unit), "USD")
    table = (
        {"name": prices.name, "taken": prices.taken, "currency": prices.currency}
        if prices is not None
        else {"name": "logged", "currency": currency}
    )
    header = Header(
        started_at=messages[0].at.isoformat(),
        seed=seed if anonymize else None,
        prices=table,
        meta={"imported_from": [p.name for p in inputs], "anonymized": anonymize},
    )
    events = to_events(messages, window_s=window_s, prices=prices, progress=progress)
    progress.phase = "writing"
    progress.events = len(events) + 1  # lines, with the header
    try:
        with open_new(output, force=force) as out:
            for line in recording_lines(header, events):
                out.write(line)
                progress.written += 1
    except RecordingError as exc:
        raise ImportFailed(str(exc)) from None
    except OSError as exc:
        raise ImportFailed(f"{output}: cannot write: {exc.strerror}") from None
    inbound = sum(m.inbound for m in messages)
    return ImportResult(output, len(messages), inbound, len(messages) - inbound, warnings)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(f"{path}:{line}: not UTF-8 text") from None
