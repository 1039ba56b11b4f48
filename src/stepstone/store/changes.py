"""What changed in the journal since a cursor: the live feed's reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, Table, func, select

from stepstone.store.schema import run_events, step_logs, workflow_runs, workflow_steps

LOG_BATCH = 2000


def latest_cursors_txn(conn: Connection) -> tuple[float, float, int, int]:
    """``(runs updated_at, steps updated_at, event id, log id)`` as they are now."""
    return (
        conn.execute(select(func.max(workflow_runs.c.updated_at))).scalar() or 0.0,
        conn.execute(select(func.max(workflow_steps.c.updated_at))).scalar() or 0.0,
        conn.execute(select(func.max(run_events.c.id))).scalar() or 0,
        conn.execute(select(func.max(step_logs.c.id))).scalar() or 0,
    )


def runs_updated_since_txn(conn: Connection, since: float) -> Sequence[RowMapping]:
    return (
        conn.execute(select(workflow_runs).where(workflow_runs.c.updated_at >= since))
        .mappings()
        .all()
    )


def _with_run_owner(table: Table) -> Select[Any]:
    """Rows of ``table`` with their run's project and user (channels and ownership)."""
    return select(table, workflow_runs.c.project_id, workflow_runs.c.user_id).join(
        workflow_runs, workflow_runs.c.id == table.c.run_id
    )


def steps_updated_since_txn(conn: Connection, since: float) -> Sequence[RowMapping]:
    query = (
        _with_run_owner(workflow_steps)
        .where(workflow_steps.c.updated_at >= since)
        .order_by(workflow_steps.c.updated_at, workflow_steps.c.id)
    )
    return conn.execute(query).mappings().all()


def events_after_txn(conn: Connection, after_id: int) -> Sequence[RowMapping]:
    query = _with_run_owner(run_events).where(run_events.c.id > after_id).order_by(run_events.c.id)
    return conn.execute(query).mappings().all()


def logs_after_txn(conn: Connection, after_id: int) -> Sequence[RowMapping]:
    query = (
        _with_run_owner(step_logs)
        .where(step_logs.c.id > after_id)
        .order_by(step_logs.c.id)
        .limit(LOG_BATCH)
    )
    return conn.execute(query).mappings().all()


def running_runs_txn(conn: Connection) -> Sequence[RowMapping]:
    """Runs marked running, with their lease: whether each is still live changes with time
    and with its worker's life, not with its row."""
    return (
        conn.execute(select(workflow_runs).where(workflow_runs.c.status == "running"))
        .mappings()
        .all()
    )
