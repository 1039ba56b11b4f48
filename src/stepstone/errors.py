"""Every error Stepstone raises on purpose.

::

    StepstoneError                      anything Stepstone reports to a user
    ├── NotFound                        unknown or malformed id / name
    ├── Unauthorized                    no valid credentials or token
    ├── Forbidden                       another user's run
    ├── InvalidInput                    bad args, bad path, bad workflow file, bad result
    │   └── ResultNotSerializable       a step returned something JSON cannot hold
    ├── NotResumable                    resume/pause/cancel refused by the run's status
    ├── Conflict                        the run is live in a worker; try again later
    ├── DatabaseBusy                    another process held SQLite's write lock too long
    ├── StepFailed                      a step failed after its retries (raised in the workflow)
    ├── AgentFailed                     a coding agent did not do its task (inside a step)
    └── BudgetExceeded                  the run's token budget is used up (inside a step)

    BaseException
    └── RunInterrupted                  unwinds a workflow; user code's ``except Exception``
        ├── RunCancelled                cannot swallow these
        ├── RunPaused
        └── LeaseLost                   this worker no longer owns the run (fencing)

Each error carries a stable ``code`` (used by the CLI and the API) and a one-line message.
"""

from __future__ import annotations


class StepstoneError(Exception):
    """An error reported to the user as one line; ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StepstoneError):
    code = "not_found"


class Unauthorized(StepstoneError):
    code = "unauthorized"


class Forbidden(StepstoneError):
    code = "forbidden"


class InvalidInput(StepstoneError):
    code = "invalid_input"


class ResultNotSerializable(InvalidInput):
    code = "result_not_serializable"


class NotResumable(StepstoneError):
    code = "not_resumable"


class Conflict(StepstoneError):
    code = "conflict"


class DatabaseBusy(StepstoneError):
    code = "database_busy"


class StepFailed(StepstoneError):
    """A step failed for good. ``error`` is the stored text, identical after a database round
    trip, so a failure read back from the journal compares equal to the one raised."""

    code = "step_failed"

    def __init__(self, step_key: str, error: str) -> None:
        super().__init__(f"step {step_key!r} failed: {error}")
        self.step_key = step_key
        self.error = error


class EventTimeout(StepFailed):
    """A wait for an event or an approval ended with nothing arriving (SPEC 3.12)."""

    code = "event_timeout"


class AgentFailed(StepstoneError):
    """A coding agent ended without doing its task (its error, or its exit code), or its
    answer was not what the step asked for (no JSON with ``json=True``)."""

    code = "agent_failed"


class BudgetExceeded(StepstoneError):
    """The run's agent steps used up its token budget; raise the budget and resume."""

    code = "budget_exceeded"


class RunInterrupted(BaseException):
    """Unwinds a workflow at a step boundary; derives from BaseException on purpose."""


class RunCancelled(RunInterrupted):
    pass


class RunPaused(RunInterrupted):
    pass


class LeaseLost(RunInterrupted):
    """Another worker holds the run now; this one must stop without writing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
