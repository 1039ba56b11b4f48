"""The shapes of the HTTP API that are its own: request bodies, pages, errors, health. The
records it answers with (runs, steps, projects, …) are ``store.records``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stepstone.services.waits import COMMENT_MAX
from stepstone.steps.waits import EVENT_NAME
from stepstone.store.records import RunSummary, User

MAX_BODY_DEPTH = 32
"""How deeply a request body may nest (the body itself is level 1): far more than any request
needs, far less than what exhausts a recursive walk of it (Python's limit is 1000 frames)."""


def _body_problem(body: Any) -> str | None:
    """Why the parsed body cannot be taken, or None: objects and arrays nested deeper than
    ``MAX_BODY_DEPTH``, or text that is not valid Unicode (JSON allows lone surrogates; the
    database cannot store them). It walks with a stack of its own, so no depth breaks it."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not _is_valid_unicode(value):
                return "text must be valid Unicode (no lone surrogates)"
        elif isinstance(value, dict | list):
            if depth > MAX_BODY_DEPTH:
                return f"the body is nested more than {MAX_BODY_DEPTH} levels deep"
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return None


def _is_valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class RequestBody(BaseModel):
    """A request body: unknown fields are refused, and so are bodies nested deeper than
    ``MAX_BODY_DEPTH`` and text that is not valid Unicode."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _acceptable_json(cls, data: Any) -> Any:
        problem = _body_problem(data)
        if problem is not None:
            raise ValueError(problem)
        return data


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class LoginRequest(RequestBody):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    token: str
    user: User


MaxConcurrentRuns = Field(
    default=None,
    ge=1,
    le=100_000,
    description="At most this many of the project's runs execute at once, across every worker;"
    " null: no limit.",
)


class ProjectCreate(RequestBody):
    path: str = Field(min_length=1, max_length=4096)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    max_concurrent_runs: int | None = MaxConcurrentRuns


class ProjectUpdate(RequestBody):
    """The fields given are changed; the others are left as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    max_concurrent_runs: int | None = MaxConcurrentRuns


class RunCreate(RequestBody):
    project_id: str = Field(min_length=1, max_length=200)
    workflow_definition_id: str | None = Field(default=None, max_length=200)
    workflow: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    args: dict[str, Any] = Field(default_factory=dict)
    spec_file: str | None = Field(default=None, max_length=4096)
    spec_content: str | None = None
    spec_type: str | None = Field(default=None, max_length=64)
    planning_session_id: str | None = Field(default=None, max_length=200)
    mode: Literal["stay", "branch", "worktree"] = "stay"
    base_branch: str | None = Field(default=None, max_length=200)
    branch_name: str | None = Field(default=None, max_length=200)
    preserve: bool = False
    budget_tokens: int | None = Field(default=None, ge=1)


class ResumeRequest(RequestBody):
    budget_tokens: int | None = Field(default=None, ge=1)


class RetryRequest(RequestBody):
    from_step: str = Field(
        min_length=1, max_length=200, description="The key of the first step to run again."
    )


class EventSend(RequestBody):
    name: str = Field(
        min_length=1,
        max_length=200,
        pattern=f"^{EVENT_NAME.pattern}$",
        description="The event's name, as the workflow's wait_for_event names it.",
    )
    data: Any = Field(default=None, description="What the wait returns (any JSON).")
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The sender's id for this event: sending the same id again changes nothing.",
    )


class ApprovalDecision(RequestBody):
    approved: bool
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)


class ForkRequest(RequestBody):
    from_step: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Reuse the steps completed before this one; none: reuse nothing.",
    )


class RunPage(BaseModel):
    data: list[RunSummary]
    next_cursor: str | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route gives, all of one shape."""
    return {status: {"model": ErrorResponse} for status in statuses}
