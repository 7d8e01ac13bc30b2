"""Recordings: the event log on disk, as JSON lines written while things happen.

The first line is a versioned header; every further line is one self-contained event
(`Event.to_json`). Lines are buffered and flushed at least every second, so a run that is
killed leaves a readable file whose last line may be cut short (even inside a character);
the reader tolerates that one cut line with a warning. No secret (auth token, API secret,
signature) is ever written: events do not carry them, and every line passes
`twsim.core.masking` (URL passwords, secret query parameters) on its way out.
"""

from __future__ import annotations

import asyncio
import hashlib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import orjson

from twsim.core.masking import mask_bytes
from twsim.core.pricing import PriceTable
from twsim.model.events import Event, EventLog

FORMAT = "twsim-recording"
VERSION = 1
FLUSH_EVERY_S = 0.5
_OPTIONS = orjson.OPT_NON_STR_KEYS


class RecordingError(ValueError):
    """A recording cannot be read (or written) as asked; the message names file and line."""


class RecordingWarning(UserWarning):
    pass


@dataclass(slots=True)
class Header:
    version: int = VERSION
    twsim_version: str = field(default_factory=lambda: version("twsim"))
    started_at: str | None = None
    seed: int | None = None
    prices: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "twsim_version": self.twsim_version,
            "started_at": self.started_at,
            "seed": self.seed,
            "prices": self.prices,
            "scenario": self.scenario,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, raw: Any, where: str) -> Header:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise RecordingError(
                f"{where}: not a twsim recording (the first line must be its header)"
            )
        version = raw.get("version")
        if version != VERSION:
            raise RecordingError(
                f"{where}: unknown recording format version {version!r} (this twsim reads version {VERSION})"
            )
        return cls(
            version=version,
            twsim_version=str(raw.get("twsim_version")),
            started_at=raw.get("started_at"),
            seed=raw.get("seed"),
            prices=dict(raw.get("prices") or {}),
            scenario=raw.get("scenario"),
            meta=dict(raw.get("meta") or {}),
        )


def header_line(header: Header) -> bytes:
    return mask_bytes(orjson.dumps(header.to_json(), default=str, option=_OPTIONS)) + b"\n"


def event_line(event: Event) -> bytes:
    """One event as its recording line: compact JSON, secrets masked."""
    return mask_bytes(orjson.dumps(event.to_json(), default=str, option=_OPTIONS)) + b"\n"


def recording_lines(header: Header, events: Iterable[Event]) -> Iterator[bytes]:
    """The lines of a recording file: its header, then its events."""
    yield header_line(header)
    for event in events:
        yield event_line(event)


def open_new(path: str | Path, *, force: bool = False) -> IO[bytes]:
    """Open `path` for a new recording; an existing file is kept unless `force`."""
    path = Path(path)
    if path.exists() and not force:
        raise RecordingError(f"{path} already exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb", buffering=64 * 1024)


class Recorder:
    """Writes a gateway's events to a recording as they happen."""

    def __init__(self, out: IO[bytes], header: Header, events: EventLog) -> None:
        self._out = out
        self._events = events
        self._header = header
        self._unsubscribe: Any = None
        self._flusher: asyncio.TimerHandle | None = None
        self.path = Path(getattr(out, "name", ""))
        self.written = 0

    @classmethod
    def create(
        cls,
        path: str | Path,
        events: EventLog,
        *,
        seed: int,
        prices: PriceTable,
        meta: dict[str, Any] | None = None,
        force: bool = False,
    ) -> Recorder:
        """A recorder of `events` into a new file at `path`; its header names the run."""
        meta = dict(meta or {})
        header = Header(
            started_at=events.started_at.isoformat(),
            seed=seed,
            prices={
                "name": prices.name,
                "taken": prices.taken,
                "currency": prices.currency,
                "digest": _digest(prices.countries),
            },
            scenario=meta.pop("scenario", None),
            meta=meta,
        )
        return cls(open_new(path, force=force), header, events)

    def start(self) -> None:
        self._out.write(header_line(self._header))
        for event in self._events:
            self._write(event)
        self._out.flush()
        self._unsubscribe = self._events.subscribe(self._write)
        self._schedule_flush()

    def _write(self, event: Event) -> None:
        self._out.write(event_line(event))
        self.written += 1

    def _schedule_flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._flusher = loop.call_later(FLUSH_EVERY_S, self._flush_tick)

    def _flush_tick(self) -> None:
        if not self._out.closed:
            self._out.flush()
            self._schedule_flush()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._flusher is not None:
            self._flusher.cancel()
        if not self._out.closed:
            self._out.flush()
            self._out.close()


def _digest(countries: Any) -> str:
    """A short fingerprint of a price table's figures (same name, other prices: other digest)."""
    text = repr(sorted(dict(countries).items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(slots=True)
class Recording:
    header: Header
    events: list[Event]
    path: str = ""


def iter_events(path: str | Path) -> Iterator[Header | Event]:
    """The header, then each event, of a recording; errors name the file and line.

    Only the last line may be cut short (a run killed mid-write): it is skipped with a
    `RecordingWarning`. Anything wrong before it is a `RecordingError`.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        lines = iter(handle)
        first = next(lines, b"")
        if not first.strip():
            raise RecordingError(f"{path}:1: empty file (a recording starts with its header line)")
        try:
            raw = orjson.loads(first)
        except orjson.JSONDecodeError:
            raise RecordingError(
                f"{path}:1: not a twsim recording (the header line is not JSON)"
            ) from None
        yield Header.from_json(raw, f"{path}:1")
        previous: tuple[int, bytes] | None = None
        for number, line in enumerate(lines, start=2):
            if previous is not None:
                yield _event(path, *previous)
            previous = (number, line)
        if previous is not None:
            number, line = previous
            if line.endswith(b"\n"):
                yield _event(path, number, line)
                return
            try:
                event = _event(path, number, line)
            except RecordingError:
                warnings.warn(
                    f"{path}:{number}: the last line is cut short and was skipped",
                    RecordingWarning,
                    stacklevel=2,
                )
                return
            yield event


def _event(path: Path, number: int, line: bytes) -> Event:
    if not line.strip():
        raise RecordingError(f"{path}:{number}: empty line")
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        reason = "not UTF-8" if "utf-8" in str(exc).lower() else str(exc)
        raise RecordingError(f"{path}:{number}: malformed event ({reason})") from None
    if not isinstance(raw, dict):
        raise RecordingError(f"{path}:{number}: malformed event (not a JSON object)")
    try:
        return Event.from_json(raw)
    except KeyError as exc:
        raise RecordingError(f"{path}:{number}: malformed event (no {exc} field)") from None
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"{path}:{number}: malformed event ({exc})") from None


def read_recording(path: str | Path) -> Recording:
    items = iter_events(path)
    header = next(items)
    assert isinstance(header, Header)
    events = [e for e in items if isinstance(e, Event)]
    return Recording(header, events, str(path))
