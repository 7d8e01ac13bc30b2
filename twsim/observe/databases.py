"""Database rows: per-table row counts of the app's databases, sampled, reported as deltas.

SQLite (`sqlite:///relative/path`, `sqlite:////absolute/path`) is opened read-only
(`mode=ro`); PostgreSQL (`postgresql://...`, through psycopg 3) in read-only transactions.
twsim never writes to the app's database. Every table outside the system schemas is
counted at each look (tables created later are counted from zero); the first look is the
starting point (a SQLite file the app has not created yet has no rows). A table whose
count changed becomes a `db.rows` event with the change.

Counting is exact (`count(*)`), which is cheap for the tables a test run fills (SQLite is
not counted again while `PRAGMA data_version` says nobody committed); a look that fails (a locked or vanished database) is reported once as `observe.warning` and
tried again at the next look.

For attribution, SQLite also reads the rows added since the last look (by rowid, at most
`ROW_LIMIT` per table): when a table only grew, each new row whose values mention a
MessageSid or a sender is attributed by that mention, the rest by timing. PostgreSQL
rows are attributed by timing alone.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from twsim.config.observing import shown_url
from twsim.model.events import DbRows
from twsim.observe.witness import Witness

ROW_LIMIT = 10_000


@dataclass(slots=True)
class Counts:
    """One look at a database: rows per table, and the new rows' text where it could be read."""

    rows: dict[str, int] = field(default_factory=dict)
    added: dict[str, list[str]] = field(default_factory=dict)


class SqliteCounts:
    """Row counts of a SQLite database file, read through a read-only connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._last_rowid: dict[str, int] = {}
        self._counted = False  # after the starting point, a table not seen before is new
        self._version: int | None = None  # PRAGMA data_version at the last count
        self._rows: dict[str, int] = {}

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            if not Path(self.path).exists():
                return None  # not created yet: no tables, no rows
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False)
        return self._db

    def _count(self) -> Counts:
        db = self._connect()
        counts = Counts()
        if db is None:
            return counts
        (version,) = db.execute("PRAGMA data_version").fetchone()
        if version == self._version:  # nobody committed since: the same counts, no new rows
            db.rollback()
            return Counts(dict(self._rows))
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        try:
            for name in tables:
                quoted = '"' + name.replace('"', '""') + '"'
                (counts.rows[name],) = db.execute(f"SELECT count(*) FROM {quoted}").fetchone()
                added = self._added(db, name, quoted)
                if added is not None:
                    counts.added[name] = added
        finally:
            db.rollback()  # end the read transaction: never hold the app's writers back
        self._counted = True
        self._version, self._rows = version, dict(counts.rows)
        return counts

    def _added(self, db: sqlite3.Connection, name: str, quoted: str) -> list[str] | None:
        """The text of the rows added since the last look (None: not a rowid table)."""
        last = self._last_rowid.get(name)
        if last is None and not self._counted:  # the starting point: rows there do not count
            try:
                (top,) = db.execute(f"SELECT max(rowid) FROM {quoted}").fetchone()
            except sqlite3.OperationalError:  # WITHOUT ROWID
                return None
            self._last_rowid[name] = int(top or 0)
            return []
        last = last or 0
        try:
            rows = db.execute(
                f"SELECT rowid, * FROM {quoted} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, ROW_LIMIT),
            ).fetchall()
        except sqlite3.OperationalError:  # WITHOUT ROWID
            return None
        if rows:
            self._last_rowid[name] = int(rows[-1][0])
        return [" ".join(str(v) for v in row[1:] if v is not None) for row in rows]

    async def __call__(self) -> Counts:
        # off the event loop: a count waits for the app's write lock at worst
        return await asyncio.to_thread(self._count)

    async def aclose(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class PostgresCounts:
    """Row counts of a PostgreSQL database's tables, read in read-only transactions."""

    _TABLES = (
        "SELECT schemaname, tablename FROM pg_catalog.pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
        "ORDER BY schemaname, tablename"
    )

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._db is None or self._db.closed:
            self._db = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                connect_timeout=5,
                options="-c default_transaction_read_only=on",
                application_name="twsim-observer",
            )
        return self._db

    async def __call__(self) -> Counts:
        db = await self._connect()
        async with db.cursor() as cursor:
            await cursor.execute(self._TABLES)
            tables = [(str(schema), str(name)) for schema, name in await cursor.fetchall()]
            if not tables:
                return Counts()
            counts = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}, count(*) FROM {}").format(
                    sql.Literal(_table_name(schema, name)), sql.Identifier(schema, name)
                )
                for schema, name in tables
            )
            await cursor.execute(counts)
            rows = {str(name): int(str(count)) for name, count in await cursor.fetchall()}
            return Counts(rows)

    async def aclose(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


def _table_name(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def sqlite_path(url: str) -> str:
    """The file of `sqlite:///relative` or `sqlite:////absolute`."""
    return url[len("sqlite:///") :]


class DatabaseObserver:
    """Samples one database's per-table row counts and reports what changed."""

    def __init__(self, witness: Witness, url: str) -> None:
        self.witness = witness
        self.url = url
        self.shown = shown_url(url)
        self.name = f"db {self.shown}"
        self._counts: SqliteCounts | PostgresCounts = (
            SqliteCounts(sqlite_path(url))
            if url.lower().startswith("sqlite:")
            else PostgresCounts(url)
        )
        self._last: dict[str, int] | None = None
        self._since = 0.0
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self.look()

    async def look(self) -> None:
        async with self._lock:  # one count at a time; a look asked for meanwhile waits
            since = self._since
            try:
                counts = await self._counts()
            except (OSError, sqlite3.Error, psycopg.Error) as exc:
                self.witness.warn(self.name, _problem(exc))
                return
            self._since = self.witness.now()
            last, self._last = self._last, counts.rows
            if last is None:
                return  # the starting point
            for table in sorted(counts.rows.keys() | last.keys()):
                now = counts.rows.get(table, 0)
                delta = now - last.get(table, 0)
                if not delta:
                    continue
                added = counts.added.get(table)
                if delta > 0 and added is not None and len(added) == delta:
                    self._report_rows(table, now, added, since)  # only grew: row by row
                else:
                    event = DbRows(database=self.shown, table=table, delta=delta, rows=now)
                    self.witness.saw(event, since=since)

    def _report_rows(self, table: str, now: int, added: list[str], since: float) -> None:
        """New rows, grouped by the text each is attributed to."""
        groups: dict[tuple[str | None, str | None, str | None], int] = defaultdict(int)
        for text in added:
            groups[self.witness.attributed(text, since)] += 1
        for (inbound, attempt, how), rows in groups.items():
            event = DbRows(
                inbound=inbound,
                attempt=attempt,
                database=self.shown,
                table=table,
                delta=rows,
                rows=now,
                attributed=how,
            )
            self.witness.emit(event)

    async def stop(self) -> None:
        await self.look()
        await self._counts.aclose()


def _problem(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()
