"""The records Stepstone shows (SPEC 6), each defined once: the CLI's ``--json``, the HTTP
API's answers (their OpenAPI components carry these names), the live messages and the UI's
generated types all use these shapes. Each has a builder from journal rows.

``TypedDict`` from ``typing_extensions``: pydantic (FastAPI's response models) needs it
before Python 3.12.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from typing_extensions import TypedDict

from stepstone.store.journal import add_usages
from stepstone.store.leases import is_live
from stepstone.store.waiting import waiting_for_of
from stepstone.vocabulary import AttemptStatus, EventType, RunStatus, StepStatus

Row = Mapping[Any, Any]


class User(TypedDict):
    id: str
    email: str
    is_admin: bool


class UserAccount(User):
    """A user as ``stepstone user list`` shows them."""

    disabled: bool
    created_at: float


class Project(TypedDict):
    id: str
    name: str
    path: str
    user_id: str | None
    max_concurrent_runs: int | None
    """At most this many of its runs execute at once, across every worker (None: no limit)."""
    created_at: str | None


class Phase(TypedDict):
    id: str
    label: str


class Definition(TypedDict):
    id: str
    project_id: str
    workflow: str
    name: str
    description: str | None
    file_path: str
    phases: list[Phase]
    args_schema: dict[str, Any] | None
    timeout: float | None
    archived: bool
    updated_at: str | None


class DefinitionError(TypedDict):
    file_path: str
    error: str


class DefinitionList(TypedDict):
    project: Project
    definitions: list[Definition]
    errors: list[DefinitionError]


class Attempt(TypedDict):
    attempt: int
    status: AttemptStatus
    error_message: str | None
    started_at: str | None
    completed_at: str | None


class Usage(TypedDict):
    """Tokens an agent used (summed over attempts, or over a run's steps), and their price
    in dollars where it is known (None: not for every step)."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost_usd: float | None


class StepSummary(TypedDict):
    """A step without its attempts (what live messages carry)."""

    id: int
    key: str
    name: str
    phase: str | None
    kind: str
    status: StepStatus
    attempt: int
    output: Any
    error_message: str | None
    started_at: str | None
    completed_at: str | None
    reused: bool
    session_id: str | None
    """An agent step's session (continued when the step runs again)."""
    usage: Usage | None


class Step(StepSummary):
    attempts: list[Attempt]


class Event(TypedDict):
    id: int
    type: EventType
    message: str | None
    phase: str | None
    step_key: str | None
    reason: str | None
    created_at: str | None


class ForkedFrom(TypedDict):
    """Where a fork came from: the run, and the step it went again from (None: from the
    start)."""

    run_id: str
    step_key: str | None


class WaitingFor(TypedDict):
    """What a waiting run waits for (SPEC 3.12): a ``sleep`` to end, an ``event`` (named
    ``event``) or an ``approval`` (asking ``prompt``), on the step ``step_key``; ``until``
    when the sleep ends or the wait gives up (None: no limit)."""

    kind: Literal["sleep", "event", "approval"]
    step_key: str
    until: str | None
    event: str | None
    prompt: str | None


class Fork(TypedDict):
    """A run forked from this one."""

    run_id: str
    from_step: str | None
    created_at: str | None


class RunSummary(TypedDict):
    id: str
    project_id: str
    user_id: str | None
    workflow_definition_id: str
    workflow: str
    name: str
    status: RunStatus
    args: dict[str, Any]
    result: Any
    spec_file: str | None
    spec_content: str | None
    spec_type: str | None
    planning_session_id: str | None
    mode: str
    base_branch: str | None
    branch_name: str | None
    worktree_name: str | None
    working_dir: str
    current_phase: str | None
    error_message: str | None
    resume_count: int
    is_live: bool
    preserve: bool
    budget_tokens: int | None
    pr_url: str | None
    forked_from: ForkedFrom | None
    waiting_for: WaitingFor | None
    created_at: str | None
    started_at: str | None
    completed_at: str | None
    paused_at: str | None
    cancelled_at: str | None
    updated_at: str | None


class Run(RunSummary):
    steps: list[Step]
    events: list[Event]
    forks: list[Fork]
    usage: Usage | None
    """What the run's agent steps used, in all (None: no agent step used any)."""


class EventDelivery(TypedDict):
    """What became of an event sent to a run: ``duplicate`` when its id was delivered
    before (nothing changed); ``woke`` when the run was waiting for it and is queued again
    (else it is kept for the first wait for its name)."""

    run_id: str
    name: str
    id: str | None
    duplicate: bool
    woke: bool


class LogLine(TypedDict):
    id: int
    step_key: str | None
    phase: str | None
    stream: str
    line: str
    created_at: str | None


class Artifact(TypedDict):
    """A file a run saved (``ctx.step.artifact``); download it by ``id``."""

    id: str
    name: str
    step_key: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: str | None


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC (``2026-11-30T10:00:00.123456Z``)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def user_record(user: Row) -> User:
    return {"id": user["id"], "email": user["email"], "is_admin": bool(user["is_admin"])}


def user_account_record(user: Row) -> UserAccount:
    return {
        **user_record(user),
        "disabled": user["disabled_at"] is not None,
        "created_at": user["created_at"],
    }


def project_record(project: Row) -> Project:
    return {
        "id": project["id"],
        "name": project["name"],
        "path": project["path"],
        "user_id": project["user_id"],
        "max_concurrent_runs": project["max_concurrent_runs"],
        "created_at": iso(project["created_at"]),
    }


def definition_record(definition: Row) -> Definition:
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


def attempt_record(attempt: Row) -> Attempt:
    return {
        "attempt": attempt["attempt"],
        "status": attempt["status"],
        "error_message": attempt["error_message"],
        "started_at": iso(attempt["started_at"]),
        "completed_at": iso(attempt["completed_at"]),
    }


def step_summary_record(step: Row, *, resumed_at: float | None = None) -> StepSummary:
    """A step; ``reused`` marks a step that completed before the run's last resume, so the
    resumed execution returned its recorded output instead of running it."""
    reused = (
        resumed_at is not None
        and step["status"] == StepStatus.COMPLETED
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
        "session_id": step["session_id"],
        "usage": _json(step["usage"]),
    }


def step_record(step: Row, attempts: Sequence[Row], *, resumed_at: float | None = None) -> Step:
    return {
        **step_summary_record(step, resumed_at=resumed_at),
        "attempts": [attempt_record(a) for a in attempts],
    }


def event_record(event: Row) -> Event:
    return {
        "id": event["id"],
        "type": event["type"],
        "message": event["message"],
        "phase": event["phase"],
        "step_key": event["step_key"],
        "reason": event["reason"],
        "created_at": iso(event["created_at"]),
    }


def _waiting_for(run: Row) -> WaitingFor | None:
    waits = waiting_for_of(run)
    if waits is None:
        return None
    return {
        "kind": waits["kind"],
        "step_key": waits["step_key"],
        "until": iso(waits["until"]),
        "event": waits["event"],
        "prompt": waits["prompt"],
    }


def run_summary_record(run: Row) -> RunSummary:
    """A run without its steps and events (listings)."""
    return {
        "id": run["id"],
        "project_id": run["project_id"],
        "user_id": run["user_id"],
        "workflow_definition_id": run["workflow_definition_id"],
        "workflow": run["workflow"],
        "name": run["name"],
        "status": run["status"],
        "args": _json(run["args"]),
        "result": _json(run["result"]),
        "spec_file": run["spec_file"],
        "spec_content": run["spec_content"],
        "spec_type": run["spec_type"],
        "planning_session_id": run["planning_session_id"],
        "mode": run["mode"],
        "base_branch": run["base_branch"],
        "branch_name": run["branch_name"],
        "worktree_name": run["worktree_name"],
        "working_dir": run["working_dir"],
        "current_phase": run["current_phase"],
        "error_message": run["error_message"],
        "resume_count": run["resume_count"],
        "is_live": is_live(run),
        "preserve": bool(run["preserve"]),
        "budget_tokens": run["budget_tokens"],
        "pr_url": run["pr_url"],
        "forked_from": (
            None
            if run["forked_from_run_id"] is None
            else {"run_id": run["forked_from_run_id"], "step_key": run["forked_from_step"]}
        ),
        "waiting_for": _waiting_for(run),
        "created_at": iso(run["created_at"]),
        "started_at": iso(run["started_at"]),
        "completed_at": iso(run["completed_at"]),
        "paused_at": iso(run["paused_at"]),
        "cancelled_at": iso(run["cancelled_at"]),
        "updated_at": iso(run["updated_at"]),
    }


QUEUED_AGAIN_EVENTS = frozenset(
    {EventType.WORKFLOW_RESUMED, EventType.WORKFLOW_RETRIED, EventType.WORKFLOW_FORKED}
)
"""After these, a step completed before (or copied from a fork's origin) is reused by the
next execution."""


def run_record(
    run: Row,
    steps: Sequence[Row],
    attempts: Sequence[Row],
    events: Sequence[Row],
    forks: Sequence[Row] = (),
) -> Run:
    """The run object of SPEC 6: the run with its steps (each with its attempts), events
    and forks."""
    attempts_by_step: dict[int, list[Row]] = defaultdict(list)
    for attempt in attempts:
        attempts_by_step[attempt["step_id"]].append(attempt)
    resumes = [e["created_at"] for e in events if e["type"] in QUEUED_AGAIN_EVENTS]
    resumed_at = max(resumes, default=None)
    step_records = [
        step_record(step, attempts_by_step[step["id"]], resumed_at=resumed_at) for step in steps
    ]
    return {
        **run_summary_record(run),
        "steps": step_records,
        "events": [event_record(event) for event in events],
        "forks": [
            {
                "run_id": fork["id"],
                "from_step": fork["forked_from_step"],
                "created_at": iso(fork["created_at"]),
            }
            for fork in forks
        ],
        "usage": total_usage(step["usage"] for step in step_records),
    }


def total_usage(usages: Iterable[Usage | None]) -> Usage | None:
    """The sum of ``usages`` (None when there is none)."""
    known: list[Any] = [usage for usage in usages if usage is not None]
    return functools.reduce(add_usages, known) if known else None


def log_record(line: Row) -> LogLine:
    return {
        "id": line["id"],
        "step_key": line["step_key"],
        "phase": line["phase"],
        "stream": line["stream"],
        "line": line["line"],
        "created_at": iso(line["created_at"]),
    }


def artifact_record(artifact: Row) -> Artifact:
    return {
        "id": artifact["id"],
        "name": artifact["name"],
        "step_key": artifact["step_key"],
        "content_type": artifact["content_type"],
        "size_bytes": artifact["size_bytes"],
        "sha256": artifact["sha256"],
        "created_at": iso(artifact["created_at"]),
    }
