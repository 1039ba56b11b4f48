"""Use cases on runs: start, show, list, resume, pause, cancel, logs (SPEC 3.7, 3.8)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, RowMapping

from stepstone.errors import Conflict, InvalidInput, NotFound, NotResumable
from stepstone.services.args import validate_args
from stepstone.services.projects import resolve_project_txn, sync_definitions
from stepstone.services.views import log_view, run_summary_view, run_view
from stepstone.store import projects as project_store
from stepstone.store import runs as store
from stepstone.store.database import Database
from stepstone.store.journal import dumps
from stepstone.worker.lease import is_live

RESUMABLE_STATUSES = ("running", "paused", "failed")
RUN_MODES = ("stay", "branch", "worktree")
MIN_ID_PREFIX = 4


def resolve_run_txn(conn: Connection, ref: str, *, for_update: bool = False) -> RowMapping:
    """A run by id, or by a unique prefix of at least four characters."""
    ref = ref.strip().lower()
    run_id = ref
    try:
        uuid.UUID(ref)
    except ValueError:
        matches = store.find_runs_by_prefix_txn(conn, ref) if len(ref) >= MIN_ID_PREFIX else []
        if len(matches) > 1:
            raise NotFound(f"run id {ref!r} is ambiguous; give more characters") from None
        if not matches:
            raise NotFound(f"no run {ref!r}") from None
        run_id = matches[0]
    run = store.get_run_txn(conn, run_id, for_update=for_update)
    if run is None:
        raise NotFound(f"no run {ref!r}")
    return run


def _view_txn(conn: Connection, run_id: str) -> dict[str, Any]:
    run = store.get_run_txn(conn, run_id)
    assert run is not None
    return run_view(
        run,
        store.steps_of_run_txn(conn, run_id),
        store.attempts_of_run_txn(conn, run_id),
        store.events_of_run_txn(conn, run_id),
    )


def get_run(db: Database, ref: str) -> dict[str, Any]:
    """The run object of SPEC 6, with steps, attempts and events."""
    with db.transaction() as conn:
        return _view_txn(conn, resolve_run_txn(conn, ref)["id"])


def list_runs(
    db: Database, *, project_ref: str | None = None, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    with db.transaction() as conn:
        project_id = resolve_project_txn(conn, project_ref)["id"] if project_ref else None
        rows = store.list_runs_txn(conn, project_id=project_id, status=status, limit=limit)
        return [run_summary_view(row) for row in rows]


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
) -> dict[str, Any]:
    """Queue a run of ``workflow`` (its id, or its definition id) after checking everything
    that can be checked now; bad input changes nothing."""
    args = {} if args is None else args
    with db.transaction() as conn:
        project = resolve_project_txn(conn, project_ref)
    sync_definitions(db, project)
    if mode not in RUN_MODES:
        raise InvalidInput(f"mode must be one of {', '.join(RUN_MODES)}, not {mode!r}")
    if mode != "stay":
        raise InvalidInput(f"mode {mode!r} is not available yet; use 'stay'")
    if spec_file is not None:
        spec_file = _checked_spec_file(Path(project["path"]), spec_file)
    with db.transaction() as conn:
        definition = _find_definition_txn(conn, project, workflow)
        schema = json.loads(definition["args_schema"]) if definition["args_schema"] else None
        validate_args(args, schema)
        run_id = store.insert_run_txn(
            conn,
            {
                "project_id": project["id"],
                "user_id": user_id,
                "workflow_definition_id": definition["id"],
                "workflow": definition["workflow"],
                "name": name or definition["name"],
                "args": dumps(args),
                "spec_file": spec_file,
                "spec_content": spec_content,
                "spec_type": spec_type,
                "planning_session_id": planning_session_id,
                "mode": mode,
                "base_branch": base_branch,
                "branch_name": branch_name,
                "working_dir": project["path"],
            },
        )
        return _view_txn(conn, run_id)


def _checked_spec_file(project_path: Path, spec_file: str) -> str:
    path = (project_path / spec_file).resolve()
    if not path.is_relative_to(project_path.resolve()):
        raise InvalidInput(f"spec file {spec_file} is outside the project")
    if not path.is_file():
        raise InvalidInput(f"spec file {spec_file} does not exist in the project")
    return str(path.relative_to(project_path.resolve()))


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


def resume_run(db: Database, ref: str) -> dict[str, Any]:
    """Queue an interrupted, paused or failed run again (SPEC 3.7). Completed steps will be
    reused; interrupted and failed steps run again with the current code."""
    with db.transaction() as conn:
        run = resolve_run_txn(conn, ref, for_update=True)
        status = run["status"]
        if status not in RESUMABLE_STATUSES:
            raise NotResumable(
                f"run {run['id']} is {status}; only interrupted, paused or failed runs resume"
            )
        if status == "running" and is_live(run):
            raise Conflict(f"run {run['id']} is running in a live worker; it cannot resume now")
        store.reset_running_steps_txn(conn, run["id"])
        store.update_run_txn(
            conn,
            run["id"],
            status="pending",
            error_message=None,
            completed_at=None,
            resume_count=run["resume_count"] + 1,
            **store.NO_LEASE,
        )
        store.add_event_txn(conn, run["id"], "workflow_resumed", f"resumed from {status}")
        project = project_store.find_project_txn(conn, id=run["project_id"])
    assert project is not None
    sync_definitions(db, project)
    return get_run(db, run["id"])


def pause_run(db: Database, ref: str) -> dict[str, Any]:
    """Pause at the next step boundary: a live run is asked to, a queued or interrupted one
    is paused at once."""
    with db.transaction() as conn:
        run = resolve_run_txn(conn, ref, for_update=True)
        if run["status"] not in ("pending", "running"):
            raise NotResumable(f"run {run['id']} is {run['status']}; only active runs pause")
        if is_live(run):
            store.update_run_txn(conn, run["id"], pause_requested=True)
            store.add_event_txn(conn, run["id"], "pause_requested")
        else:
            store.reset_running_steps_txn(conn, run["id"])
            store.update_run_txn(
                conn, run["id"], status="paused", paused_at=time.time(), **store.NO_LEASE
            )
            store.add_event_txn(conn, run["id"], "workflow_paused")
        return _view_txn(conn, run["id"])


def cancel_run(db: Database, ref: str) -> dict[str, Any]:
    """Cancel now: a live run's worker kills the running step; any other unfinished run is
    cancelled at once. Cancelled is final."""
    with db.transaction() as conn:
        run = resolve_run_txn(conn, ref, for_update=True)
        if run["status"] in store.TERMINAL_STATUSES:
            raise NotResumable(f"run {run['id']} is {run['status']} already")
        if is_live(run):
            store.update_run_txn(conn, run["id"], cancel_requested=True)
            store.add_event_txn(conn, run["id"], "cancel_requested")
        else:
            now = time.time()
            store.update_run_txn(
                conn,
                run["id"],
                status="cancelled",
                cancelled_at=now,
                completed_at=now,
                current_phase=None,
                **store.NO_LEASE,
            )
            store.cancel_unfinished_steps_txn(conn, run["id"])
            store.add_event_txn(conn, run["id"], "workflow_cancelled")
        return _view_txn(conn, run["id"])


def run_logs(
    db: Database, ref: str, *, step_key: str | None = None, after_id: int = 0
) -> list[dict[str, Any]]:
    with db.transaction() as conn:
        run = resolve_run_txn(conn, ref)
        return [
            log_view(line)
            for line in store.logs_of_run_txn(conn, run["id"], step_key=step_key, after_id=after_id)
        ]
