"""Runs (``/api/workflows``): start, list, show, resume, retry, fork, pause, cancel, delete,
events and approvals, logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from stepstone.api.auth import CurrentUser, runs_visible_to
from stepstone.api.run_cache import json_bytes
from stepstone.api.schemas import (
    ApprovalDecision,
    EventSend,
    ForkRequest,
    ResumeRequest,
    RetryRequest,
    RunCreate,
    RunPage,
    error_responses,
)
from stepstone.errors import InvalidInput
from stepstone.services import artifacts as artifact_services
from stepstone.services import reruns, waits
from stepstone.services import runs as services
from stepstone.services.projects import get_project_by_id
from stepstone.store.records import Artifact, EventDelivery, LogLine, Run
from stepstone.vocabulary import RunStatus

router = APIRouter(prefix="/workflows")
CONTROL_ERRORS = error_responses(400, 403, 404, 409)


def _changed(request: Request, run: Run) -> Run:
    """Announce the run as this request left it, and wake the in-process worker and feed."""
    request.app.state.observe_run(run)
    request.app.state.wake()
    return run


@router.post("", response_model=Run, status_code=201, responses=error_responses(400, 404))
def create_run(body: RunCreate, request: Request, user: CurrentUser) -> Run:
    """Queue a run; the args are checked against the workflow's JSON Schema first."""
    workflow = body.workflow_definition_id or body.workflow
    if workflow is None:
        raise InvalidInput("give workflow_definition_id or workflow")
    db = request.app.state.db
    run = services.start_run(
        db,
        get_project_by_id(db, body.project_id)["id"],
        workflow,
        args=body.args,
        name=body.name,
        user_id=user["id"],
        spec_file=body.spec_file,
        spec_content=body.spec_content,
        spec_type=body.spec_type,
        planning_session_id=body.planning_session_id,
        mode=body.mode,
        base_branch=body.base_branch,
        branch_name=body.branch_name,
        preserve=body.preserve,
        budget_tokens=body.budget_tokens,
    )
    return _changed(request, run)


@router.get("", response_model=RunPage, responses=error_responses(404))
def list_runs(
    request: Request,
    user: CurrentUser,
    project_id: str | None = None,
    status: RunStatus | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> RunPage:
    """Your runs, newest first, a page at a time (pass ``next_cursor`` back as ``cursor``)."""
    db = request.app.state.db
    if project_id is not None:
        project_id = get_project_by_id(db, project_id)["id"]
    runs, next_cursor = services.list_runs(
        db,
        project_ref=project_id,
        status=status,
        search=search,
        limit=limit,
        cursor=cursor,
        user_id=runs_visible_to(user),
    )
    return RunPage(data=runs, next_cursor=next_cursor)


@router.get("/{run_id}", response_model=Run, responses=error_responses(403, 404))
async def get_run(run_id: str, request: Request, user: CurrentUser) -> Response:
    """The run with its steps (each with its attempts) and its events."""
    db, cache = request.app.state.db, request.app.state.run_cache
    # One small indexed read on the loop; the costly build only when the run changed.
    fingerprint = services.run_fingerprint(db, run_id, user_id=runs_visible_to(user))
    body = cache.get(run_id, fingerprint)
    if body is None:
        run = await run_in_threadpool(services.get_run, db, run_id, user_id=runs_visible_to(user))
        body = json_bytes(run)
        cache.put(run_id, fingerprint, body)
    return Response(body, media_type="application/json")


@router.post("/{run_id}/resume", response_model=Run, responses=CONTROL_ERRORS)
def resume_run(
    run_id: str, request: Request, user: CurrentUser, body: ResumeRequest | None = None
) -> Run:
    """Continue an interrupted, paused or failed run: completed steps are reused. The body
    may set a new token budget."""
    budget = None if body is None else body.budget_tokens
    run = services.resume_run(
        request.app.state.db, run_id, user_id=runs_visible_to(user), budget_tokens=budget
    )
    return _changed(request, run)


@router.post("/{run_id}/retry", response_model=Run, responses=CONTROL_ERRORS)
def retry_run(run_id: str, body: RetryRequest, request: Request, user: CurrentUser) -> Run:
    """Run a failed, paused, completed or interrupted run again from the step ``from_step``:
    the steps before it are reused, it and the steps after it run again."""
    run = reruns.retry_run(
        request.app.state.db, run_id, body.from_step, user_id=runs_visible_to(user)
    )
    return _changed(request, run)


@router.post("/{run_id}/fork", response_model=Run, status_code=201, responses=CONTROL_ERRORS)
def fork_run(
    run_id: str, request: Request, user: CurrentUser, body: ForkRequest | None = None
) -> Run:
    """A new run of the same workflow with the same args, spec and mode; with ``from_step``
    it reuses the steps the run completed before that step."""
    run = reruns.fork_run(
        request.app.state.db,
        run_id,
        None if body is None else body.from_step,
        user_id=runs_visible_to(user),
        owner_id=user["id"],
    )
    return _changed(request, run)


@router.post(
    "/{run_id}/events",
    response_model=EventDelivery,
    status_code=202,
    responses=error_responses(400, 403, 404),
)
def send_event(run_id: str, body: EventSend, request: Request, user: CurrentUser) -> EventDelivery:
    """Send the run an event: a step waiting for its name gets its data, else it is kept for
    the first wait for it. The same ``id`` sent twice is delivered once."""
    delivery = waits.send_event(
        request.app.state.db,
        run_id,
        body.name,
        body.data,
        event_id=body.id,
        user_id=runs_visible_to(user),
    )
    if delivery["woke"]:
        request.app.state.wake()
    return delivery


@router.post(
    "/{run_id}/approvals/{step_key}", response_model=Run, responses=error_responses(400, 403, 404)
)
def decide_approval(
    run_id: str, step_key: str, body: ApprovalDecision, request: Request, user: CurrentUser
) -> Run:
    """Approve or reject the approval the run waits for on ``step_key``; the run goes on."""
    run = waits.decide_approval(
        request.app.state.db,
        run_id,
        step_key,
        approved=body.approved,
        comment=body.comment,
        by=user["email"],
        user_id=runs_visible_to(user),
    )
    return _changed(request, run)


@router.post("/{run_id}/pause", response_model=Run, responses=CONTROL_ERRORS)
def pause_run(run_id: str, request: Request, user: CurrentUser) -> Run:
    """Pause after the running step finishes."""
    run = services.pause_run(request.app.state.db, run_id, user_id=runs_visible_to(user))
    return _changed(request, run)


@router.post("/{run_id}/cancel", response_model=Run, responses=CONTROL_ERRORS)
def cancel_run(run_id: str, request: Request, user: CurrentUser) -> Run:
    """Cancel now: the running step's processes are killed."""
    run = services.cancel_run(request.app.state.db, run_id, user_id=runs_visible_to(user))
    return _changed(request, run)


@router.delete("/{run_id}", status_code=204, responses=error_responses(403, 404, 409))
def delete_run(run_id: str, request: Request, user: CurrentUser) -> Response:
    """Delete a run and all it recorded; refused while it is live."""
    services.delete_run(
        request.app.state.db,
        run_id,
        artifacts_dir=request.app.state.artifacts_dir,
        user_id=runs_visible_to(user),
    )
    return Response(status_code=204)


@router.get(
    "/{run_id}/steps/{step_id}/logs",
    response_model=list[LogLine],
    responses=error_responses(403, 404),
)
def get_step_logs(
    run_id: str,
    step_id: str,
    request: Request,
    user: CurrentUser,
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> list[LogLine]:
    """The step's output lines (``step_id``: the step's id or key), after ``after_id``."""
    return services.run_logs(
        request.app.state.db, run_id, step=step_id, after_id=after_id, user_id=runs_visible_to(user)
    )


@router.get(
    "/{run_id}/artifacts", response_model=list[Artifact], responses=error_responses(403, 404)
)
def list_artifacts(run_id: str, request: Request, user: CurrentUser) -> list[Artifact]:
    """The files the run saved (``ctx.step.artifact``), by name."""
    return artifact_services.list_artifacts(
        request.app.state.db, run_id, user_id=runs_visible_to(user)
    )


@router.get(
    "/{run_id}/artifacts/{artifact_id}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The artifact's bytes, with its content type, as an attachment.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        **error_responses(403, 404),
    },
)
def download_artifact(
    run_id: str, artifact_id: str, request: Request, user: CurrentUser
) -> FileResponse:
    """Download one of the run's artifacts."""
    found = artifact_services.artifact_file(
        request.app.state.db,
        run_id,
        artifact_id,
        artifacts_dir=request.app.state.artifacts_dir,
        user_id=runs_visible_to(user),
    )
    return FileResponse(
        found.path,
        media_type=found.content_type,
        filename=found.name,
        content_disposition_type="attachment",
    )
