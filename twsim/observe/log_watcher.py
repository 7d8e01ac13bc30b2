"""The log watcher: follows the app's log files and reports the lines it writes.

Files named by paths or globs are followed from their current end (files that appear
later, from their start). Rotation (the file renamed and a new one created) is followed
to the end of the old file, then the new one from its start; truncation (copytruncate)
starts over at the top. Only whole lines count; a line still being written waits for its
newline. Each look reports, per file and per inbound text the lines are attributed to,
the lines, their bytes, and how many match the level pattern (errors).

Looks happen on an interval and, synchronously, whenever a webhook starts or ends, so
lines land in the right interval for attribution (those only read the files already
followed: finding new and rotated files waits for the interval). A look reads at most
`READ_LIMIT` bytes of each file; the rest waits for the next look. A file rotated away is
still read for `GONE_AFTER_S`, as apps often write to it until they reopen their log.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from twsim.model.events import LogLines
from twsim.observe.witness import Witness

READ_LIMIT = 4 * 1024 * 1024
GONE_AFTER_S = 5.0
SAMPLE_CHARS = 200


@dataclass(slots=True)
class _Followed:
    """A file being followed: its handle, where we are in it, and a line not yet ended."""

    path: str
    handle: BinaryIO
    offset: int
    partial: bytes = b""
    gone_at: float | None = None  # when the patterns stopped naming it


@dataclass(slots=True)
class _Tally:
    lines: int = 0
    bytes: int = 0
    errors: int = 0
    sample: str = ""
    cause: tuple[str | None, str | None, str | None] = field(default=(None, None, None))


class LogWatcher:
    """Follows log files (paths or globs) and reports the lines appended to them."""

    name = "logs"

    def __init__(
        self, witness: Witness, patterns: list[str], level_regex: str | None = None
    ) -> None:
        self.witness = witness
        self.patterns = [os.path.expanduser(p) for p in patterns]
        self.level = re.compile(level_regex) if level_regex else None
        self._files: dict[tuple[int, int], _Followed] = {}
        self._since = 0.0
        self._undo: Callable[[], None] | None = None
        self.lines = 0

    async def start(self) -> None:
        for path in self._expand():
            self._follow(path, at_end=True)
        self._since = self.witness.now()
        self._undo = self.witness.on_change(self.read)

    async def look(self) -> None:
        self._discover()
        self.read()

    async def stop(self) -> None:
        await self.look()
        if self._undo is not None:
            self._undo()
        for followed in self._files.values():
            followed.handle.close()
        self._files.clear()

    # -- following -----------------------------------------------------------------------------
    def _expand(self) -> list[str]:
        paths: list[str] = []
        for pattern in self.patterns:
            if glob.has_magic(pattern):
                paths.extend(sorted(glob.glob(pattern)))
            else:
                paths.append(pattern)
        return paths

    def _follow(self, path: str, *, at_end: bool) -> None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 (kept open while followed)
            stat = os.fstat(handle.fileno())
        except OSError:
            return  # not there (yet): looked for again at every look
        key = (stat.st_dev, stat.st_ino)
        if key in self._files:
            handle.close()
            self._files[key].path = path
            return
        offset = stat.st_size if at_end else 0
        handle.seek(offset)
        self._files[key] = _Followed(path, handle, offset)

    def _discover(self) -> None:
        """Follow new files the patterns name (from their start); notice rotated ones."""
        named: set[tuple[int, int]] = set()
        for path in self._expand():
            try:
                stat = os.stat(path)
            except OSError:
                continue
            key = (stat.st_dev, stat.st_ino)
            if key not in self._files:
                self._follow(path, at_end=False)
            named.add(key)
        now = self.witness.now()
        for key, followed in list(self._files.items()):
            if key in named:
                followed.gone_at = None
            elif followed.gone_at is None:
                followed.gone_at = now
            elif now - followed.gone_at > GONE_AFTER_S:
                self._read(followed, now)
                followed.handle.close()
                del self._files[key]

    def read(self) -> None:
        """Read what was appended to the followed files since the last look, and report it."""
        since, self._since = self._since, self.witness.now()
        for followed in self._files.values():
            self._read(followed, since)

    def _read(self, followed: _Followed, since: float) -> None:
        handle = followed.handle
        try:
            size = os.fstat(handle.fileno()).st_size
        except OSError:
            return
        if size < followed.offset:  # truncated: start over
            followed.offset = 0
            followed.partial = b""
            handle.seek(0)
        if size == followed.offset:
            return
        data = handle.read(min(size - followed.offset, READ_LIMIT))
        followed.offset += len(data)
        if b"\n" not in data:
            followed.partial += data
            return
        lines = (followed.partial + data).split(b"\n")
        followed.partial = lines.pop()
        self._report(followed.path, lines, since)

    def _report(self, path: str, lines: list[bytes], since: float) -> None:
        tallies: dict[tuple[str | None, str | None, str | None], _Tally] = {}
        level = self.level
        attributed = self.witness.attributed
        for raw in lines:
            text = raw.decode("utf-8", "replace").rstrip("\r")
            cause = attributed(text, since)
            tally = tallies.get(cause)
            if tally is None:
                tally = tallies[cause] = _Tally(sample=text[:SAMPLE_CHARS], cause=cause)
            tally.lines += 1
            tally.bytes += len(raw) + 1
            if level is not None and level.search(text):
                tally.errors += 1
        self.lines += len(lines)
        for tally in tallies.values():
            inbound, attempt, how = tally.cause
            self.witness.emit(
                LogLines(
                    inbound=inbound,
                    attempt=attempt,
                    path=path,
                    lines=tally.lines,
                    bytes=tally.bytes,
                    errors=tally.errors,
                    sample=tally.sample,
                    attributed=how,
                )
            )
