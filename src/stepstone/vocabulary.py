"""The words the journal is written in: run, step and attempt statuses and event types
(SPEC 3.5), with the one table that ties a run's status to the event written beside it.

They are ``StrEnum``s: stored as, and equal to, their strings.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "pending"
    """Queued for a worker."""
    RUNNING = "running"
    """Held by a worker; shown as interrupted when its holder is gone (SPEC 3.6)."""
    WAITING = "waiting"
    """Parked on a long sleep, an event or an approval (SPEC 3.12): held by no worker,
    queued again when its time comes or what it waits for arrives."""
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.CANCELLED})
"""Nothing happens to these runs any more."""
RESUMABLE_RUN_STATUSES = frozenset({RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.FAILED})
"""What resume accepts (``running`` only when its holder is gone)."""
RETRYABLE_RUN_STATUSES = RESUMABLE_RUN_STATUSES | {RunStatus.COMPLETED}
"""What retry from a step accepts (``running`` only when its holder is gone)."""
SETTLED_RUN_STATUSES = TERMINAL_RUN_STATUSES | {RunStatus.FAILED, RunStatus.PAUSED}
"""No worker moves these runs until someone resumes them."""


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class AttemptStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    """Its execution ended (crash, stop, pause) before the step did."""
    CANCELLED = "cancelled"


class EventType(StrEnum):
    WORKFLOW_CREATED = "workflow_created"
    WORKFLOW_STARTED = "workflow_started"
    WORKFLOW_RESUMED = "workflow_resumed"
    WORKFLOW_RETRIED = "workflow_retried"
    """Queued again from a chosen step (its ``step_key``): that step and those after it run
    again (SPEC 3.10)."""
    WORKFLOW_FORKED = "workflow_forked"
    """A fork's first event after its creation: the run and step it reuses up to (3.11)."""
    AUTO_RESUME_STOPPED = "auto_resume_stopped"
    """Automatic recovery gave up on the run: resumed too often without progress."""
    FORK_CREATED = "fork_created"
    """On a fork's origin: a run was forked from this one (the origin is otherwise
    untouched)."""
    WORKFLOW_WAITING = "workflow_waiting"
    """The run parked on its ``step_key``: the message says what for and until when."""
    WORKFLOW_WOKEN = "workflow_woken"
    """A parked run was queued again: what it waited for arrived, or its time came."""
    EVENT_RECEIVED = "event_received"
    """An event was sent to the run (kept until a wait for its name takes it)."""
    APPROVAL_DECIDED = "approval_decided"
    """Someone approved or rejected the approval ``step_key`` waits for."""
    WORKFLOW_COMPLETED = "workflow_completed"
    WORKFLOW_FAILED = "workflow_failed"
    WORKFLOW_PAUSED = "workflow_paused"
    WORKFLOW_CANCELLED = "workflow_cancelled"
    PAUSE_REQUESTED = "pause_requested"
    CANCEL_REQUESTED = "cancel_requested"
    PHASE_STARTED = "phase_started"
    STEP_FAILED = "step_failed"
    ANNOTATION = "annotation"
    WORKSPACE_KEPT = "workspace_kept"
    """The run's cleanup kept its branch or worktree (and says why)."""


RUN_STATUS_BY_EVENT: dict[EventType, RunStatus] = {
    EventType.WORKFLOW_CREATED: RunStatus.PENDING,
    EventType.WORKFLOW_RESUMED: RunStatus.PENDING,
    EventType.WORKFLOW_RETRIED: RunStatus.PENDING,
    EventType.WORKFLOW_FORKED: RunStatus.PENDING,
    EventType.WORKFLOW_WOKEN: RunStatus.PENDING,
    EventType.WORKFLOW_STARTED: RunStatus.RUNNING,
    EventType.WORKFLOW_WAITING: RunStatus.WAITING,
    EventType.WORKFLOW_COMPLETED: RunStatus.COMPLETED,
    EventType.WORKFLOW_FAILED: RunStatus.FAILED,
    EventType.WORKFLOW_PAUSED: RunStatus.PAUSED,
    EventType.WORKFLOW_CANCELLED: RunStatus.CANCELLED,
}
"""The event written in the same transaction as each change of a run's status."""

OUTCOME_EVENTS: dict[RunStatus, EventType] = {
    status: event
    for event, status in RUN_STATUS_BY_EVENT.items()
    if status in SETTLED_RUN_STATUSES | {RunStatus.WAITING}
}
"""The event that records how an execution ended."""
