"""Use cases on runs: start, show, list, resume, pause, cancel, logs (SPEC 3.7, 3.8)."""

from __future__ import annotations

import base64
import json
import math
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, RowMapping

from stepstone.errors import Conflict, Forbidden, InvalidInput, NotFound, NotResumable
from stepstone.services.args import validate_args
from stepstone.services.projects import (
    path_kind,
    resolve_project_txn,
    resolved_path,
    sync_definitions,
)
from stepstone.services.workspaces import plan_workspace
from stepstone.steps.artifact import remove_run_folder
from stepstone.store import leases, secret_args, waiting
from stepstone.store import projects as project_store
from stepstone.store import runs as store
from stepstone.store.database import Database
from stepstone.store.integers import BIGINT_MAX
from stepstone.store.journal import dumps
from stepstone.store.leases import LeaseHolder, is_live
from stepstone.store.records import (
    LogLine,
    Run,
    RunSummary,
    log_record,
    run_record,
    run_summary_record,
)
from stepstone.store.recovery import resume_txn
from stepstone.store.secret_args import SecretArgs
from stepstone.vocabulary import (
    RESUMABLE_RUN_STATUSES,
    TERMINAL_RUN_STATUSES,
    EventType,
    RunStatus,
)

MIN_ID_PREFIX = 4


def expand_run_ref(db: Database, ref: str) -> str:
    """A run id from a full id or a unique prefix of at least four characters (the CLI's
    shorthand; the API takes full ids only)."""
    ref = ref.strip().lower()
    if _is_uuid(ref):
        return ref
    with db.read() as conn:
        matches = store.find_runs_by_prefix_txn(conn, ref) if len(ref) >= MIN_ID_PREFIX else []
    if len(matches) > 1:
        raise NotFound(f"run id {ref!r} is ambiguous; give more characters")
    if not matches:
        raise NotFound(f"no run {ref!r}")
    return matches[0]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def load_run_txn(
    conn: Connection, run_id: str, *, user_id: str | None = None, for_update: bool = False
) -> RowMapping:
    """The run ``run_id``; NotFound for unknown or malformed ids, Forbidden when ``user_id``
    is given and the run is not theirs (runs started from the CLI belong to no one: only
    callers who see every run, ``user_id`` None, reach them)."""
    run = store.get_run_txn(conn, run_id, for_update=for_update) if _is_uuid(run_id) else None
    if run is None:
        raise NotFound(f"no run {run_id!r}")
    if user_id is not None and run["user_id"] != user_id:
        raise Forbidden(f"run {run_id} belongs to another user")
    return run


def view_run_txn(conn: Connection, run_id: str, *, user_id: str | None = None) -> Run:
    """The run object of the API (with its steps, attempts, events and forks: only
    ``user_id``'s when given)."""
    run = store.get_run_txn(conn, run_id)
    assert run is not None
    return run_record(
        run,
        store.steps_of_run_txn(conn, run_id),
        store.attempts_of_run_txn(conn, run_id),
        store.events_of_run_txn(conn, run_id),
        store.forks_of_run_txn(conn, run_id, user_id=user_id),
    )


def run_fingerprint(db: Database, run_id: str, *, user_id: str | None = None) -> tuple[Any, ...]:
    """A cheap value that changes whenever the run object of :func:`get_run` would (its
    rows, its steps and attempts, its events, its forks, its liveness, who looks); checks
    access like it."""
    row = store.run_fingerprint_row(db.engine, run_id) if _is_uuid(run_id) else None
    if row is None:
        raise NotFound(f"no run {run_id!r}")
    if user_id is not None and row["user_id"] != user_id:
        raise Forbidden(f"run {run_id} belongs to another user")
    heads = (row["updated_at"], row["steps_updated_at"], row["last_event_id"], row["forks"])
    return (*heads, is_live(row), user_id)


def get_run(db: Database, run_id: str, *, user_id: str | None = None) -> Run:
    """The run object of SPEC 6, with steps, attempts and events."""
    with db.read() as conn:
        return view_run_txn(
            conn, load_run_txn(conn, run_id, user_id=user_id)["id"], user_id=user_id
        )


def list_runs(
    db: Database,
    *,
    project_ref: str | None = None,
    status: str | None = None,
    search: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    user_id: str | None = None,
) -> tuple[list[RunSummary], str | None]:
    """Runs newest first, and the cursor of the next page (None on the last page)."""
    after = _decode_cursor(cursor) if cursor else None
    limit = min(limit, BIGINT_MAX - 1)  # more than any table holds: all of them
    with db.read() as conn:
        project_id = resolve_project_txn(conn, project_ref)["id"] if project_ref else None
        rows = store.list_runs_txn(
            conn,
            project_id=project_id,
            status=status,
            search=search,
            user_id=user_id,
            after=after,
            limit=limit + 1,
        )
    page = [run_summary_record(row) for row in rows[:limit]]
    more = len(rows) > limit
    return page, _encode_cursor(rows[limit - 1]) if more and page else None


def _encode_cursor(row: RowMapping) -> str:
    raw = json.dumps([row["created_at"], row["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    """The ``(created_at, id)`` a cursor of :func:`_encode_cursor` holds; InvalidInput for
    any other text (a number past what a float holds, NaN, digits in a string…)."""
    refused = InvalidInput("cursor is not one this server gave out")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError) as exc:
        raise refused from exc
    match decoded:
        case [float(created_at), str(run_id)] if math.isfinite(created_at):
            return created_at, run_id
    raise refused


def start_run(
    db: Database,
    project_ref: str,
    workflow: str,
    *,
    args: dict[str, Any] | None = None,
    name: str | None = None,
    user_id: str | None = None,
    spec_file: str | None = None,
    spec_content: str | None = None,
    spec_type: str | None = None,
    planning_session_id: str | None = None,
    mode: str = "stay",
    base_branch: str | None = None,
    branch_name: str | None = None,
    preserve: bool = False,
    budget_tokens: int | None = None,
    claim_for: LeaseHolder | None = None,
    also_txn: Callable[[Connection, str], None] | None = None,
) -> Run:
    """Queue a run of ``workflow`` (its id, or its definition id) after checking everything
    that can be checked now; bad input changes nothing. With ``claim_for`` the run is not
    queued but taken by that holder in the same transaction (``--inline``): it starts
    ``running``, so if the holder dies it is an interrupted run that resumes at once.
    ``also_txn(conn, run_id)`` writes more in the run's own transaction, before any worker
    can take it (a fork's reused steps)."""
    args = {} if args is None else args
    with db.read() as conn:
        project = resolve_project_txn(conn, project_ref)
    sync_definitions(db, project)
    run_id = str(uuid.uuid4())
    workspace = plan_workspace(
        project["path"], run_id, mode=mode, base_branch=base_branch, branch_name=branch_name
    )
    _check_budget(budget_tokens)
    if spec_file is not None:
        spec_file = _checked_spec_file(Path(project["path"]), spec_file)
    with db.transaction() as conn:
        definition = _find_definition_txn(conn, project, workflow)
        schema = json.loads(definition["args_schema"]) if definition["args_schema"] else None
        validate_args(args, schema)
        stored_args, secret_values = secret_args.split(args, schema)
        store.insert_run_txn(
            conn,
            {
                "project_id": project["id"],
                "user_id": user_id,
                "workflow_definition_id": definition["id"],
                "workflow": definition["workflow"],
                "name": name or definition["name"],
                "args": dumps(stored_args),
                "spec_file": spec_file,
                "spec_content": spec_content,
                "spec_type": spec_type,
                "planning_session_id": planning_session_id,
                "mode": workspace.mode,
                "base_branch": workspace.base_branch,
                "branch_name": workspace.branch_name,
                "worktree_name": workspace.worktree_name,
                "working_dir": workspace.working_dir,
                "preserve": preserve,
                "budget_tokens": budget_tokens,
            },
            run_id=run_id,
        )
        # Sealed in the run's own transaction: a run never exists without its secrets.
        SecretArgs.beside(db).save_txn(conn, run_id, secret_values)
        if also_txn is not None:
            also_txn(conn, run_id)
        if claim_for is not None:
            leases.claim_run_txn(conn, run_id, claim_for)
        return view_run_txn(conn, run_id)


def _check_budget(budget_tokens: int | None) -> None:
    if budget_tokens is not None and not 1 <= budget_tokens <= BIGINT_MAX:
        raise InvalidInput(
            f"budget_tokens must be a positive number of tokens, at most {BIGINT_MAX}"
        )


def _checked_spec_file(project_path: Path, spec_file: str) -> str:
    root = project_path.resolve()
    path = resolved_path(spec_file, base=project_path)
    if not path.is_relative_to(root):
        raise InvalidInput(f"spec file {spec_file} is outside the project")
    if path_kind(path) != "file":
        raise InvalidInput(f"spec file {spec_file} does not exist in the project")
    return str(path.relative_to(root))


def _find_definition_txn(conn: Connection, project: RowMapping, workflow: str) -> RowMapping:
    definitions = project_store.definitions_of_project_txn(conn, project["id"])
    for definition in definitions:
        if workflow in (definition["workflow"], definition["id"]):
            if definition["archived_at"] is not None:
                raise InvalidInput(
                    f"workflow {workflow!r} is archived: its file {definition['file_path']} is gone"
                )
            return definition
    errors = project_store.definition_errors_txn(conn, project["id"])
    hint = "; files that failed to load: " + ", ".join(e["file_path"] for e in errors)
    raise NotFound(
        f"project {project['name']!r} has no workflow {workflow!r}" + (hint if errors else "")
    )


def sync_definitions_of_run(db: Database, run_id: str, *, user_id: str | None = None) -> None:
    """Import the definition files of the run's project again where they changed, before a
    run is queued again: a claimed run's lease starts at once, and a slow import must not
    eat it before the first heartbeat. Checks access to the run like :func:`load_run_txn`."""
    with db.read() as conn:
        project_id = load_run_txn(conn, run_id, user_id=user_id)["project_id"]
        project = project_store.find_project_txn(conn, id=project_id)
    assert project is not None
    sync_definitions(db, project)


def resume_run(
    db: Database,
    run_id: str,
    *,
    user_id: str | None = None,
    budget_tokens: int | None = None,
    claim_for: LeaseHolder | None = None,
) -> Run:
    """Queue an interrupted, paused or failed run again (SPEC 3.7). Completed steps will be
    reused; interrupted and failed steps run again with the current code. ``budget_tokens``
    sets a new token budget (a run stopped by its budget goes on). ``claim_for`` as for
    :func:`start_run`."""
    _check_budget(budget_tokens)
    sync_definitions_of_run(db, run_id, user_id=user_id)
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        status = run["status"]
        if status not in RESUMABLE_RUN_STATUSES:
            raise NotResumable(
                f"run {run['id']} is {status}; only interrupted, paused or failed runs resume"
            )
        if status == RunStatus.RUNNING and is_live(run):
            raise Conflict(f"run {run['id']} is running in a live worker; it cannot resume now")
        budget: dict[str, Any] = {} if budget_tokens is None else {"budget_tokens": budget_tokens}
        resume_txn(conn, run, f"resumed from {status}", **budget)
        if claim_for is not None:
            leases.claim_run_txn(conn, run["id"], claim_for)
        return view_run_txn(conn, run["id"], user_id=user_id)


def pause_run(db: Database, run_id: str, *, user_id: str | None = None) -> Run:
    """Pause at the next step boundary: a live run is asked to, a queued, interrupted or
    waiting one is paused at once (a resume then waits again)."""
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        if run["status"] not in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING):
            raise NotResumable(f"run {run['id']} is {run['status']}; only active runs pause")
        if is_live(run):
            store.update_run_txn(conn, run["id"], pause_requested=True)
            store.add_event_txn(conn, run["id"], EventType.PAUSE_REQUESTED)
        else:
            store.reset_running_steps_txn(conn, run["id"])
            waiting.unpark_txn(conn, run["id"])
            store.update_run_txn(
                conn, run["id"], status=RunStatus.PAUSED, paused_at=time.time(), **leases.NO_LEASE
            )
            store.add_event_txn(conn, run["id"], EventType.WORKFLOW_PAUSED)
        return view_run_txn(conn, run["id"], user_id=user_id)


def cancel_run(db: Database, run_id: str, *, user_id: str | None = None) -> Run:
    """Cancel now: a live run's worker kills the running step; any other unfinished run is
    cancelled at once. Cancelled is final."""
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        if run["status"] in TERMINAL_RUN_STATUSES:
            raise NotResumable(f"run {run['id']} is {run['status']} already")
        if is_live(run):
            store.update_run_txn(conn, run["id"], cancel_requested=True)
            store.add_event_txn(conn, run["id"], EventType.CANCEL_REQUESTED)
        else:
            now = time.time()
            store.update_run_txn(
                conn,
                run["id"],
                status=RunStatus.CANCELLED,
                cancelled_at=now,
                completed_at=now,
                current_phase=None,
                waiting_for=None,
                wake_at=None,
                **leases.NO_LEASE,
            )
            store.cancel_unfinished_steps_txn(conn, run["id"])
            store.add_event_txn(conn, run["id"], EventType.WORKFLOW_CANCELLED)
        return view_run_txn(conn, run["id"], user_id=user_id)


def cancel_and_wait(
    db: Database, run_id: str, *, wait_seconds: float, user_id: str | None = None
) -> Run:
    """Cancel, then wait up to ``wait_seconds`` for the run's worker to confirm it (the
    run as it is then)."""
    cancelled = cancel_run(db, run_id, user_id=user_id)
    deadline = time.monotonic() + wait_seconds
    while cancelled["status"] != RunStatus.CANCELLED and time.monotonic() < deadline:
        time.sleep(0.1)
        cancelled = get_run(db, cancelled["id"], user_id=user_id)
    return cancelled


def run_logs(
    db: Database,
    run_id: str,
    *,
    step: str | None = None,
    after_id: int = 0,
    user_id: str | None = None,
) -> list[LogLine]:
    """The run's output lines, or one step's (``step``: its key or id)."""
    with db.read() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id)
        step_key = None
        if step is not None:
            found = store.find_step_txn(conn, run["id"], step)
            if found is None:
                raise NotFound(f"run {run['id']} has no step {step!r}")
            step_key = found["key"]
        lines = store.logs_of_run_txn(conn, run["id"], step_key=step_key, after_id=after_id)
        return [log_record(line) for line in lines]


def delete_run(
    db: Database, run_id: str, *, artifacts_dir: Path, user_id: str | None = None
) -> None:
    """Delete a run with its steps, events, logs, artifacts (their files in
    ``artifacts_dir`` too) and secret args; refused while a worker executes it."""
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        if is_live(run):
            raise Conflict(f"run {run['id']} is running in a live worker; cancel it first")
        store.delete_run_txn(conn, run["id"])
    # After the commit: a failed delete keeps the files its rows point to.
    remove_run_folder(artifacts_dir, run["id"])
    SecretArgs.beside(db).remove(run["id"])
