"""The journal's hot path: the writes a step makes, on a lean connection of their own.

A step costs two transactions: the *running marker* before its function runs, and the
*completion* (or failure) after. Both go straight to the DB-API connection with fixed SQL
(journal_connections.py: SQLite or PostgreSQL), because a no-op step must cost little more
than one durable commit (``bench/`` measures it); the rest of Stepstone uses SQLAlchemy.

Durability: the completion commits durably. The marker does not wait for the disk (SQLite:
``synchronous=NORMAL``, whose WAL frames the next FULL commit flushes; PostgreSQL:
``synchronous_commit=off``): a process crash never loses it, and a power loss can at worst lose
a marker, whose step then runs again, which the at-least-once guarantee already allows.

Fencing: every write first checks, inside its transaction, that this worker still holds the
run's lease; when it does not, nothing is written and :class:`LeaseLost` is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from stepstone.errors import LeaseLost
from stepstone.store.database import Database
from stepstone.store.journal_connections import (
    Cursor,
    JournalConnection,
    PostgresJournalConnection,
    connect_journal,
    is_lock_busy,
)
from stepstone.store.leases import FENCE_SQL, FENCED_SQL
from stepstone.store.redaction import Redactor


@dataclass(slots=True)
class StepRecord:
    """What the journal holds of one step key, as replay needs it."""

    id: int
    status: str
    attempt: int
    output: str | None
    wake_at: float | None
    session_id: str | None = None
    base_tree: str | None = None


@dataclass(frozen=True, slots=True)
class RunFlags:
    pause_requested: bool
    cancel_requested: bool


T = TypeVar("T")
BATCH_MAX = 64
"""The journal's thread writes at most this many queued requests in one batch."""
LogLine = tuple[str | None, str | None, str, str, float]
"""``(step_key, phase, stream, line, created_at)``"""


class Journal:
    """One lean connection, used from one thread at a time."""

    def __init__(self, connection: JournalConnection, *, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        """What a step outputs, raises, logs or annotates passes through it (SPEC 9)."""
        self._connection = connection
        self._transaction = connection.transaction

    @classmethod
    def open(
        cls, db: Database, *, wait_for_lock: bool = True, redactor: Redactor | None = None
    ) -> Journal:
        """The journal of ``db``'s kind, on a connection of its own."""
        connection = connect_journal(db, wait_for_lock=wait_for_lock)
        if isinstance(connection, PostgresJournalConnection):
            from stepstone.store.journal_postgres import PostgresJournal  # it builds on this

            return PostgresJournal(connection, redactor=redactor)
        return cls(connection, redactor=redactor)

    def close(self) -> None:
        self._connection.close()

    def batch(self) -> AbstractContextManager[None]:
        """The writes made in the block share one commit where the database allows it
        (``JournalConnection.batch``)."""
        return self._connection.batch()

    @staticmethod
    def _fence(cur: Cursor, run_id: str, lease_token: str) -> RunFlags:
        row = cur.execute(FENCE_SQL, (run_id, lease_token)).fetchone()
        if row is None:
            raise LeaseLost(f"run {run_id} is no longer leased to this worker")
        return RunFlags(bool(row[0]), bool(row[1]))

    def load_steps(self, run_id: str) -> dict[str, StepRecord]:
        """Every step of the run, read in one query."""
        rows = self._connection.read(
            "SELECT key, id, status, attempt, output, wake_at, session_id, base_tree"
            " FROM workflow_steps WHERE run_id=?",
            (run_id,),
        )
        return {key: StepRecord(*rest) for key, *rest in rows}

    def load_started_phases(self, run_id: str) -> set[str]:
        rows = self._connection.read(
            "SELECT phase FROM run_events WHERE run_id=? AND type='phase_started'", (run_id,)
        )
        return {row[0] for row in rows}

    def start_attempt(
        self,
        *,
        run_id: str,
        lease_token: str,
        key: str,
        name: str,
        phase: str | None,
        kind: str,
        record: StepRecord | None,
        wake_at: float | None = None,
        even_if_interrupted: bool = False,
    ) -> tuple[RunFlags, StepRecord | None, int]:
        """The running marker. Returns the run's control flags and, unless a pause or cancel
        was requested (then nothing is written, but for a step that runs ``even_if_interrupted``:
        a cleanup), the step's record and the attempt's row id."""
        with self._transaction(durable=False) as (cur, now):
            flags = self._fence(cur, run_id, lease_token)
            if (flags.pause_requested or flags.cancel_requested) and not even_if_interrupted:
                return flags, record, 0
            if record is None:
                step_id = cur.execute(
                    "INSERT INTO workflow_steps (run_id, key, name, phase, kind, status, attempt,"
                    " wake_at, started_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'running', 1, ?, ?, ?) RETURNING id",
                    (run_id, key, name, phase, kind, wake_at, now, now),
                ).fetchone()[0]
                record = StepRecord(step_id, "running", 1, None, wake_at)
            else:
                record.attempt += 1
                record.status = "running"
                if record.wake_at is None:
                    record.wake_at = wake_at
                cur.execute(
                    "UPDATE workflow_steps SET status='running', attempt=?, name=?, phase=?,"
                    " kind=?, wake_at=?, started_at=?, completed_at=NULL, updated_at=? WHERE id=?",
                    (record.attempt, name, phase, kind, record.wake_at, now, now, record.id),
                )
            attempt_id = cur.execute(
                "INSERT INTO step_attempts (step_id, attempt, status, started_at)"
                " VALUES (?, ?, 'running', ?) RETURNING id",
                (record.id, record.attempt, now),
            ).fetchone()[0]
        return flags, record, int(attempt_id)

    def wait_step(
        self,
        *,
        run_id: str,
        lease_token: str,
        key: str,
        name: str,
        phase: str | None,
        kind: str,
        record: StepRecord | None,
        wake_at: float | None,
        inbox: str | None,
    ) -> tuple[RunFlags, StepRecord | None]:
        """A waiting step's look (SPEC 3.12), in one durable transaction: the step is
        ``waiting`` until ``wake_at``; when the run's inbox holds an event named ``inbox``
        not yet consumed, the oldest is consumed and the step completes with its data as
        output (one completed attempt). Returns the run's control flags and the record
        (completed, or waiting); nothing is written when a pause or cancel is requested."""
        with self._transaction(durable=True) as (cur, now):
            flags = self._fence(cur, run_id, lease_token)
            if flags.pause_requested or flags.cancel_requested:
                return flags, record
            if record is None:
                step_id = cur.execute(
                    "INSERT INTO workflow_steps (run_id, key, name, phase, kind, status, attempt,"
                    " wake_at, started_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'waiting', 0, ?, ?, ?) RETURNING id",
                    (run_id, key, name, phase, kind, wake_at, now, now),
                ).fetchone()[0]
                record = StepRecord(step_id, "waiting", 0, None, wake_at)
            else:
                record.status, record.wake_at = "waiting", wake_at
                cur.execute(
                    "UPDATE workflow_steps SET status='waiting', name=?, phase=?, kind=?,"
                    " wake_at=?, started_at=COALESCE(started_at, ?), completed_at=NULL,"
                    " updated_at=? WHERE id=?",
                    (name, phase, kind, wake_at, now, now, record.id),
                )
            if inbox is None:
                return flags, record
            event = cur.execute(
                "SELECT id, data FROM run_inbox WHERE run_id=? AND name=?"
                " AND consumed_at IS NULL ORDER BY id LIMIT 1",
                (run_id, inbox),
            ).fetchone()
            if event is None:
                return flags, record
            cur.execute(
                "UPDATE run_inbox SET consumed_step=?, consumed_at=? WHERE id=?",
                (key, now, event[0]),
            )
            record.attempt += 1
            record.status, record.output = "completed", self.redactor.text(event[1])
            cur.execute(
                "UPDATE workflow_steps SET status='completed', attempt=?, output=?,"
                " error_message=NULL, completed_at=?, updated_at=? WHERE id=?",
                (record.attempt, record.output, now, now, record.id),
            )
            cur.execute(
                "INSERT INTO step_attempts (step_id, attempt, status, started_at, completed_at)"
                " VALUES (?, ?, 'completed', ?, ?)",
                (record.id, record.attempt, now, now),
            )
        return flags, record

    def complete_attempt(
        self, *, run_id: str, lease_token: str, record: StepRecord, attempt_id: int, output: str
    ) -> None:
        """The completion: output and ``completed`` in one durable transaction."""
        output = self.redactor.text(output)
        with self._transaction(durable=True) as (cur, now):
            cur.execute(
                "UPDATE workflow_steps SET status='completed', output=?, error_message=NULL,"
                f" completed_at=?, updated_at=? WHERE id=? AND {FENCED_SQL}",
                (output, now, now, record.id, run_id, lease_token),
            )
            if cur.rowcount != 1:
                raise LeaseLost(f"run {run_id} is no longer leased to this worker")
            cur.execute(
                "UPDATE step_attempts SET status='completed', completed_at=? WHERE id=?",
                (now, attempt_id),
            )
        record.status = "completed"
        record.output = output

    def fail_attempt(
        self,
        *,
        run_id: str,
        lease_token: str,
        record: StepRecord,
        attempt_id: int,
        error: str,
        traceback_text: str | None,
        final: bool,
        status: str = "failed",
    ) -> None:
        """An attempt that raised (or was cancelled). ``final`` also marks the step."""
        error = self.redactor.text(error)
        traceback_text = self.redactor.maybe(traceback_text)
        with self._transaction(durable=True) as (cur, now):
            self._fence(cur, run_id, lease_token)
            cur.execute(
                "UPDATE step_attempts SET status=?, error_message=?, error_traceback=?,"
                " completed_at=? WHERE id=?",
                (status, error, traceback_text, now, attempt_id),
            )
            step_status = status if final else "running"
            cur.execute(
                "UPDATE workflow_steps SET status=?, error_message=?, completed_at=?,"
                " updated_at=? WHERE id=?",
                (step_status, error, now if final else None, now, record.id),
            )
        record.status = step_status

    def record_process_group(
        self,
        *,
        run_id: str,
        lease_token: str,
        attempt_id: int,
        host: str,
        group: int,
        start: str | None,
    ) -> None:
        """The process group an attempt started (what to end if the attempt is cut off by a
        crash). Not durable: a process crash keeps it, and a power loss ends the group."""
        with self._transaction(durable=False) as (cur, _now):
            self._fence(cur, run_id, lease_token)
            cur.execute(
                "UPDATE step_attempts SET process_host=?, process_group=?, process_start=?"
                " WHERE id=?",
                (host, group, start, attempt_id),
            )

    def record_step_state(
        self,
        *,
        run_id: str,
        lease_token: str,
        record: StepRecord,
        session_id: str | None = None,
        base_tree: str | None = None,
    ) -> None:
        """An agent step's session (before the agent works: a crash must not lose it) or the
        working tree its first attempt started from; durable, as they outlive the attempt."""
        with self._transaction(durable=True) as (cur, now):
            self._fence(cur, run_id, lease_token)
            if session_id is not None:
                record.session_id = session_id
            if base_tree is not None:
                record.base_tree = base_tree
            cur.execute(
                "UPDATE workflow_steps SET session_id=?, base_tree=?, updated_at=? WHERE id=?",
                (record.session_id, record.base_tree, now, record.id),
            )

    def add_usage(
        self, *, run_id: str, lease_token: str, record: StepRecord, usage: dict[str, Any]
    ) -> None:
        """Add what an attempt used to the step's ``usage`` (tokens, and dollars where known),
        counted whether the attempt succeeds or not."""
        with self._transaction(durable=False) as (cur, now):
            self._fence(cur, run_id, lease_token)
            row = cur.execute("SELECT usage FROM workflow_steps WHERE id=?", (record.id,))
            before = row.fetchone()[0]
            total = usage if before is None else add_usages(json.loads(before), usage)
            cur.execute(
                "UPDATE workflow_steps SET usage=?, updated_at=? WHERE id=?",
                (dumps(total), now, record.id),
            )

    def token_budget(self, run_id: str) -> tuple[int, int] | None:
        """``(tokens the run's steps used, its token budget)``; None for a run without a
        budget (then the steps' usage is not read). Tokens are input (cached included) and
        output."""
        ((budget,),) = self._connection.read(
            "SELECT budget_tokens FROM workflow_runs WHERE id=?", (run_id,)
        )
        if budget is None:
            return None
        used = 0
        for (usage,) in self._connection.read(
            "SELECT usage FROM workflow_steps WHERE run_id=? AND usage IS NOT NULL", (run_id,)
        ):
            parsed = json.loads(usage)
            used += parsed["input_tokens"] + parsed["output_tokens"]
        return used, budget

    def set_pr_url(self, *, run_id: str, lease_token: str, url: str) -> None:
        with self._transaction(durable=True) as (cur, now):
            self._fence(cur, run_id, lease_token)
            cur.execute(
                "UPDATE workflow_runs SET pr_url=?, updated_at=? WHERE id=?", (url, now, run_id)
            )

    def add_event(
        self,
        *,
        run_id: str,
        lease_token: str,
        type: str,
        message: str | None = None,
        phase: str | None = None,
        step_key: str | None = None,
        dedupe_key: str | None = None,
    ) -> None:
        message = self.redactor.maybe(message)
        with self._transaction(durable=False) as (cur, now):
            self._fence(cur, run_id, lease_token)
            cur.execute(
                "INSERT INTO run_events (run_id, type, message, phase, step_key, dedupe_key,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (run_id, type, message, phase, step_key, dedupe_key, now),
            )
            if type == "phase_started":
                cur.execute(
                    "UPDATE workflow_runs SET current_phase=?, updated_at=? WHERE id=?",
                    (phase, now, run_id),
                )

    def save_artifact(
        self,
        *,
        run_id: str,
        lease_token: str,
        step_key: str,
        name: str,
        content_type: str,
        size_bytes: int,
        sha256: str,
        file_name: str,
    ) -> None:
        """Record a file the step saved; a second save of the same name replaces the first
        (the row keeps its id, so a download link stays valid)."""
        with self._transaction(durable=True) as (cur, now):
            self._fence(cur, run_id, lease_token)
            cur.execute(
                "INSERT INTO run_artifacts (id, run_id, step_key, name, content_type,"
                " size_bytes, sha256, file_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, name) DO UPDATE SET step_key=excluded.step_key,"
                " content_type=excluded.content_type, size_bytes=excluded.size_bytes,"
                " sha256=excluded.sha256, file_name=excluded.file_name,"
                " created_at=excluded.created_at",
                (
                    str(uuid.uuid4()),
                    run_id,
                    step_key,
                    name,
                    content_type,
                    size_bytes,
                    sha256,
                    file_name,
                    now,
                ),
            )

    def add_logs(self, run_id: str, lines: Iterable[LogLine]) -> None:
        """Log lines ``(step_key, phase, stream, line, created_at)``; not fenced: logs of a
        step that lost its lease are still true output."""
        with self._transaction(durable=False) as (cur, _now):
            cur.executemany(
                "INSERT INTO step_logs (run_id, step_key, phase, stream, line, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, key, phase, stream, self.redactor.text(text), at)
                    for key, phase, stream, text, at in lines
                ],
            )


def add_usages(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two usages summed; the cost is known only if both are."""
    cost = None
    if first.get("cost_usd") is not None and second.get("cost_usd") is not None:
        cost = round(first["cost_usd"] + second["cost_usd"], 6)
    return {
        "input_tokens": first["input_tokens"] + second["input_tokens"],
        "output_tokens": first["output_tokens"] + second["output_tokens"],
        "cached_input_tokens": first["cached_input_tokens"] + second["cached_input_tokens"],
        "cost_usd": cost,
    }


def dumps(value: object) -> str:
    """The one JSON encoding of the journal."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class JournalWriter:
    """Runs journal writes for the event loop without ever making it wait for a lock.

    A write is first tried right on the loop's thread, on a connection that does not wait
    for locks: uncontended (the usual case) it costs its commit and no thread hop, and a
    step makes two of them (on PostgreSQL one round trip each; a thread hop costs as much).
    When another writer holds a lock it needs, the write gives up having written nothing
    and goes to a thread that waits its turn (and so do all writes after it until that
    thread is idle, so writes keep their order). The thread is fed by a plain queue and
    answers with ``call_soon_threadsafe``: an executor's future chaining costs as much as
    the write.
    """

    def __init__(
        self,
        db: Database,
        *,
        after_write: Callable[[], None] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.redactor = redactor or Redactor()
        self._journal = Journal.open(db, redactor=self.redactor)
        self._on_loop = Journal.open(db, wait_for_lock=False, redactor=self.redactor)
        self._after_write = after_write
        self._on_thread = 0
        self._closing = False
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="stepstone-journal", daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[[Journal], T]) -> T:
        """Run ``fn(journal)``; its result or exception comes back."""
        try:
            if self._on_thread == 0:
                try:
                    return fn(self._on_loop)
                except Exception as exc:
                    # A write that met a lock rolled back whole: nothing was written.
                    if not is_lock_busy(exc):
                        raise
            return await self._call_on_thread(fn)
        finally:
            if self._after_write is not None:
                self._after_write()

    async def _call_on_thread(self, fn: Callable[[Journal], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._on_thread += 1
        self._requests.put((fn, future, loop))
        try:
            return await future
        finally:
            self._on_thread -= 1

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join()
        self._on_loop.close()

    def _serve(self) -> None:
        try:
            while (request := self._requests.get()) is not None:
                batch = [request]
                while len(batch) < BATCH_MAX and (more := self._next_request()) is not None:
                    batch.append(more)
                answers = self._write(batch)
                for (_fn, future, loop), (result, exc) in zip(batch, answers, strict=True):
                    # The loop may be gone when its caller was torn down; the write stands.
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_settle, future, result, exc)
                if self._closing:  # close() was queued behind this batch
                    break
        finally:
            self._journal.close()

    def _next_request(self) -> _Request | None:
        """The next request already queued, if any (the end of the queue is kept)."""
        try:
            request = self._requests.get_nowait()
        except queue.Empty:
            return None
        if request is None:
            self._closing = True
        return request

    def _write(self, batch: list[_Request]) -> list[tuple[Any, BaseException | None]]:
        """Every request of ``batch``, in order, in one batch of the journal (on SQLite one
        commit): each answers its result or its own error, or, if the commit failed, that."""
        answers: list[tuple[Any, BaseException | None]] = []
        try:
            with self._journal.batch():
                for fn, _future, _loop in batch:
                    try:
                        answers.append((fn(self._journal), None))
                    except BaseException as error:
                        answers.append((None, error))
        except BaseException as error:  # nothing of the batch that was not answered is kept
            answered = len(answers)
            answers = [(None, error) if exc is None else (r, exc) for r, exc in answers]
            answers += [(None, error)] * (len(batch) - answered)
        return answers


_Request = tuple[Callable[[Journal], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
