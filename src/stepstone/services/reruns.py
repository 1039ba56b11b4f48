"""Running a run again from a chosen step: retry (the same run, SPEC 3.10) and fork (a new
run reusing the steps before it, SPEC 3.11)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, RowMapping

from stepstone.errors import Conflict, InvalidInput, NotResumable
from stepstone.services.runs import (
    load_run_txn,
    start_run,
    sync_definitions_of_run,
    view_run_txn,
)
from stepstone.steps.workspace import FINALIZE_PHASE, SETUP_PHASE
from stepstone.store import leases
from stepstone.store import projects as project_store
from stepstone.store import runs as run_store
from stepstone.store.database import Database
from stepstone.store.leases import LeaseHolder, is_live
from stepstone.store.records import Run
from stepstone.store.recovery import requeue_txn
from stepstone.store.secret_args import SecretArgs
from stepstone.vocabulary import RETRYABLE_RUN_STATUSES, EventType, RunStatus

WORKSPACE_PHASES = frozenset({SETUP_PHASE, FINALIZE_PHASE})
"""A run's own branch or worktree is made and taken down by these; a fork makes its own."""


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
    sync_definitions_of_run(db, run_id, user_id=user_id)
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        status = run["status"]
        if status not in RETRYABLE_RUN_STATUSES:
            raise NotResumable(
                f"run {run['id']} is {status}; only failed, paused, completed or interrupted"
                " runs can be retried from a step"
            )
        _refuse_live(run, "retry")
        first = _step_of(conn, run, from_step)
        requeue_txn(
            conn,
            run,
            EventType.WORKFLOW_RETRIED,
            f"retried from step {from_step} ({status} before)",
            step_key=from_step,
            result=None,
        )
        run_store.reset_steps_from_txn(conn, run["id"], first)
        if claim_for is not None:
            leases.claim_run_txn(conn, run["id"], claim_for)
        return view_run_txn(conn, run["id"], user_id=user_id)


def fork_run(
    db: Database,
    run_id: str,
    from_step: str | None = None,
    *,
    user_id: str | None = None,
    owner_id: str | None = None,
    claim_for: LeaseHolder | None = None,
) -> Run:
    """A new run of the same definition with the same args, spec and mode (SPEC 3.11),
    owned by ``owner_id``; with ``from_step`` the steps completed before that step are
    copied into it and reused, without it nothing is (a plain rerun). Any run but a live
    one can be forked; the origin only gains a ``fork_created`` event."""
    with db.read() as conn:
        origin = load_run_txn(conn, run_id, user_id=user_id)
        _refuse_live(origin, "fork")
        first = None if from_step is None else _step_of(conn, origin, from_step)
        definition = project_store.get_definition_txn(conn, origin["workflow_definition_id"])
    assert definition is not None
    args = _args_with_secrets(db, origin, definition["args_schema"])

    def link_txn(conn: Connection, fork_id: str) -> None:
        _refuse_live(load_run_txn(conn, origin["id"], for_update=True), "fork")
        if first is not None:
            run_store.copy_completed_steps_txn(
                conn, origin["id"], fork_id, before_step_id=first, except_phases=WORKSPACE_PHASES
            )
        run_store.update_run_txn(
            conn, fork_id, forked_from_run_id=origin["id"], forked_from_step=from_step
        )
        where = "from the start" if from_step is None else f"reusing the steps before {from_step}"
        run_store.add_event_txn(
            conn,
            fork_id,
            EventType.WORKFLOW_FORKED,
            f"forked from run {origin['id']}, {where}",
            step_key=from_step,
        )
        run_store.add_event_txn(
            conn,
            origin["id"],
            EventType.FORK_CREATED,
            f"forked into run {fork_id}, {where}",
            step_key=from_step,
        )

    return start_run(
        db,
        origin["project_id"],
        origin["workflow_definition_id"],
        args=args,
        name=origin["name"],
        user_id=owner_id,
        spec_file=origin["spec_file"],
        spec_content=origin["spec_content"],
        spec_type=origin["spec_type"],
        planning_session_id=origin["planning_session_id"],
        mode=origin["mode"],
        base_branch=origin["base_branch"],
        branch_name=origin["branch_name"],
        preserve=bool(origin["preserve"]),
        budget_tokens=origin["budget_tokens"],
        claim_for=claim_for,
        also_txn=link_txn,
    )


def _refuse_live(run: RowMapping, doing: str) -> None:
    if run["status"] == RunStatus.RUNNING and is_live(run):
        raise Conflict(f"run {run['id']} is running in a live worker; it cannot {doing} now")


def _step_of(conn: Connection, run: RowMapping, key: str) -> int:
    """The id of the run's step ``key``; InvalidInput naming the run's steps when none."""
    steps = {step["key"]: step["id"] for step in run_store.steps_of_run_txn(conn, run["id"])}
    if key not in steps:
        known = ", ".join(steps) or "none yet"
        raise InvalidInput(f"run {run['id']} has no step {key!r} (its steps: {known})")
    return int(steps[key])


def _args_with_secrets(db: Database, run: RowMapping, schema_text: str | None) -> dict[str, Any]:
    """The run's args as they were given: its secret ones opened (InvalidInput when they
    cannot be: a fork never gets the ``[redacted]`` placeholder as a value)."""
    stored: dict[str, Any] = json.loads(run["args"])
    schema = json.loads(schema_text) if schema_text else None
    secrets = SecretArgs.beside(db).load(run["id"], stored_args=stored, schema=schema)
    return {**stored, **secrets}
