"""Queueing an interrupted run again: by hand (resume, SPEC 3.7) or without a click
(automatic recovery, SPEC 3.13), with the guard that stops a crash loop."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, RowMapping, func, or_, select

from stepstone.store import runs as run_store
from stepstone.store.leases import NO_LEASE, is_live
from stepstone.store.schema import run_events, workflow_definitions, workflow_runs, workflow_steps
from stepstone.vocabulary import EventType, RunStatus, StepStatus

AUTOMATIC = "automatic"
"""The ``reason`` of a ``workflow_resumed`` event written by automatic recovery."""
AUTO_RESUME_LIMIT = 3
"""Automatic resumes in a row without a step completing, before recovery gives up on a run
(the default of ``Settings.auto_resume_limit``)."""


def requeue_txn(
    conn: Connection,
    run: RowMapping,
    event: EventType,
    message: str,
    *,
    step_key: str | None = None,
    reason: str | None = None,
    **values: Any,
) -> None:
    """Queue an unfinished run again (resume, retry, automatic recovery): interrupted steps
    back to ``pending`` (their attempts kept, marked ``interrupted``), the run ``pending``
    with its error, completion and lease cleared (and ``values`` set), and ``event``."""
    run_store.reset_running_steps_txn(conn, run["id"])
    run_store.update_run_txn(
        conn,
        run["id"],
        status=RunStatus.PENDING,
        error_message=None,
        completed_at=None,
        **values,
        **NO_LEASE,
    )
    run_store.add_event_txn(conn, run["id"], event, message, step_key=step_key, reason=reason)


def resume_txn(
    conn: Connection, run: RowMapping, message: str, *, reason: str | None = None, **values: Any
) -> None:
    """Resume's writes (SPEC 3.7): :func:`requeue_txn` with ``resume_count`` + 1 and a
    ``workflow_resumed`` event saying ``message`` (and why: ``reason``)."""
    requeue_txn(
        conn,
        run,
        EventType.WORKFLOW_RESUMED,
        message,
        reason=reason,
        resume_count=run["resume_count"] + 1,
        **values,
    )


def orphans_to_recover_txn(
    conn: Connection, *, every_run: bool, host: str, now: float | None = None
) -> list[RowMapping]:
    """Interrupted runs automatic recovery may resume: every one with ``every_run``, else
    those of workflows declared ``auto_resume``; not those it gave up on (they carry an
    error until someone resumes them). Candidates are runs whose lease ran out or whose
    holder was on ``host`` (its process may be gone); which are really orphaned is
    :func:`is_live`'s call."""
    now = time.time() if now is None else now
    runs = workflow_runs.c
    query = (
        select(workflow_runs)
        .join(workflow_definitions, workflow_definitions.c.id == runs.workflow_definition_id)
        .where(
            runs.status == RunStatus.RUNNING,
            runs.error_message.is_(None),
            or_(
                runs.lease_expires_at.is_(None),
                runs.lease_expires_at < now,
                runs.owner_host == host,
            ),
        )
        .order_by(runs.created_at)
    )
    if not every_run:
        query = query.where(workflow_definitions.c.auto_resume.is_(True))
    return [run for run in conn.execute(query).mappings() if not is_live(run, now=now)]


def automatic_resumes_in_a_row_txn(conn: Connection, run_id: str) -> int:
    """Automatic resumes of the run since it last made progress: a step completed, or
    someone resumed or retried it by hand."""
    completed = (
        select(func.max(workflow_steps.c.completed_at))
        .where(
            workflow_steps.c.run_id == run_id,
            workflow_steps.c.status == StepStatus.COMPLETED,
        )
        .scalar_subquery()
    )
    events = conn.execute(
        select(run_events.c.type, run_events.c.reason)
        .where(
            run_events.c.run_id == run_id,
            run_events.c.type.in_((EventType.WORKFLOW_RESUMED, EventType.WORKFLOW_RETRIED)),
            run_events.c.created_at > func.coalesce(completed, 0.0),
        )
        .order_by(run_events.c.id)
    ).all()
    in_a_row = 0
    for event_type, reason in events:
        automatic = event_type == EventType.WORKFLOW_RESUMED and reason == AUTOMATIC
        in_a_row = in_a_row + 1 if automatic else 0
    return in_a_row


def running_step_key_txn(conn: Connection, run_id: str) -> str | None:
    """The step the run was executing (the last one started), if any."""
    return conn.execute(
        select(workflow_steps.c.key)
        .where(workflow_steps.c.run_id == run_id, workflow_steps.c.status == StepStatus.RUNNING)
        .order_by(workflow_steps.c.started_at.desc())
        .limit(1)
    ).scalar()


def recover_txn(
    conn: Connection, run_id: str, *, host: str, limit: int = AUTO_RESUME_LIMIT
) -> bool:
    """Resume the orphaned run ``run_id`` without a click, or give up on it after ``limit``
    automatic resumes without progress (it stays interrupted, with an error naming the step
    that was running). False when the run needs nothing any more (another worker resumed it
    meanwhile, or its holder is back)."""
    run = run_store.get_run_txn(conn, run_id, for_update=True)
    if run is None or run["status"] != RunStatus.RUNNING or run["error_message"] is not None:
        return False
    if is_live(run):
        return False
    step = running_step_key_txn(conn, run_id)
    where = f"in step {step}" if step else "between steps"
    if automatic_resumes_in_a_row_txn(conn, run_id) >= limit:
        message = (
            f"automatic recovery stopped: resumed {limit} times in a row without completing a"
            f" step, its worker ended {where} each time; resume it by hand once that is fixed"
        )
        run_store.update_run_txn(conn, run_id, error_message=message)
        run_store.add_event_txn(conn, run_id, EventType.AUTO_RESUME_STOPPED, message, step_key=step)
        return False
    # A lease released on purpose (the worker stopped) or one that ran out (it died).
    ended = "stopped" if run["lease_owner"] is None else "was gone"
    message = f"resumed automatically: its worker {ended} {where} (noticed on {host})"
    resume_txn(conn, run, message, reason=AUTOMATIC)
    return True
