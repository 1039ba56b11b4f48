"""The JSON objects Stepstone shows: written once, used by the CLI (``--json``) and the API."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from stepstone.worker.lease import is_live

Row = Mapping[Any, Any]


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC (``2026-11-30T10:00:00.123456Z``)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def project_view(project: Row) -> dict[str, Any]:
    return {
        "id": project["id"],
        "name": project["name"],
        "path": project["path"],
        "user_id": project["user_id"],
        "created_at": iso(project["created_at"]),
    }


def definition_view(definition: Row) -> dict[str, Any]:
    return {
        "id": definition["id"],
        "project_id": definition["project_id"],
        "workflow": definition["workflow"],
        "name": definition["name"],
        "description": definition["description"],
        "file_path": definition["file_path"],
        "phases": _json(definition["phases"]),
        "args_schema": _json(definition["args_schema"]),
        "timeout": definition["timeout_seconds"],
        "archived": definition["archived_at"] is not None,
        "updated_at": iso(definition["updated_at"]),
    }


def attempt_view(attempt: Row) -> dict[str, Any]:
    return {
        "attempt": attempt["attempt"],
        "status": attempt["status"],
        "error_message": attempt["error_message"],
        "started_at": iso(attempt["started_at"]),
        "completed_at": iso(attempt["completed_at"]),
    }


def step_view(
    step: Row, attempts: Sequence[Row], *, resumed_at: float | None = None
) -> dict[str, Any]:
    """A step; ``reused`` marks a step that completed before the run's last resume, so the
    resumed execution returned its recorded output instead of running it."""
    reused = (
        resumed_at is not None
        and step["status"] == "completed"
        and (step["completed_at"] or 0.0) < resumed_at
    )
    return {
        "id": step["id"],
        "key": step["key"],
        "name": step["name"],
        "phase": step["phase"],
        "kind": step["kind"],
        "status": step["status"],
        "attempt": step["attempt"],
        "output": _json(step["output"]),
        "error_message": step["error_message"],
        "started_at": iso(step["started_at"]),
        "completed_at": iso(step["completed_at"]),
        "reused": reused,
        "attempts": [attempt_view(a) for a in attempts],
    }


def event_view(event: Row) -> dict[str, Any]:
    return {
        "id": event["id"],
        "type": event["type"],
        "message": event["message"],
        "phase": event["phase"],
        "step_key": event["step_key"],
        "created_at": iso(event["created_at"]),
    }


_RUN_TIMES = ("created_at", "started_at", "completed_at", "paused_at", "cancelled_at", "updated_at")
_RUN_FIELDS = (
    "id",
    "project_id",
    "user_id",
    "workflow_definition_id",
    "workflow",
    "name",
    "status",
    "spec_file",
    "spec_content",
    "spec_type",
    "planning_session_id",
    "mode",
    "base_branch",
    "branch_name",
    "worktree_name",
    "working_dir",
    "current_phase",
    "error_message",
    "resume_count",
)


def run_summary_view(run: Row) -> dict[str, Any]:
    """A run without its steps and events (listings)."""
    view: dict[str, Any] = {name: run[name] for name in _RUN_FIELDS}
    view["args"] = _json(run["args"])
    view["result"] = _json(run["result"])
    view["is_live"] = is_live(run)
    view.update({name: iso(run[name]) for name in _RUN_TIMES})
    return view


def run_view(
    run: Row, steps: Sequence[Row], attempts: Sequence[Row], events: Sequence[Row]
) -> dict[str, Any]:
    """The run object of SPEC 6: the run with its steps (each with its attempts) and events."""
    attempts_by_step: dict[int, list[Row]] = defaultdict(list)
    for attempt in attempts:
        attempts_by_step[attempt["step_id"]].append(attempt)
    resumes = [event["created_at"] for event in events if event["type"] == "workflow_resumed"]
    resumed_at = max(resumes, default=None)
    view = run_summary_view(run)
    view["steps"] = [
        step_view(step, attempts_by_step[step["id"]], resumed_at=resumed_at) for step in steps
    ]
    view["events"] = [event_view(event) for event in events]
    return view


def log_view(line: Row) -> dict[str, Any]:
    return {
        "id": line["id"],
        "step_key": line["step_key"],
        "phase": line["phase"],
        "stream": line["stream"],
        "line": line["line"],
        "created_at": iso(line["created_at"]),
    }
