"""What changed in the journal since the live feed's last look: its reads, and the cursor
that says where the next look starts. Each database has a cursor of its own, since their
writers commit differently; nothing above this module knows which one it reads.

- **SQLite** has one writer at a time: ids are handed out in commit order, and a row's
  ``updated_at`` is taken inside its write transaction, a little before the commit. The
  cursor is the newest stamps and ids seen; a look re-reads ``OVERLAP_SECONDS`` of the past
  at least every ``OVERLAP_EVERY_SECONDS`` (what was re-read unchanged sends nothing: the
  feed diffs), the looks between read from the cursor on.
- **PostgreSQL** has many writers at once: ids and stamps are taken before commits that may
  land in any order, so a row can appear *behind* one already read. Every row is stamped by a
  trigger with the id of the transaction that wrote it (``change_tx``, migration 0008).
  Every transaction older than a snapshot's ``xmin`` has ended, so rows stamped below it can
  never appear later: the cursor is the ``xmin`` of the last look, and each look reads the
  rows stamped at or above it. Rows stamped at or above the new ``xmin`` may be read again
  next time; they are remembered and not returned twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import Connection, RowMapping, Select, Table, func, select, text

from stepstone.store.database import Database
from stepstone.store.schema import run_events, step_logs, workflow_runs, workflow_steps

LOG_BATCH = 2000
OVERLAP_SECONDS = 1.0
"""SQLite: rows are stamped before their transaction commits, so a row may become visible
with a stamp a little older than the newest one seen: every look re-reads this much of the
past."""
OVERLAP_EVERY_SECONDS = 0.1
"""...but not at every look: under a stream of writes the feed looks every few milliseconds,
and re-reading a second of changes each time would cost more than the writes. A late row is
then sent at most this much later."""

Rows = Sequence[RowMapping]


@dataclass(frozen=True)
class Changes:
    """Rows changed since the last look: runs and steps as they are now, new events and log
    lines (in id order)."""

    runs: Rows = ()
    steps: Rows = ()
    events: Rows = ()
    logs: Rows = ()


class ChangeReader(Protocol):
    def start_txn(self, conn: Connection) -> None:
        """Take the cursor where the journal is now: later looks return what changes after."""

    def read_txn(self, conn: Connection) -> Changes:
        """What changed since the last look (in one read transaction), moving the cursor."""


def change_reader(db: Database) -> ChangeReader:
    return PostgresChangeReader() if db.kind == "postgresql" else SqliteChangeReader()


@dataclass(frozen=True)
class Cursors:
    """SQLite: how far the feed has read: rows changed since these stamps, after these ids."""

    runs_since: float = 0.0
    steps_since: float = 0.0
    event_id: int = 0
    log_id: int = 0

    def read_from(self, *, overlap: bool = True) -> Cursors:
        """Where the next look starts: a little in the past (see OVERLAP_SECONDS), or at
        the cursor itself."""
        back = OVERLAP_SECONDS if overlap else 0.0
        return replace(self, runs_since=self.runs_since - back, steps_since=self.steps_since - back)

    def past(self, changes: Changes) -> Cursors:
        """The cursors moved past ``changes``."""
        return Cursors(
            max([self.runs_since, *(r["updated_at"] for r in changes.runs)]),
            max([self.steps_since, *(s["updated_at"] or 0.0 for s in changes.steps)]),
            changes.events[-1]["id"] if changes.events else self.event_id,
            changes.logs[-1]["id"] if changes.logs else self.log_id,
        )


@dataclass
class SqliteChangeReader:
    cursors: Cursors = field(default_factory=Cursors)
    overlapped_at: float = 0.0
    """``time.monotonic()`` of the last look that re-read the past."""

    def start_txn(self, conn: Connection) -> None:
        self.cursors = Cursors(*latest_cursors_txn(conn))

    def read_txn(self, conn: Connection) -> Changes:
        now = time.monotonic()
        overlap = now - self.overlapped_at >= OVERLAP_EVERY_SECONDS
        since = self.cursors.read_from(overlap=overlap)
        changes = Changes(
            runs_updated_since_txn(conn, since.runs_since),
            steps_updated_since_txn(conn, since.steps_since),
            events_after_txn(conn, since.event_id),
            logs_after_txn(conn, since.log_id),
        )
        self.cursors = self.cursors.past(changes)
        if overlap:
            self.overlapped_at = now
        return changes


@dataclass
class PostgresChangeReader:
    settled: int = 0
    """Every transaction below this one has ended, and its rows were read."""
    unsettled: dict[tuple[str, Any], int] = field(default_factory=dict)
    """Rows read whose transaction is at or above ``settled``: ``(table, id)`` → its stamp."""

    def start_txn(self, conn: Connection) -> None:
        # Rows already committed above the snapshot's xmin are remembered as read, not
        # returned by the next look: they are not changes made after the start.
        self.settled = _snapshot_xmin(conn)
        self.unsettled.clear()
        self.read_txn(conn)

    def read_txn(self, conn: Connection) -> Changes:
        xmin = _snapshot_xmin(conn)  # first: the snapshot the reads below see
        since, seen = self.settled, dict(self.unsettled)
        changes = Changes(
            _new(seen, "runs", runs_query().where(workflow_runs.c.change_tx >= since), conn),
            _new(seen, "steps", steps_query().where(workflow_steps.c.change_tx >= since), conn),
            _new(seen, "events", events_query().where(run_events.c.change_tx >= since), conn),
            _new(seen, "logs", logs_query().where(step_logs.c.change_tx >= since), conn),
        )
        # Moved only once every read succeeded: a failed look is read again whole.
        self.settled = max(since, xmin)
        self.unsettled = {key: tx for key, tx in seen.items() if tx >= self.settled}
        return changes


def _new(
    seen: dict[tuple[str, Any], int], table: str, query: Select[Any], conn: Connection
) -> Rows:
    """The rows of ``query`` not in ``seen`` as they are (recorded there)."""
    rows = []
    for row in conn.execute(query).mappings():
        key, stamp = (table, row["id"]), row["change_tx"]
        if seen.get(key) != stamp:
            seen[key] = stamp
            rows.append(row)
    return rows


def _snapshot_xmin(conn: Connection) -> int:
    """The oldest transaction still running as this snapshot sees it (PostgreSQL)."""
    xmin = conn.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")).scalar()
    return int(str(xmin))


def latest_cursors_txn(conn: Connection) -> tuple[float, float, int, int]:
    """``(runs updated_at, steps updated_at, event id, log id)`` as they are now."""
    return (
        conn.execute(select(func.max(workflow_runs.c.updated_at))).scalar() or 0.0,
        conn.execute(select(func.max(workflow_steps.c.updated_at))).scalar() or 0.0,
        conn.execute(select(func.max(run_events.c.id))).scalar() or 0,
        conn.execute(select(func.max(step_logs.c.id))).scalar() or 0,
    )


def _with_run_owner(table: Table) -> Select[Any]:
    """Rows of ``table`` with their run's project and user (channels and ownership)."""
    return select(table, workflow_runs.c.project_id, workflow_runs.c.user_id).join(
        workflow_runs, workflow_runs.c.id == table.c.run_id
    )


def runs_query() -> Select[Any]:
    return select(workflow_runs)


def steps_query() -> Select[Any]:
    return _with_run_owner(workflow_steps).order_by(
        workflow_steps.c.updated_at, workflow_steps.c.id
    )


def events_query() -> Select[Any]:
    return _with_run_owner(run_events).order_by(run_events.c.id)


def logs_query() -> Select[Any]:
    return _with_run_owner(step_logs).order_by(step_logs.c.id)


def runs_updated_since_txn(conn: Connection, since: float) -> Rows:
    return conn.execute(runs_query().where(workflow_runs.c.updated_at >= since)).mappings().all()


def steps_updated_since_txn(conn: Connection, since: float) -> Rows:
    query = steps_query().where(workflow_steps.c.updated_at >= since)
    return conn.execute(query).mappings().all()


def events_after_txn(conn: Connection, after_id: int) -> Rows:
    return conn.execute(events_query().where(run_events.c.id > after_id)).mappings().all()


def logs_after_txn(conn: Connection, after_id: int) -> Rows:
    query = logs_query().where(step_logs.c.id > after_id).limit(LOG_BATCH)
    return conn.execute(query).mappings().all()


def running_runs_txn(conn: Connection) -> Rows:
    """Runs marked running, with their lease: whether each is still live changes with time
    and with its worker's life, not with its row."""
    return (
        conn.execute(select(workflow_runs).where(workflow_runs.c.status == "running"))
        .mappings()
        .all()
    )
