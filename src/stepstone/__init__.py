"""Stepstone: durable workflows made of named, checkpointed steps."""

from __future__ import annotations

from stepstone.engine.context import Context, RunInfo
from stepstone.engine.definition import WorkflowDefinition, workflow
from stepstone.errors import (
    Conflict,
    EventTimeout,
    InvalidInput,
    NotFound,
    NotResumable,
    ResultNotSerializable,
    RunCancelled,
    RunPaused,
    StepFailed,
    StepstoneError,
)
from stepstone.steps.agents import AgentResult
from stepstone.steps.artifact import ArtifactInfo
from stepstone.steps.cli import CliResult
from stepstone.steps.git import GitResult
from stepstone.steps.waits import Approval

__all__ = [
    "AgentResult",
    "Approval",
    "ArtifactInfo",
    "CliResult",
    "Conflict",
    "Context",
    "EventTimeout",
    "GitResult",
    "InvalidInput",
    "NotFound",
    "NotResumable",
    "ResultNotSerializable",
    "RunCancelled",
    "RunInfo",
    "RunPaused",
    "StepFailed",
    "StepstoneError",
    "WorkflowDefinition",
    "workflow",
]
