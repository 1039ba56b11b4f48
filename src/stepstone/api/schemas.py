"""The shapes of the HTTP API (request bodies and responses), as OpenAPI shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RunStatus = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


class RequestBody(BaseModel):
    """A request body: unknown fields are refused, and so is text that is not valid
    Unicode (JSON allows lone surrogates; the database cannot store them)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        if _has_lone_surrogate(data):
            raise ValueError("text must be valid Unicode (no lone surrogates)")
        return data


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class LoginRequest(RequestBody):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class User(BaseModel):
    id: str
    email: str


class LoginResponse(BaseModel):
    token: str
    user: User


class Project(BaseModel):
    id: str
    name: str
    path: str
    user_id: str | None
    created_at: str | None


class ProjectCreate(RequestBody):
    path: str = Field(min_length=1, max_length=4096)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ProjectUpdate(RequestBody):
    name: str = Field(min_length=1, max_length=200)


class Phase(BaseModel):
    id: str
    label: str


class Definition(BaseModel):
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


class DefinitionError(BaseModel):
    file_path: str
    error: str


class DefinitionList(BaseModel):
    project: Project
    definitions: list[Definition]
    errors: list[DefinitionError]


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


class Attempt(BaseModel):
    attempt: int
    status: str
    error_message: str | None
    started_at: str | None
    completed_at: str | None


class Step(BaseModel):
    id: int
    key: str
    name: str
    phase: str | None
    kind: str
    status: str
    attempt: int
    output: Any
    error_message: str | None
    started_at: str | None
    completed_at: str | None
    reused: bool
    attempts: list[Attempt]


class Event(BaseModel):
    id: int
    type: str
    message: str | None
    phase: str | None
    step_key: str | None
    created_at: str | None


class RunSummary(BaseModel):
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
    created_at: str | None
    started_at: str | None
    completed_at: str | None
    paused_at: str | None
    cancelled_at: str | None
    updated_at: str | None


class Run(RunSummary):
    steps: list[Step]
    events: list[Event]


class RunPage(BaseModel):
    data: list[RunSummary]
    next_cursor: str | None


class LogLine(BaseModel):
    id: int
    step_key: str | None
    phase: str | None
    stream: str
    line: str
    created_at: str | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route gives, all of one shape."""
    return {status: {"model": ErrorResponse} for status in statuses}
