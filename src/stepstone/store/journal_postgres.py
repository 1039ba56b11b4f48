"""The journal on PostgreSQL: a step's two writes as one statement each.

Over a network every statement is a round trip, so the running marker (fence, step row,
attempt row) and the completion (step, attempt, fence) are each one statement that commits
on its own: data-modifying ``WITH`` clauses, all applied or none. The fence is the same as
on SQLite (the run's lease token, checked in the statement that writes); pause and cancel
requests are read by the marker as there. The other writes are rarer and keep the shared
SQL of :class:`Journal`.
"""

from __future__ import annotations

import time

from stepstone.errors import LeaseLost
from stepstone.store.journal import Journal, RunFlags, StepRecord
from stepstone.store.journal_connections import PostgresJournalConnection
from stepstone.store.redaction import Redactor

_FENCE = (
    "fence AS (SELECT pause_requested, cancel_requested FROM workflow_runs"
    " WHERE id=? AND lease_owner=?)"
)
_GO = "go AS (SELECT 1 FROM fence WHERE ?::boolean OR NOT (pause_requested OR cancel_requested))"
_ANSWER = (
    "attempt AS (INSERT INTO step_attempts (step_id, attempt, status, started_at)"
    " SELECT id, attempt, 'running', ?::float8 FROM step RETURNING id)"
    " SELECT fence.pause_requested, fence.cancel_requested, step.id, attempt.id"
    " FROM fence LEFT JOIN step ON true LEFT JOIN attempt ON true"
)
START_NEW = (
    f"WITH {_FENCE}, {_GO}, step AS (INSERT INTO workflow_steps (run_id, key, name, phase,"
    " kind, status, attempt, wake_at, started_at, updated_at)"
    " SELECT ?, ?, ?, ?, ?, 'running', 1, ?::float8, ?::float8, ?::float8 FROM go"
    f" RETURNING id, attempt), {_ANSWER}"
)
START_AGAIN = (
    f"WITH {_FENCE}, {_GO}, step AS (UPDATE workflow_steps SET status='running', attempt=?,"
    " name=?, phase=?, kind=?, wake_at=?::float8, started_at=?::float8, completed_at=NULL,"
    " updated_at=?::float8 WHERE id=? AND EXISTS (SELECT 1 FROM go)"
    f" RETURNING id, attempt), {_ANSWER}"
)
COMPLETE = (
    "WITH step AS (UPDATE workflow_steps SET status='completed', output=?, error_message=NULL,"
    " completed_at=?::float8, updated_at=?::float8 WHERE id=?"
    " AND EXISTS (SELECT 1 FROM workflow_runs WHERE id=? AND lease_owner=?) RETURNING id),"
    " attempt AS (UPDATE step_attempts SET status='completed', completed_at=?::float8"
    " WHERE id=? AND EXISTS (SELECT 1 FROM step))"
    " SELECT count(*) FROM step"
)


class PostgresJournal(Journal):
    def __init__(
        self, connection: PostgresJournalConnection, *, redactor: Redactor | None = None
    ) -> None:
        super().__init__(connection, redactor=redactor)
        self._statement = connection.statement

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
        now = time.time()
        fence = (run_id, lease_token, even_if_interrupted)
        if record is None:
            params = (*fence, run_id, key, name, phase, kind, wake_at, now, now, now)
            rows = self._statement(START_NEW, params, durable=False)
        else:
            wake = record.wake_at if record.wake_at is not None else wake_at
            again = (record.attempt + 1, name, phase, kind, wake, now, now, record.id)
            rows = self._statement(START_AGAIN, (*fence, *again, now), durable=False)
        if not rows:
            raise LeaseLost(f"run {run_id} is no longer leased to this worker")
        pause, cancel, step_id, attempt_id = rows[0]
        flags = RunFlags(bool(pause), bool(cancel))
        if attempt_id is None:  # a pause or cancel was requested: nothing was written
            return flags, record, 0
        if record is None:
            record = StepRecord(step_id, "running", 1, None, wake_at)
        else:
            record.attempt += 1
            record.status = "running"
            record.wake_at = wake
        return flags, record, int(attempt_id)

    def complete_attempt(
        self, *, run_id: str, lease_token: str, record: StepRecord, attempt_id: int, output: str
    ) -> None:
        output = self.redactor.text(output)
        now = time.time()
        params = (output, now, now, record.id, run_id, lease_token, now, attempt_id)
        ((completed,),) = self._statement(COMPLETE, params, durable=True)
        if completed != 1:
            raise LeaseLost(f"run {run_id} is no longer leased to this worker")
        record.status = "completed"
        record.output = output
