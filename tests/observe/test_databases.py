"""Database rows: a real SQLite file and a real PostgreSQL server, written by the test."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from twsim.model.clock import ManualClock
from twsim.model.effect_attribution import EffectAttribution
from twsim.model.events import DbRows, EventLog, ObserveWarning
from twsim.observe.databases import DatabaseObserver
from twsim.observe.witness import Witness

SID = "SM" + "a" * 32


def observer(url: str) -> tuple[DatabaseObserver, EffectAttribution]:
    clock = ManualClock()
    effects = EffectAttribution(clock, 0.0)
    effects.watch()
    return DatabaseObserver(Witness(EventLog(clock), effects), url), effects


def changes(o: DatabaseObserver) -> dict[str, tuple[int, int]]:
    events = o.witness.events.of_type(DbRows)
    o.witness.events.clear()
    return {e.table: (e.delta, e.rows) for e in events}


async def test_sqlite_rows_are_counted_per_table_as_deltas(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE attempts (phone TEXT); CREATE TABLE audit (event TEXT);"
        "INSERT INTO attempts VALUES ('+1555'), ('+1556');"
    )
    db.commit()
    o, effects = observer(f"sqlite:///{path}")
    await o.start()  # the starting point: two rows already there
    assert changes(o) == {}

    effects.opened(SID, "WA1", "+15551230001")
    db.executemany("INSERT INTO attempts VALUES (?)", [("a",), ("b",), ("c",)])
    db.execute("INSERT INTO audit VALUES ('invalid')")
    db.commit()
    await o.look()
    assert changes(o) == {"attempts": (3, 5), "audit": (1, 1)}
    assert all(e.inbound == SID for e in o.witness.events.of_type(DbRows))

    db.execute("CREATE TABLE later (x)")  # a table created during the run counts from zero
    db.execute("INSERT INTO later VALUES (1)")
    db.execute("DELETE FROM audit")
    db.commit()
    await o.look()
    assert changes(o) == {"later": (1, 1), "audit": (-1, 0)}
    await o.look()
    assert changes(o) == {}
    await o.stop()
    db.close()


async def test_new_sqlite_rows_naming_a_sender_are_attributed_to_their_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE attempts (phone TEXT, code TEXT); INSERT INTO attempts VALUES ('+15550000000', 'x');"
    )
    o, effects = observer(f"sqlite:///{path}")
    await o.start()
    ann, bob = "+15551230001", "+15551230002"
    effects.opened(SID, "WA1", ann)
    effects.opened("SM" + "b" * 32, "WA2", bob)
    db.executemany(
        "INSERT INTO attempts VALUES (?, ?)",
        [(ann, "CS1O1"), (bob, "CS1O1"), (ann, "CS1O1"), (None, "?")],
    )
    db.commit()
    await o.look()
    by = {(e.inbound, e.attributed): e.delta for e in o.witness.events.of_type(DbRows)}
    assert by == {(SID, "mention"): 2, ("SM" + "b" * 32, "mention"): 1, (None, None): 1}
    await o.stop()


async def test_sqlite_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    sqlite3.connect(path).executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
    o, _ = observer(f"sqlite:///{path}")
    await o.start()
    before = path.read_bytes()
    await o.look()
    await o.stop()
    assert path.read_bytes() == before


async def test_a_sqlite_file_created_during_the_run_counts_from_zero(tmp_path: Path) -> None:
    path = tmp_path / "not-yet.sqlite"
    o, _ = observer(f"sqlite:///{path}")
    await o.start()
    await o.look()
    sqlite3.connect(path).executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);")
    await o.look()
    assert changes(o) == {"t": (2, 2)}
    assert o.witness.events.of_type(ObserveWarning) == []
    await o.stop()


async def test_a_database_that_cannot_be_read_is_a_warning_said_once(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database.sqlite"
    path.write_bytes(b"this is not SQLite" * 100)
    o, _ = observer(f"sqlite:///{path}")
    await o.start()
    await o.look()
    (warning,) = o.witness.events.of_type(ObserveWarning)
    assert warning.observer == f"db sqlite:///{path}" and "DatabaseError" in warning.problem
    await o.stop()


async def test_postgresql_rows_are_counted_per_table(pg_database: str) -> None:
    async with await psycopg.AsyncConnection.connect(pg_database, autocommit=True) as app:
        await app.execute("CREATE TABLE attempts (id serial PRIMARY KEY, phone text)")
        await app.execute("CREATE SCHEMA audit")
        await app.execute("CREATE TABLE audit.events (id serial, what text)")
        await app.execute("INSERT INTO attempts (phone) VALUES ('+1555')")
        o, _ = observer(pg_database)
        await o.start()
        for _ in range(4):
            await app.execute("INSERT INTO attempts (phone) VALUES ('+1556')")
        await app.execute("INSERT INTO audit.events (what) VALUES ('invalid'), ('invalid')")
        await o.look()
        assert changes(o) == {"attempts": (4, 5), "audit.events": (2, 2)}
        await o.stop()


async def test_a_password_is_never_shown(pg_database: str) -> None:
    url = pg_database.replace("postgres@", "postgres:s3cret@")
    o, _ = observer(url)
    assert "s3cret" not in o.shown and "***" in o.shown
