"""Running a run again from a chosen step: retry (the same run, SPEC 3.10) and fork (a new
run reusing the steps before it, SPEC 3.11)."""

from __future__ import annotations

from stepstone.errors import Conflict, InvalidInput, NotResumable
from stepstone.services.projects import sync_definitions
from stepstone.services.runs import load_run_txn, view_run_txn
from stepstone.store import leases
from stepstone.store import projects as project_store
from stepstone.store import runs as run_store
from stepstone.store.database import Database
from stepstone.store.leases import LeaseHolder, is_live
from stepstone.store.records import Run
from stepstone.vocabulary import RETRYABLE_RUN_STATUSES, EventType, RunStatus


def retry_run(
    db: Database,
    run_id: str,
    from_step: str,
    *,
    user_id: str | None = None,
    claim_for: LeaseHolder | None = None,
) -> Run:
    """Queue a failed, paused, completed or interrupted run again from the step
    ``from_step`` (SPEC 3.10): it and the steps started after it run again with the current
    code, the steps before it are reused, every attempt stays listed. ``claim_for`` as for
    :func:`start_run`."""
    with db.read() as conn:
        project_id = load_run_txn(conn, run_id, user_id=user_id)["project_id"]
        project = project_store.find_project_txn(conn, id=project_id)
    assert project is not None
    sync_definitions(db, project)  # before the claim, as for resume
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        status = run["status"]
        if status not in RETRYABLE_RUN_STATUSES:
            raise NotResumable(
                f"run {run['id']} is {status}; only failed, paused, completed or interrupted"
                " runs can be retried from a step"
            )
        if status == RunStatus.RUNNING and is_live(run):
            raise Conflict(f"run {run['id']} is running in a live worker; it cannot retry now")
        steps = {step["key"]: step for step in run_store.steps_of_run_txn(conn, run["id"])}
        step = steps.get(from_step)
        if step is None:
            known = ", ".join(steps) or "none yet"
            raise InvalidInput(f"run {run['id']} has no step {from_step!r} (its steps: {known})")
        run_store.reset_running_steps_txn(conn, run["id"])
        run_store.reset_steps_from_txn(conn, run["id"], step["id"])
        run_store.update_run_txn(
            conn,
            run["id"],
            status=RunStatus.PENDING,
            error_message=None,
            result=None,
            completed_at=None,
            **leases.NO_LEASE,
        )
        run_store.add_event_txn(
            conn,
            run["id"],
            EventType.WORKFLOW_RETRIED,
            f"retried from step {from_step} ({status} before)",
            step_key=from_step,
        )
        if claim_for is not None:
            leases.claim_run_txn(conn, run["id"], claim_for)
        return view_run_txn(conn, run["id"])
