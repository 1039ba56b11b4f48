"""The journal's lean connections, one kind per database: DB-API connections with fixed SQL,
no ORM in between (a step's cost is about its commits). The journal writes its SQL once, with
``?`` placeholders; each connection runs it as its driver wants.

A transaction is either *durable* (it is on disk when it commits) or not (a process crash
keeps it, a power loss may lose it; see journal.py for which writes may be so).
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from stepstone.store.database import Database, configure_sqlite_connection, text_without_nul


class Cursor(Protocol):
    rowcount: int

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class JournalConnection(Protocol):
    def transaction(self, *, durable: bool) -> Any:
        """A context manager: a write transaction ``(cursor, now)``, committed on success,
        rolled back on error; ``now`` is read once the transaction holds its locks."""

    def batch(self) -> AbstractContextManager[None]:
        """Transactions opened in the block are written together where the database allows
        (SQLite: one commit for all, each in a savepoint); the block returns once they are
        durable."""

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of one query outside any write transaction."""

    def close(self) -> None: ...


LOCK_WAIT_MS = 20
"""PostgreSQL, ``wait_for_lock=False``: how long a statement may wait for a row lock."""


def connect_journal(db: Database, *, wait_for_lock: bool = True) -> JournalConnection:
    """A lean connection to ``db``. ``wait_for_lock=False``: a write that finds another
    writer holding a lock it needs fails (SQLite: at once, ``database is locked``;
    PostgreSQL: after ``LOCK_WAIT_MS``) and writes nothing (``is_lock_busy``)."""
    if db.writer is not None:
        return SqliteJournalConnection(db, wait_for_lock=wait_for_lock)
    return PostgresJournalConnection(
        db.driver_url, lock_wait_ms=None if wait_for_lock else LOCK_WAIT_MS
    )


@contextmanager
def _committed(cur: Any, begin: str) -> Iterator[Any]:
    """``begin`` on ``cur``; COMMIT when the block ends, ROLLBACK if it raises."""
    cur.execute(begin)
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")


def is_lock_busy(exc: BaseException) -> bool:
    """``exc`` says a write met another writer's lock and gave up (nothing was written)."""
    if getattr(exc, "sqlstate", None) == "55P03":  # PostgreSQL: lock_not_available
        return True
    text = str(exc)
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class SqliteJournalConnection:
    """The journal's writes go through the process's one writer (writer.py): on the loop,
    only when it is free (``wait_for_lock=False``), in a transaction of their own; on the
    journal's thread, in turn, group-committed with the other writes of the process. Reads
    have a connection of their own."""

    def __init__(self, db: Database, *, wait_for_lock: bool) -> None:
        assert db.writer is not None
        assert db.sqlite_path is not None
        self._writer = db.writer
        self._wait_for_lock = wait_for_lock
        self._reader = sqlite3.connect(
            db.sqlite_path, isolation_level=None, check_same_thread=False
        )
        configure_sqlite_connection(self._reader)

    @contextmanager
    def transaction(self, *, durable: bool) -> Iterator[tuple[sqlite3.Cursor, float]]:
        # On the thread, a write shares its group's commit, which is durable (FULL); on the
        # loop it commits alone, with synchronous=NORMAL when not durable: the next FULL
        # commit flushes its WAL frames too.
        if self._wait_for_lock:
            with self._writer.member() as driver:
                yield driver.cursor(), time.time()
        else:
            with self._writer.alone(durable=durable) as driver:
                yield driver.cursor(), time.time()

    def batch(self) -> AbstractContextManager[None]:
        return self._writer.batch()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._reader.execute(sql, params).fetchall()

    def close(self) -> None:
        self._reader.close()


@functools.lru_cache(maxsize=256)
def postgres_sql(sql: str) -> str:
    """The journal's SQL with psycopg's placeholders (its SQL holds no literal ``?``)."""
    return sql.replace("?", "%s")


class _PostgresCursor:
    """A psycopg cursor that takes the journal's ``?`` SQL."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PostgresCursor:
        self._cursor.execute(postgres_sql(sql), params, prepare=True)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(postgres_sql(sql), rows)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())


class PostgresJournalConnection:
    """Two sessions: one whose commits wait for the WAL flush (durable), one whose commits do
    not (``synchronous_commit=off``, set once for the session instead of per transaction).
    Used one after the other from one thread, so the durable one's flush also covers what
    the other committed before."""

    def __init__(self, url: str, *, lock_wait_ms: int | None = None) -> None:
        import psycopg  # only installations on PostgreSQL load the driver

        self._conn = psycopg.connect(url, autocommit=True)
        self._quick = psycopg.connect(url, autocommit=True)
        self._quick.execute("SET synchronous_commit TO OFF")
        for conn in (self._conn, self._quick):
            text_without_nul(conn.adapters)
            if lock_wait_ms is not None:
                conn.execute(f"SET lock_timeout TO {int(lock_wait_ms)}")

    def _session(self, durable: bool) -> Any:
        return self._conn if durable else self._quick

    @contextmanager
    def transaction(self, *, durable: bool) -> Iterator[tuple[_PostgresCursor, float]]:
        # Not durable: committed without waiting for the WAL flush; a server crash may lose
        # it, the transaction is never half applied.
        with _committed(_PostgresCursor(self._session(durable).cursor()), "BEGIN") as cur:
            yield cur, time.time()

    def batch(self) -> AbstractContextManager[None]:
        return nullcontext()  # every statement commits on its own

    def statement(self, sql: str, params: Sequence[Any], *, durable: bool) -> list[Any]:
        """One statement, committed on its own (one round trip); its rows."""
        with self._session(durable).cursor() as cur:
            cur.execute(postgres_sql(sql), params, prepare=True)
            return list(cur.fetchall())

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._conn.cursor() as cur:
            cur.execute(postgres_sql(sql), params)
            return list(cur.fetchall())

    def close(self) -> None:
        self._conn.close()
        self._quick.close()
