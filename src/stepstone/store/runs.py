"""Queries on runs, their steps, attempts, events and logs (SQLAlchemy Core).

Functions ending in ``_txn`` run inside the caller's transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, TypedDict

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)

from stepstone.store.integers import BIGINT_MAX, parse_row_id
from stepstone.store.journal_connections import postgres_sql
from stepstone.store.schema import (
    projects,
    run_artifacts,
    run_events,
    step_attempts,
    step_logs,
    workflow_definitions,
    workflow_runs,
    workflow_steps,
)
from stepstone.vocabulary import AttemptStatus, EventType, RunStatus, StepStatus

# The statements a worker runs for every run it executes are built once (building and
# keying a statement costs more than executing it); the rest are built where they are used.
_RUN = select(workflow_runs).where(workflow_runs.c.id == bindparam("run_id"))
_RUN_FOR_UPDATE = _RUN.with_for_update()
_RUN_TO_EXECUTE = (
    select(
        workflow_runs,
        projects.c.path.label("project_path"),
        workflow_definitions.c.file_path.label("definition_file"),
        workflow_definitions.c.args_schema.label("definition_args_schema"),
    )
    .join(projects, projects.c.id == workflow_runs.c.project_id)
    .join(
        workflow_definitions,
        workflow_definitions.c.id == workflow_runs.c.workflow_definition_id,
    )
    .where(workflow_runs.c.id == bindparam("run_id"))
)
_CUT_OFF_PROCESS_GROUPS = (
    select(
        step_attempts.c.process_host,
        step_attempts.c.process_group,
        step_attempts.c.process_start,
    )
    .join(workflow_steps, workflow_steps.c.id == step_attempts.c.step_id)
    .where(
        workflow_steps.c.run_id == bindparam("run_id"),
        step_attempts.c.process_group.is_not(None),
        step_attempts.c.status.in_((AttemptStatus.INTERRUPTED, AttemptStatus.RUNNING)),
    )
)
_ADD_EVENT = run_events.insert()
_INSERT_RUN = workflow_runs.insert()
# A run's view (every read of a run through the API builds one).
_STEPS_OF_RUN = (
    select(workflow_steps)
    .where(workflow_steps.c.run_id == bindparam("run_id"))
    .order_by(workflow_steps.c.id)
)
_ATTEMPTS_OF_RUN = (
    select(step_attempts)
    .join(workflow_steps, workflow_steps.c.id == step_attempts.c.step_id)
    .where(workflow_steps.c.run_id == bindparam("run_id"))
    .order_by(step_attempts.c.step_id, step_attempts.c.attempt, step_attempts.c.id)
)
_EVENTS_OF_RUN = (
    select(run_events).where(run_events.c.run_id == bindparam("run_id")).order_by(run_events.c.id)
)


def insert_run_txn(conn: Connection, values: dict[str, Any], *, run_id: str | None = None) -> str:
    now = time.time()
    run_id = run_id or str(uuid.uuid4())
    conn.execute(
        _INSERT_RUN,
        {
            "id": run_id,
            "status": RunStatus.PENDING,
            "resume_count": 0,
            "pause_requested": False,
            "cancel_requested": False,
            "created_at": now,
            "updated_at": now,
            **values,
        },
    )
    add_event_txn(conn, run_id, EventType.WORKFLOW_CREATED)
    return run_id


def get_run_txn(conn: Connection, run_id: str, *, for_update: bool = False) -> RowMapping | None:
    """The run's row; ``for_update`` locks it until the transaction ends (SQLite's
    ``BEGIN IMMEDIATE`` already serialises writers)."""
    query = _RUN_FOR_UPDATE if for_update else _RUN
    return conn.execute(query, {"run_id": run_id}).mappings().first()


def get_run_to_execute_txn(conn: Connection, run_id: str) -> RowMapping | None:
    """The run's row with what executing it needs besides: its project's ``project_path``,
    its definition's ``definition_file`` and ``definition_args_schema``."""
    return conn.execute(_RUN_TO_EXECUTE, {"run_id": run_id}).mappings().first()


def find_runs_by_prefix_txn(conn: Connection, prefix: str, limit: int = 2) -> list[str]:
    rows = conn.execute(
        select(workflow_runs.c.id).where(workflow_runs.c.id.startswith(prefix)).limit(limit)
    )
    return [row[0] for row in rows]


def list_runs_txn(
    conn: Connection,
    *,
    project_id: str | None = None,
    status: str | None = None,
    search: str | None = None,
    user_id: str | None = None,
    after: tuple[float, str] | None = None,
    limit: int = 50,
) -> Sequence[RowMapping]:
    """Newest first; ``after`` is the ``(created_at, id)`` of the last row of the previous
    page; ``user_id`` keeps only that user's runs."""
    runs = workflow_runs.c
    query = select(workflow_runs).order_by(runs.created_at.desc(), runs.id.desc()).limit(limit)
    if project_id:
        query = query.where(runs.project_id == project_id)
    if status:
        query = query.where(runs.status == status)
    if user_id:
        query = query.where(runs.user_id == user_id)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(runs.name).like(pattern),
                func.lower(runs.workflow).like(pattern),
                runs.id.like(pattern),
            )
        )
    if after is not None:
        created_at, run_id = after
        query = query.where(
            or_(runs.created_at < created_at, and_(runs.created_at == created_at, runs.id < run_id))
        )
    return conn.execute(query).mappings().all()


def find_step_txn(conn: Connection, run_id: str, ref: str) -> RowMapping | None:
    """A step of the run by its key, or by its numeric id (ASCII digits)."""
    query = select(workflow_steps).where(workflow_steps.c.run_id == run_id)
    by_key = conn.execute(query.where(workflow_steps.c.key == ref)).mappings().first()
    step_id = parse_row_id(ref)
    if by_key is not None or step_id is None:
        return by_key
    return conn.execute(query.where(workflow_steps.c.id == step_id)).mappings().first()


def delete_run_txn(conn: Connection, run_id: str) -> None:
    """The run and everything recorded for it."""
    steps = select(workflow_steps.c.id).where(workflow_steps.c.run_id == run_id)
    conn.execute(delete(step_attempts).where(step_attempts.c.step_id.in_(steps)))
    for table in (workflow_steps, run_events, step_logs, run_artifacts):
        conn.execute(delete(table).where(table.c.run_id == run_id))
    conn.execute(delete(workflow_runs).where(workflow_runs.c.id == run_id))


def steps_of_run_txn(conn: Connection, run_id: str) -> Sequence[RowMapping]:
    return conn.execute(_STEPS_OF_RUN, {"run_id": run_id}).mappings().all()


def attempts_of_run_txn(conn: Connection, run_id: str) -> Sequence[RowMapping]:
    return conn.execute(_ATTEMPTS_OF_RUN, {"run_id": run_id}).mappings().all()


def cut_off_process_groups_txn(conn: Connection, run_id: str) -> Sequence[RowMapping]:
    """The process groups recorded by the run's attempts that did not end by themselves
    (interrupted, or still marked running): what a crash may have left running."""
    return conn.execute(_CUT_OFF_PROCESS_GROUPS, {"run_id": run_id}).mappings().all()


def events_of_run_txn(conn: Connection, run_id: str) -> Sequence[RowMapping]:
    return conn.execute(_EVENTS_OF_RUN, {"run_id": run_id}).mappings().all()


def logs_of_run_txn(
    conn: Connection, run_id: str, *, step_key: str | None = None, after_id: int = 0
) -> Sequence[RowMapping]:
    """The run's log lines after ``after_id`` (one past every id a database can hold asks
    for none: a driver refuses a number that large rather than finding nothing)."""
    query = (
        select(step_logs)
        .where(step_logs.c.run_id == run_id, step_logs.c.id > min(after_id, BIGINT_MAX))
        .order_by(step_logs.c.id)
    )
    if step_key is not None:
        query = query.where(step_logs.c.step_key == step_key)
    return conn.execute(query).mappings().all()


def add_event_txn(
    conn: Connection,
    run_id: str,
    type: EventType,
    message: str | None = None,
    *,
    phase: str | None = None,
    step_key: str | None = None,
    reason: str | None = None,
) -> None:
    conn.execute(
        _ADD_EVENT,
        {
            "run_id": run_id,
            "type": type,
            "message": message,
            "phase": phase,
            "step_key": step_key,
            "reason": reason,
            "created_at": time.time(),
        },
    )


def update_run_txn(conn: Connection, run_id: str, **values: Any) -> None:
    conn.execute(
        update(workflow_runs)
        .where(workflow_runs.c.id == run_id)
        .values(updated_at=time.time(), **values)
    )


def settle_running_steps_txn(
    conn: Connection,
    run_id: str,
    *,
    step_status: StepStatus,
    attempt_status: AttemptStatus,
    message: str | None,
) -> None:
    """Close the steps an execution left ``running``: their open attempt gets
    ``attempt_status``, the step ``step_status`` (``pending`` also clears ``started_at``, so
    the step reads as not started)."""
    now = time.time()
    running = select(workflow_steps.c.id).where(
        workflow_steps.c.run_id == run_id, workflow_steps.c.status == StepStatus.RUNNING
    )
    conn.execute(
        update(step_attempts)
        .where(
            step_attempts.c.step_id.in_(running), step_attempts.c.status == AttemptStatus.RUNNING
        )
        .values(status=attempt_status, completed_at=now, error_message=message)
    )
    step_values: dict[str, Any] = {"status": step_status, "updated_at": now}
    if step_status == StepStatus.PENDING:
        step_values["started_at"] = None
    else:
        step_values.update(completed_at=now, error_message=message)
    conn.execute(
        update(workflow_steps)
        .where(workflow_steps.c.run_id == run_id, workflow_steps.c.status == StepStatus.RUNNING)
        .values(**step_values)
    )


def cancel_unfinished_steps_txn(conn: Connection, run_id: str) -> None:
    settle_running_steps_txn(
        conn,
        run_id,
        step_status=StepStatus.CANCELLED,
        attempt_status=AttemptStatus.CANCELLED,
        message="cancelled",
    )
    conn.execute(
        update(workflow_steps)
        .where(
            workflow_steps.c.run_id == run_id,
            workflow_steps.c.status.in_((StepStatus.PENDING, StepStatus.WAITING)),
        )
        .values(status=StepStatus.CANCELLED, completed_at=time.time(), updated_at=time.time())
    )


def reset_steps_from_txn(conn: Connection, run_id: str, first_step_id: int) -> None:
    """Retry from a step: it and every step first started after it (a higher id: journal
    order) become ``pending`` as if never started (output, error, session, the working tree
    it started from and a sleep's wake time cleared); their attempts stay as history."""
    conn.execute(
        update(workflow_steps)
        .where(workflow_steps.c.run_id == run_id, workflow_steps.c.id >= first_step_id)
        .values(
            status=StepStatus.PENDING,
            output=None,
            error_message=None,
            started_at=None,
            completed_at=None,
            session_id=None,
            base_tree=None,
            wake_at=None,
            updated_at=time.time(),
        )
    )


_NOT_COPIED_STEP_COLUMNS = frozenset({"id", "run_id", "usage", "change_tx"})
_NOT_COPIED_ATTEMPT_COLUMNS = frozenset(
    {"id", "step_id", "process_host", "process_group", "process_start", "change_tx"}
)


def copy_completed_steps_txn(
    conn: Connection,
    from_run_id: str,
    to_run_id: str,
    *,
    before_step_id: int | None,
    except_phases: frozenset[str] = frozenset(),
) -> int:
    """A fork: copy the completed steps of ``from_run_id`` started before the step
    ``before_step_id`` (all of them when None), with their attempts, to ``to_run_id``, but
    those of ``except_phases``; their usage stays with the run that used it. Returns how
    many steps were copied."""
    query = select(workflow_steps).where(
        workflow_steps.c.run_id == from_run_id,
        workflow_steps.c.status == StepStatus.COMPLETED,
    )
    if before_step_id is not None:
        query = query.where(workflow_steps.c.id < before_step_id)
    steps = [
        step
        for step in conn.execute(query.order_by(workflow_steps.c.id)).mappings()
        if step["phase"] not in except_phases
    ]
    now = time.time()
    copied_ids: dict[int, int] = {}
    for step in steps:
        values = {k: v for k, v in step.items() if k not in _NOT_COPIED_STEP_COLUMNS}
        inserted = conn.execute(
            workflow_steps.insert()
            .values({**values, "run_id": to_run_id, "updated_at": now})
            .returning(workflow_steps.c.id)
        )
        copied_ids[step["id"]] = inserted.scalar_one()
    if copied_ids:
        attempts = conn.execute(
            select(step_attempts).where(step_attempts.c.step_id.in_(list(copied_ids)))
        ).mappings()
        for attempt in attempts:
            values = {k: v for k, v in attempt.items() if k not in _NOT_COPIED_ATTEMPT_COLUMNS}
            conn.execute(
                step_attempts.insert().values({**values, "step_id": copied_ids[attempt["step_id"]]})
            )
    return len(copied_ids)


def forks_of_run_txn(
    conn: Connection, run_id: str, *, user_id: str | None = None
) -> Sequence[RowMapping]:
    """The runs forked from this one, oldest first (only ``user_id``'s when given)."""
    query = (
        select(workflow_runs.c.id, workflow_runs.c.forked_from_step, workflow_runs.c.created_at)
        .where(workflow_runs.c.forked_from_run_id == run_id)
        .order_by(workflow_runs.c.created_at, workflow_runs.c.id)
    )
    if user_id is not None:
        query = query.where(workflow_runs.c.user_id == user_id)
    return conn.execute(query).mappings().all()


def reset_running_steps_txn(conn: Connection, run_id: str) -> None:
    """Resume and pause: interrupted steps go back to ``pending`` (their attempts are kept,
    marked ``interrupted``)."""
    settle_running_steps_txn(
        conn,
        run_id,
        step_status=StepStatus.PENDING,
        attempt_status=AttemptStatus.INTERRUPTED,
        message="interrupted",
    )


class FingerprintRow(TypedDict):
    """What :func:`run_fingerprint_row` reads: enough to judge access and liveness, and to
    tell whether the run object changed."""

    id: str
    user_id: str | None
    status: str
    updated_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    owner_host: str | None
    owner_pid: int | None
    steps_updated_at: float | None
    last_event_id: int | None
    forks: int


_FINGERPRINT_SQL = (
    "SELECT r.id, r.user_id, r.status, r.updated_at, r.lease_owner, r.lease_expires_at,"
    " r.owner_host, r.owner_pid,"
    " (SELECT max(s.updated_at) FROM workflow_steps s WHERE s.run_id = r.id),"
    " (SELECT max(e.id) FROM run_events e WHERE e.run_id = r.id),"
    " (SELECT count(*) FROM workflow_runs f WHERE f.forked_from_run_id = r.id)"
    " FROM workflow_runs r WHERE r.id = ?"
)


def run_fingerprint_row(engine: Engine, run_id: str) -> FingerprintRow | None:
    """The run's row heads and when its steps and events last changed, in one query: a run
    object built from the journal stays the same while these do. It runs on every GET of a
    run, straight on the DB-API connection (SQLAlchemy's statement handling costs some
    twenty times the query itself here)."""
    connection = engine.raw_connection()
    try:
        sql = _FINGERPRINT_SQL
        if engine.dialect.name == "postgresql":
            sql = postgres_sql(sql)
        cursor = connection.cursor()
        cursor.execute(sql, (run_id,))
        row = cursor.fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    run_id, user_id, status, updated_at, lease_owner, expires_at, host, pid, *heads = row
    steps_at, event_id, forks = heads
    return {
        "id": run_id,
        "user_id": user_id,
        "status": status,
        "updated_at": updated_at,
        "lease_owner": lease_owner,
        "lease_expires_at": expires_at,
        "owner_host": host,
        "owner_pid": pid,
        "steps_updated_at": steps_at,
        "last_event_id": event_id,
        "forks": forks,
    }
