"""One writer per process on SQLite: every write of this process goes through one connection.

SQLite lets one connection write at a time. When each part of a process (the API's
requests, the worker's claims and outcomes, the journal) writes on a connection of its own,
they wait for each other in SQLite's busy handler, which sleeps in steps growing to 100 ms
and favours no one. Here they queue instead, in arrival order, for the one connection,
which is lent to each caller in turn. Callers that arrive while another writes share its
transaction (**group commit**): each block runs in a SAVEPOINT of its own, so one that
raises is rolled back alone and gets its own error, and each caller is answered only once
the COMMIT that holds its write is on disk (the last of the group makes it). Other
processes (a CLI command, a second worker on the same file) still take turns with this one
through SQLite's lock, waiting for it up to the connection's busy timeout.

A caller on the event loop never waits here: :meth:`SqliteWriter.alone` takes the
connection only when it is free, for a transaction of its own, and fails at once (as a
busy lock does) otherwise; the journal then makes the write on its thread.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from stepstone.errors import DatabaseBusy

GROUP_MAX_WRITES = 64
"""A group commits after this many writes even while more callers wait, so that a steady
stream of writers does not keep the first ones waiting for their answer."""
GROUP_MAX_SECONDS = 0.02
"""...or once its first write has waited this long for the commit."""
BUSY_TIMEOUT_MS = 10_000
"""How long a write waits for another process holding SQLite's lock."""


def _is_locked(exc: BaseException | None) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


class WriterBusy(sqlite3.OperationalError):
    """The writer is lent to another caller (``alone`` does not wait): nothing was written.
    Its text says ``locked`` so that code handling SQLite's busy lock handles it too."""

    def __init__(self) -> None:
        super().__init__("database is locked (this process's writer is in use)")


@dataclass
class _Group:
    """The callers sharing one transaction."""

    writes: int = 0
    first_write_at: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    broken: bool = False
    """A statement failed in a way its savepoint could not undo: the group rolls back."""


class SqliteWriter:
    """The one connection this process writes with, and the queue of its callers."""

    def __init__(self, engine: Engine, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self._engine = engine
        self._busy_timeout_ms = busy_timeout_ms
        """The connection's own (database.py): what a write waits for another process."""
        self._conn: Connection | None = None
        self._turns = threading.Condition()
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()
        self._lent = False
        self._group: _Group | None = None
        self._transaction: Any = None
        self._savepoints = itertools.count()
        self._synchronous_full = True
        self._waits_for_lock = True
        """The connection's PRAGMAs as last set (a new connection starts FULL, waiting)."""
        self._inside = threading.local()
        self.waited_seconds = 0.0
        """How long callers spent waiting for their turn, in all (the benchmark reads it)."""
        self.commits = 0

    # -- callers ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``with writer.transaction() as conn:``: the block's writes are committed with
        those of the callers around it; an error in the block undoes its writes only."""
        batch: _Group | None = getattr(self._inside, "batch", None)
        if batch is not None:  # one of the writes of this thread's batch
            with self._savepoint(batch):
                yield self._connection()
            return
        self._take_turn()
        group: _Group | None = None
        wrote = False
        try:
            group = self._join_group()
            conn = self._connection()
            with self._savepoint(group):
                yield conn
            wrote = True
        finally:
            self._end_turn(group)
        assert group is not None
        self._wait_for_commit(group, wrote)

    @contextmanager
    def alone(self, *, durable: bool) -> Iterator[sqlite3.Connection]:
        """The driver connection for one transaction of its own, if the writer is free now;
        else :class:`WriterBusy` at once (so is SQLite's lock held by another process).
        ``durable=False``: committed with ``synchronous=NORMAL`` (see journal.py)."""
        with self._turns:
            if self._lent or self._queue or self._group is not None:
                raise WriterBusy()
            self._lent = True
        try:
            driver = self._driver()
            self._set_pragmas(driver, full=durable, waits=False)
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield driver
                driver.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:  # a failed COMMIT may leave it open
                    try:
                        driver.execute("ROLLBACK")
                    except sqlite3.Error:
                        self._discard_connection()
                raise
            self.commits += 1
        finally:
            with self._turns:
                self._lent = False
                self._turns.notify_all()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes of this thread in one turn: each transaction it opens meanwhile is
        a savepoint of one group (an error undoes that one only), and the block returns
        once the COMMIT holding them did. The journal's thread writes what queued up for
        it this way."""
        self._take_turn()
        group: _Group | None = None
        wrote = False
        try:
            group = self._join_group()
            writes_before = group.writes
            self._inside.batch = group
            try:
                yield
            finally:
                wrote = group.writes > writes_before
        finally:
            self._inside.batch = None
            self._end_turn(group)
        assert group is not None
        self._wait_for_commit(group, wrote)

    @contextmanager
    def member(self) -> Iterator[sqlite3.Connection]:
        """As :meth:`transaction`, for the journal: the driver connection itself."""
        with self.transaction():
            yield self._driver()

    def close(self) -> None:
        with self._turns:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- turns -----------------------------------------------------------------------------

    def _take_turn(self) -> None:
        if getattr(self._inside, "active", False):
            raise RuntimeError("a write transaction was opened inside another one")
        started = time.perf_counter()
        orphaned: _Group | None = None
        try:
            with self._turns:
                ticket = next(self._tickets)
                self._queue.append(ticket)
                try:
                    while self._lent or self._queue[0] != ticket:
                        self._turns.wait()
                except BaseException:  # interrupted while waiting: leave the queue
                    self._queue.remove(ticket)
                    if not (self._queue or self._lent) and self._group is not None:
                        # The group was kept open for this caller, and its earlier callers
                        # wait for its commit: make it (below, outside the lock).
                        orphaned, self._lent = self._group, True
                    self._turns.notify_all()
                    raise
                self._queue.popleft()
                self._lent = True
                self.waited_seconds += time.perf_counter() - started
        finally:
            if orphaned is not None:
                self._release(orphaned)
        self._inside.active = True

    def _end_turn(self, group: _Group | None) -> None:
        """Hand the connection on; commit the group when nobody waits or it is full."""
        self._inside.active = False
        if group is not None:
            with self._turns:
                full = group.writes >= GROUP_MAX_WRITES or (
                    group.writes > 0
                    and time.monotonic() - group.first_write_at >= GROUP_MAX_SECONDS
                )
                keep_open = self._queue and not full and not group.broken
                if keep_open:
                    self._lent = False
                    self._turns.notify_all()
                    return
        self._release(group)

    def _release(self, group: _Group | None) -> None:
        """Commit ``group`` (if any), then lend the connection to the next caller."""
        try:
            if group is not None:
                self._finish_group(group)
        finally:
            with self._turns:
                self._lent = False
                self._turns.notify_all()

    # -- the transaction -------------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def _driver(self) -> sqlite3.Connection:
        driver = self._connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver

    def _set_pragmas(self, driver: sqlite3.Connection, *, full: bool, waits: bool) -> None:
        """Before a BEGIN: FULL or NORMAL commits; wait for another process's lock (up to
        the busy timeout) or fail at once. Set only when they change: consecutive writes of
        one kind (a run's steps on the loop) pay no PRAGMA."""
        if full != self._synchronous_full:
            driver.execute(f"PRAGMA synchronous={'FULL' if full else 'NORMAL'}")
            self._synchronous_full = full
        if waits != self._waits_for_lock:
            driver.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms if waits else 0}")
            self._waits_for_lock = waits

    def _join_group(self) -> _Group:
        if self._group is None:
            conn = self._connection()
            self._set_pragmas(self._driver(), full=True, waits=True)
            try:
                self._transaction = conn.begin()  # BEGIN IMMEDIATE (database.py)
            except OperationalError as exc:
                if _is_locked(exc.orig):
                    raise DatabaseBusy(
                        "the database is busy: another process has held its write lock for "
                        f"more than {self._busy_timeout_ms / 1000:g} s (a long command, or a "
                        "second server on the same file); try again"
                    ) from exc
                raise
            self._group = _Group()
        return self._group

    @contextmanager
    def _savepoint(self, group: _Group) -> Iterator[None]:
        if group.broken:  # its transaction is gone: nothing more may run in it
            assert group.error is not None
            raise group.error
        driver = self._driver()
        name = f"w{next(self._savepoints)}"
        driver.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            try:
                driver.execute(f"ROLLBACK TO {name}")
                driver.execute(f"RELEASE {name}")
            except sqlite3.Error as exc:  # the transaction itself is gone
                group.broken = True
                group.error = exc
            raise
        try:
            driver.execute(f"RELEASE {name}")
        except sqlite3.Error as exc:
            group.broken, group.error = True, exc
            raise
        if not driver.in_transaction:  # an error the block caught ended the transaction
            group.broken = True
            group.error = sqlite3.OperationalError("the write transaction was rolled back")
            raise group.error
        if not group.writes:
            group.first_write_at = time.monotonic()
        group.writes += 1

    def _finish_group(self, group: _Group) -> None:
        """COMMIT (or, for a group whose every write failed or that broke, ROLLBACK)."""
        transaction, self._transaction, self._group = self._transaction, None, None
        try:
            if group.writes and not group.broken:
                transaction.commit()
                self.commits += 1
            else:
                transaction.rollback()
        except BaseException as exc:
            group.error = group.error or exc
            self._discard_connection()
        finally:
            group.done.set()

    def _discard_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
            finally:
                self._conn = None
                self._synchronous_full = self._waits_for_lock = True

    def _wait_for_commit(self, group: _Group, wrote: bool) -> None:
        if not wrote:
            return
        group.done.wait()
        if group.error is not None:
            raise group.error
