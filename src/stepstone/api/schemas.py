"""The shapes of the HTTP API that are its own: request bodies, pages, errors, health. The
records it answers with (runs, steps, projects, …) are ``store.records``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stepstone.store.records import RunSummary, User


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


class LoginResponse(BaseModel):
    token: str
    user: User


class ProjectCreate(RequestBody):
    path: str = Field(min_length=1, max_length=4096)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ProjectUpdate(RequestBody):
    name: str = Field(min_length=1, max_length=200)


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


class RunPage(BaseModel):
    data: list[RunSummary]
    next_cursor: str | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route gives, all of one shape."""
    return {status: {"model": ErrorResponse} for status in statuses}
