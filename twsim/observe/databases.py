"""Database rows: per-table row counts of the app's databases, sampled, reported as deltas.

SQLite (`sqlite:///relative/path`, `sqlite:////absolute/path`) is opened read-only
(`mode=ro`); PostgreSQL (`postgresql://...`, through psycopg 3) in read-only transactions.
twsim never writes to the app's database. Every table outside the system schemas is
counted at each look (tables created later are counted from zero); the first look is the
starting point (a SQLite file the app has not created yet has no rows). A table whose
count changed becomes a `db.rows` event with the change.

Counting is exact (`count(*)`), which is cheap for the tables a test run fills; a look
that fails (a locked or vanished database) is reported once as `observe.warning` and
tried again at the next look.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
from psycopg import sql

from twsim.config.observing import shown_url
from twsim.model.events import DbRows
from twsim.observe.witness import Witness


class SqliteCounts:
    """Row counts of a SQLite database file, read through a read-only connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            if not Path(self.path).exists():
                return None  # not created yet: no tables, no rows
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False)
        return self._db

    def _count(self) -> dict[str, int]:
        db = self._connect()
        if db is None:
            return {}
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        counts: dict[str, int] = {}
        for name in tables:
            quoted = '"' + name.replace('"', '""') + '"'
            (counts[name],) = db.execute(f"SELECT count(*) FROM {quoted}").fetchone()
        db.rollback()  # end the read transaction: never hold the app's writers back
        return counts

    async def __call__(self) -> dict[str, int]:
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

    async def __call__(self) -> dict[str, int]:
        db = await self._connect()
        async with db.cursor() as cursor:
            await cursor.execute(self._TABLES)
            tables = [(str(schema), str(name)) for schema, name in await cursor.fetchall()]
            if not tables:
                return {}
            counts = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}, count(*) FROM {}").format(
                    sql.Literal(_table_name(schema, name)), sql.Identifier(schema, name)
                )
                for schema, name in tables
            )
            await cursor.execute(counts)
            return {str(name): int(str(count)) for name, count in await cursor.fetchall()}

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
            last, self._last = self._last, counts
            if last is None:
                return  # the starting point
            for table in sorted(counts.keys() | last.keys()):
                delta = counts.get(table, 0) - last.get(table, 0)
                if delta:
                    event = DbRows(
                        database=self.shown, table=table, delta=delta, rows=counts.get(table, 0)
                    )
                    self.witness.saw(event, since=since)

    async def stop(self) -> None:
        await self.look()
        await self._counts.aclose()


def _problem(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()
