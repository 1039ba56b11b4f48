"""The live messages (SPEC 6, WebSocket): their types and payloads, defined once. The HTTP
API's OpenAPI document carries them as components, so the UI's types are generated."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from typing_extensions import TypedDict

from stepstone.store.records import Event, LogLine, StepSummary


class MessageType(StrEnum):
    RUN_UPDATED = "workflow.run.updated"
    STEP_CREATED = "workflow.run.step.created"
    STEP_UPDATED = "workflow.run.step.updated"
    EVENT_CREATED = "workflow.run.event.created"
    LOG_CHUNK = "workflow.run.step.log_chunk"


class RunUpdated(TypedDict):
    run_id: str
    project_id: str
    changes: dict[str, Any]
    """The fields of the run (``RunSummary``) that changed, with their new values."""


class StepCreated(TypedDict):
    run_id: str
    step: StepSummary


class StepUpdated(TypedDict):
    run_id: str
    step_id: int
    changes: dict[str, Any]
    """The fields of the step (``StepSummary``) that changed, with their new values."""


class EventCreated(TypedDict):
    run_id: str
    event: Event


class LogChunk(TypedDict):
    run_id: str
    step_key: str | None
    lines: list[LogLine]


Payload = RunUpdated | StepCreated | StepUpdated | EventCreated | LogChunk


class LiveMessage(TypedDict):
    """What the server sends on the WebSocket."""

    channel: str
    type: MessageType
    data: Payload


@dataclass(frozen=True)
class Outgoing:
    """A message to publish: on the first of ``channels`` a listener follows, and only to
    listeners of ``user_id`` (the run's user; None: a run of no user, for admins)."""

    channels: list[str]
    type: MessageType
    data: Payload
    user_id: str | None


def channels_of(run_id: str, project_id: str) -> list[str]:
    """A run's channels, the most specific first."""
    return [f"run:{run_id}", f"project:{project_id}"]
