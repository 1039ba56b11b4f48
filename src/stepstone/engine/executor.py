"""Executing one run: replay from the top, memoized steps, retries, timeouts (SPEC 3)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from stepstone.engine.agent_host import AgentStepHost
from stepstone.engine.context import Context, RunInfo
from stepstone.engine.definition import WorkflowDefinition
from stepstone.engine.keys import StepKeys
from stepstone.engine.results import decode_result, encode_result
from stepstone.errors import (
    BudgetExceeded,
    EventTimeout,
    InvalidInput,
    LeaseLost,
    ResultNotSerializable,
    RunCancelled,
    RunPaused,
    StepFailed,
    StepstoneError,
)
from stepstone.steps import artifact as artifacts
from stepstone.steps import workspace
from stepstone.steps.agents import AgentCall, AgentResult, run_agent
from stepstone.steps.cli import LineSink
from stepstone.steps.processes import ProcessGroup
from stepstone.steps.workspace import WorkspaceSpec
from stepstone.store.journal import JournalWriter, LogLine, StepRecord
from stepstone.store.waiting import WaitingFor, approval_name
from stepstone.vocabulary import EventType, RunStatus, StepStatus

LOG_FLUSH_SECONDS = 0.2
CLEANUP_TIMEOUT_SECONDS = 300.0
LOG_BUFFER_LIMIT = 100_000
PARK_AFTER_SECONDS = 30.0
"""A durable sleep with more than this left parks the run instead of holding its worker
(the default of ``Settings.park_after_seconds``)."""
log = logging.getLogger(__name__)
OutcomeStatus = Literal[
    RunStatus.COMPLETED,
    RunStatus.FAILED,
    RunStatus.PAUSED,
    RunStatus.CANCELLED,
    RunStatus.WAITING,
    "lease_lost",
]
"""How an execution ended: the run's new status, or ``lease_lost`` (nothing to write)."""
WORKSPACE_RELEASING_OUTCOMES = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)
"""Ends after which the workspace is cleaned (a paused or interrupted run keeps it)."""

_current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stepstone_current_step", default=None
)
_current_phase: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stepstone_current_phase", default=None
)
_current_attempt: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "stepstone_current_attempt", default=None
)


@dataclass(frozen=True)
class Outcome:
    """How one execution of a run ended (``waiting``: parked, on ``waiting_for``)."""

    status: OutcomeStatus
    result: str | None = None
    error: str | None = None
    waiting_for: WaitingFor | None = None


class RunParked(BaseException):
    """Raised by a step that parks the run (SPEC 3.12): the execution ends, ``waiting``.
    A ``BaseException``, like a task's cancellation, so that workflow code catching
    ``Exception`` around the step does not swallow it."""

    def __init__(self, waiting_for: WaitingFor) -> None:
        super().__init__(waiting_for["step_key"])
        self.waiting_for = waiting_for


@dataclass(frozen=True)
class AttemptResult:
    """One attempt's end: the recorded ``output``, or the ``error`` it failed with."""

    output: str | None = None
    error: str = ""
    traceback: str | None = None
    retryable: bool = True


def describe_exception(exc: BaseException) -> str:
    """The one-line form in which errors are stored and shown."""
    if isinstance(exc, StepstoneError):
        return exc.message
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RunExecution:
    """One execution of a run by a worker that holds its lease as ``lease_token``."""

    def __init__(
        self,
        *,
        run_info: RunInfo,
        args: dict[str, Any],
        definition: WorkflowDefinition,
        journal: JournalWriter,
        lease_token: str,
        artifacts_dir: Path | None = None,
        agent_commands: Mapping[str, Sequence[str]] | None = None,
        park_after_seconds: float = PARK_AFTER_SECONDS,
    ) -> None:
        self.run_info = run_info
        # A durable sleep with more than this left parks the run.
        self.park_after_seconds = park_after_seconds
        # Where runs' artifacts are kept (``<dir>/<run id>/``); None: this worker keeps none.
        self.artifacts_dir = artifacts_dir
        # The command line of each coding agent (default: its name, found on PATH).
        self.agent_commands = dict(agent_commands or {})
        self._args = args
        self._definition = definition
        self._journal = journal
        self._lease_token = lease_token
        self._records: dict[str, StepRecord] = {}
        self._started_phases: set[str] = set()
        self._keys = StepKeys()
        self._unreplayed = 0
        self._annotations = 0
        self._log_buffer: list[LogLine] = []
        self.pause_requested = False
        self.cancel_requested = False
        self._parking: WaitingFor | None = None
        """Set once a step parks the run: other branches' next steps park it too."""
        self._steps_in_flight = 0
        self._no_step_in_flight = asyncio.Event()
        self._no_step_in_flight.set()
        self._workspace: tuple[WorkspaceSpec, bool] | None = None
        """The workspace this execution set up, and whether its branch is the run's own."""

    # -- the run ---------------------------------------------------------------------------

    async def execute(self) -> Outcome:
        """Call the workflow from the top; returns how it ended. Cancelling the task that
        runs this after setting ``cancel_requested`` ends it as ``cancelled``."""
        run_id = self.run_info.id
        self._records = await self._journal.call(lambda j: j.load_steps(run_id))
        self._started_phases = await self._journal.call(lambda j: j.load_started_phases(run_id))
        # Workflow code before a recorded step ran in an earlier execution already.
        self._unreplayed = len(self._records)
        flusher = asyncio.create_task(self._flush_logs_periodically())
        try:
            outcome = await self._execute_workflow()
            if outcome.status in WORKSPACE_RELEASING_OUTCOMES and self._workspace is not None:
                outcome = await self._clean_up_workspace(self._workspace, outcome)
            return outcome
        finally:
            flusher.cancel()
            await self._flush_logs()

    async def _execute_workflow(self) -> Outcome:
        run_timeout = asyncio.timeout(self._definition.timeout_seconds)
        try:
            async with run_timeout:
                await self._set_up_workspace()
                value = await self._definition(Context(self, self._args))
            return Outcome(RunStatus.COMPLETED, result=encode_result("(workflow result)", value))
        except RunParked as parked:
            return Outcome(RunStatus.WAITING, waiting_for=parked.waiting_for)
        except RunPaused:
            return Outcome(RunStatus.PAUSED)
        except RunCancelled:
            return Outcome(RunStatus.CANCELLED)
        except asyncio.CancelledError:
            if self.cancel_requested:
                # Handled: the workspace cleanup that follows must be able to await.
                asyncio.current_task().uncancel()  # type: ignore[union-attr]
                return Outcome(RunStatus.CANCELLED)
            raise
        except LeaseLost as exc:
            return Outcome("lease_lost", error=exc.message)
        except TimeoutError as exc:
            if run_timeout.expired():
                limit = self._definition.timeout_seconds
                return Outcome(RunStatus.FAILED, error=f"run timed out after {limit:g} s")
            return Outcome(RunStatus.FAILED, error=describe_exception(exc))
        except Exception as exc:
            return Outcome(RunStatus.FAILED, error=describe_exception(exc))

    # -- the workspace (SPEC 8 run modes) --------------------------------------------------

    async def _set_up_workspace(self) -> None:
        """Make the run's branch or worktree, once: a resumed run finds it made, unless an
        earlier execution's cleanup began (it may have taken it down, and a retry from a step
        resets the cleanup's record): then it is made again, which finds what is left."""
        info = self.run_info
        if info.mode == "stay":
            return
        spec = WorkspaceSpec(
            info.mode,
            info.project_path,
            info.working_dir,
            info.base_branch or "",
            info.branch_name or "",
            info.preserve,
        )
        cleaned = self._records.get(f"{workspace.FINALIZE_PHASE}-{workspace.WORKSPACE_STEP}")
        made_before = _made_the_branch(
            self._records.get(f"{workspace.SETUP_PHASE}-{workspace.WORKSPACE_STEP}")
        )
        sink = self.command_output_sink()
        async with self.phase(workspace.SETUP_PHASE):
            made = await self._step(
                self._next_key(workspace.WORKSPACE_STEP),
                workspace.WORKSPACE_STEP,
                "system",
                lambda _record: workspace.set_up(spec, sink, made_before=made_before),
                rerun=cleaned is not None,
            )
        self._workspace = (spec, bool(made["created"]))

    async def _clean_up_workspace(
        self, made: tuple[WorkspaceSpec, bool], outcome: Outcome
    ) -> Outcome:
        """The cleanup step, whichever way the run ended; what it kept goes on the timeline.
        A failed cleanup fails a run that had completed."""
        spec, created = made
        sink = self.command_output_sink()
        try:
            async with self.phase(workspace.FINALIZE_PHASE):
                cleaned = await self._step(
                    self._next_key(workspace.WORKSPACE_STEP),
                    workspace.WORKSPACE_STEP,
                    "system",
                    lambda _record: workspace.clean_up(spec, created, sink),
                    timeout=CLEANUP_TIMEOUT_SECONDS,
                    rerun=True,
                    even_if_interrupted=True,
                )
            for note in cleaned["kept"]:
                await self._event(EventType.WORKSPACE_KEPT, note, phase=workspace.FINALIZE_PHASE)
        except LeaseLost as exc:
            return Outcome("lease_lost", error=exc.message)
        except StepFailed as exc:
            if outcome.status == RunStatus.COMPLETED:
                return Outcome(RunStatus.FAILED, error=exc.message)
        return outcome

    def request_pause(self) -> None:
        self.pause_requested = True

    # -- steps -----------------------------------------------------------------------------

    async def run_step(
        self,
        step_id: str,
        kind: str,
        action: Callable[[], Awaitable[Any]],
        *,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
    ) -> Any:
        """One step: the recorded output if the key completed before, else run ``action``."""
        return await self._step(
            self._next_key(step_id),
            step_id,
            kind,
            lambda _record: action(),
            retries=retries,
            retry_backoff=retry_backoff,
            timeout=timeout,
        )

    async def run_agent_step(
        self,
        step_id: str,
        call: AgentCall,
        *,
        cwd: str,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
    ) -> Any:
        """An agent step: continues the session its earlier attempt recorded, if any."""
        command = self.agent_commands.get(call.agent) or [call.agent]

        async def attempt(record: StepRecord) -> AgentResult:
            return await run_agent(call, AgentStepHost(self, record), command, cwd)

        return await self._step(
            self._next_key(step_id),
            step_id,
            "agent",
            attempt,
            retries=retries,
            retry_backoff=retry_backoff,
            timeout=timeout,
        )

    def _next_key(self, step_id: str) -> str:
        """The key of this call of ``step_id`` in the current phase (SPEC 3.1)."""
        return self._keys.next(step_id, _current_phase.get())

    async def run_sleep(self, step_id: str, seconds: float) -> None:
        """A durable sleep: with more than ``park_after_seconds`` left, the run parks until
        its end; a shorter one sleeps here."""
        key = self._next_key(step_id)
        record = self._records.get(key)
        if record is None or record.status != StepStatus.COMPLETED:
            wake_at = time.time() + seconds
            if record is not None and record.wake_at is not None:
                wake_at = record.wake_at  # an earlier execution began this sleep
            if wake_at - time.time() > self.park_after_seconds:
                self._unreplayed = 0
                waiting = WaitingFor(
                    kind="sleep", step_key=key, until=wake_at, event=None, prompt=None
                )
                await self._look(key, step_id, record, waiting, inbox=None)
                await self._park(waiting)

        async def sleep_until_wake(record: StepRecord) -> None:
            remaining = (record.wake_at or 0.0) - time.time()
            if remaining > 0:
                await asyncio.sleep(remaining)

        await self._step(key, step_id, "sleep", sleep_until_wake, wake_after_seconds=seconds)

    async def run_wait(
        self,
        step_id: str,
        kind: Literal["event", "approval"],
        *,
        event: str | None = None,
        prompt: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        retry_backoff: float = 1.0,
    ) -> Any:
        """A wait for an event or an approval decision (SPEC 3.12): its data once it is in
        the run's inbox; until then the run parks. With ``timeout``, a wait that ends with
        nothing fails, and waits again while the step has had at most ``retries`` such
        attempts (across parks and restarts; once it failed for good, a resume or a retry
        from a step gives it one more)."""
        key = self._next_key(step_id)
        record = self._records.get(key)
        if record is not None and record.status == StepStatus.COMPLETED:
            self._unreplayed -= 1
            return decode_result(record.output)
        self._unreplayed = 0
        inbox = event if kind == "event" else approval_name(key)
        # An earlier execution began this wait: its time limit holds across the park.
        resumed = record is not None and _began_waiting(record)
        while True:
            until = None if timeout is None else time.time() + timeout
            if resumed:
                assert record is not None
                until, resumed = record.wake_at, False
            waiting = WaitingFor(kind=kind, step_key=key, until=until, event=event, prompt=prompt)
            record = await self._look(key, step_id, record, waiting, inbox=inbox)
            if record.status == StepStatus.COMPLETED:
                return decode_result(record.output)
            if until is None or time.time() < until:
                await self._park(waiting)
            record, attempt_id = await self._start_attempt(key, step_id, kind, record, None)
            what = f"event {event!r}" if kind == "event" else "decision"
            error = f"no {what} arrived within {timeout:g} s"
            # Counted on the step's attempts, not in this execution: each wake is a new one.
            final = record.attempt > retries
            await self._record_attempt(record, attempt_id, AttemptResult(error=error), final=final)
            if final:
                await self._event(EventType.STEP_FAILED, error, step_key=key)
                raise EventTimeout(key, error)
            await asyncio.sleep(retry_backoff * 2 ** (record.attempt - 1))

    async def _park(self, waiting: WaitingFor) -> NoReturn:
        """End this execution parked on ``waiting`` (the first wait to park names what the
        run waits for), once the steps other branches are running (``asyncio.gather``) have
        finished and been recorded: like a pause, at a step boundary."""
        if self._parking is None:
            self._parking = waiting
        await self._no_step_in_flight.wait()
        raise RunParked(self._parking)

    async def _look(
        self,
        key: str,
        step_id: str,
        record: StepRecord | None,
        waiting: WaitingFor,
        *,
        inbox: str | None,
    ) -> StepRecord:
        """Record the step ``waiting`` and take what its inbox holds for it, if anything."""
        self._raise_if_interrupted()
        run_id, lease_token, phase = self.run_info.id, self._lease_token, _current_phase.get()
        flags, looked = await self._journal.call(
            lambda j: j.wait_step(
                run_id=run_id,
                lease_token=lease_token,
                key=key,
                name=step_id,
                phase=phase,
                kind=waiting["kind"],
                record=record,
                wake_at=waiting["until"],
                inbox=inbox,
            )
        )
        self.cancel_requested |= flags.cancel_requested
        self.pause_requested |= flags.pause_requested
        self._raise_if_interrupted()
        assert looked is not None
        self._records[key] = looked
        return looked

    async def _step(
        self,
        key: str,
        step_id: str,
        kind: str,
        action: Callable[[StepRecord], Awaitable[Any]],
        *,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
        wake_after_seconds: float | None = None,
        rerun: bool = False,
        even_if_interrupted: bool = False,
    ) -> Any:
        """The step ``key`` (:meth:`_next_key`): its recorded output if it completed before
        (unless ``rerun``), else ``action`` with retries (``even_if_interrupted``: even when a
        pause or cancel is due, as cleanups are)."""
        record = self._records.get(key)
        if record is not None and record.status == StepStatus.COMPLETED and not rerun:
            self._unreplayed -= 1
            return decode_result(record.output)
        self._unreplayed = 0  # from this step on, the run does new work
        for attempt_index in range(retries + 1):
            record, attempt_id = await self._start_attempt(
                key, step_id, kind, record, wake_after_seconds, even_if_interrupted
            )
            attempt = await self._attempt(key, attempt_id, action, record, timeout)
            if attempt.output is not None:
                await self._record_attempt(record, attempt_id, attempt, final=True)
                return decode_result(attempt.output)
            final = attempt_index == retries or not attempt.retryable
            await self._record_attempt(record, attempt_id, attempt, final=final)
            if final:
                await self._event(EventType.STEP_FAILED, attempt.error, step_key=key)
                raise StepFailed(key, attempt.error)
            await asyncio.sleep(retry_backoff * 2**attempt_index)
        raise AssertionError("unreachable: the last attempt either returns or raises")

    async def _start_attempt(
        self,
        key: str,
        step_id: str,
        kind: str,
        record: StepRecord | None,
        wake_after_seconds: float | None,
        even_if_interrupted: bool = False,
    ) -> tuple[StepRecord, int]:
        if not even_if_interrupted:
            self._raise_if_interrupted()
        wake_at = None if wake_after_seconds is None else time.time() + wake_after_seconds
        # Read here: the journal may call this on its own thread, where the phase is unset.
        phase = _current_phase.get()
        flags, started, attempt_id = await self._journal.call(
            lambda j: j.start_attempt(
                run_id=self.run_info.id,
                lease_token=self._lease_token,
                key=key,
                name=step_id,
                phase=phase,
                kind=kind,
                record=record,
                wake_at=wake_at,
                even_if_interrupted=even_if_interrupted,
            )
        )
        self.cancel_requested |= flags.cancel_requested
        self.pause_requested |= flags.pause_requested
        if not even_if_interrupted:
            self._raise_if_interrupted()
        assert started is not None
        self._records[key] = started
        return started, attempt_id

    async def _attempt(
        self,
        key: str,
        attempt_id: int,
        action: Callable[[StepRecord], Awaitable[Any]],
        record: StepRecord,
        timeout: float | None,
    ) -> AttemptResult:
        token = _current_step.set(key)
        attempt_token = _current_attempt.set(attempt_id)
        step_timeout = asyncio.timeout(timeout)
        self._steps_in_flight += 1
        self._no_step_in_flight.clear()
        try:
            async with step_timeout:
                value = await action(record)
            return AttemptResult(output=encode_result(key, value))
        except (ResultNotSerializable, BudgetExceeded) as exc:
            # Retrying would repeat the side effects and return the same kind of value, or
            # meet the same budget.
            return AttemptResult(error=exc.message, retryable=False)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and step_timeout.expired():
                return AttemptResult(error=f"step timed out after {timeout:g} s")
            return AttemptResult(error=describe_exception(exc), traceback=traceback.format_exc())
        finally:
            self._steps_in_flight -= 1
            if not self._steps_in_flight:
                self._no_step_in_flight.set()
            _current_attempt.reset(attempt_token)
            _current_step.reset(token)

    def add_secrets(self, values: Iterable[str]) -> None:
        """Values a step hands to its command as secrets: never written to the journal."""
        self._journal.redactor.add(values)

    async def record_process_group(self, group: ProcessGroup) -> None:
        """The process group the running step's attempt just started, recorded so that a
        later execution can end what a crash leaves of it."""
        attempt_id = _current_attempt.get()
        assert attempt_id is not None, "called from inside a step"
        run_id, lease_token = self.run_info.id, self._lease_token
        await self._journal.call(
            lambda j: j.record_process_group(
                run_id=run_id,
                lease_token=lease_token,
                attempt_id=attempt_id,
                host=group.host,
                group=group.group,
                start=group.start,
            )
        )

    async def record_step_state(
        self, record: StepRecord, *, session_id: str | None = None, base_tree: str | None = None
    ) -> None:
        run_id, lease_token = self.run_info.id, self._lease_token
        await self._journal.call(
            lambda j: j.record_step_state(
                run_id=run_id,
                lease_token=lease_token,
                record=record,
                session_id=session_id,
                base_tree=base_tree,
            )
        )

    async def add_usage(self, record: StepRecord, usage: dict[str, Any]) -> None:
        run_id, lease_token = self.run_info.id, self._lease_token
        await self._journal.call(
            lambda j: j.add_usage(
                run_id=run_id, lease_token=lease_token, record=record, usage=usage
            )
        )

    async def check_budget(self) -> None:
        """BudgetExceeded when the run's steps used its token budget up."""
        run_id = self.run_info.id
        spent = await self._journal.call(lambda j: j.token_budget(run_id))
        if spent is None:
            return
        used, budget = spent
        if used >= budget:
            raise BudgetExceeded(
                f"the run used {used} tokens of its budget of {budget}; raise the budget "
                "and resume the run to go on"
            )

    async def set_pr_url(self, url: str) -> None:
        run_id, lease_token = self.run_info.id, self._lease_token
        await self._journal.call(
            lambda j: j.set_pr_url(run_id=run_id, lease_token=lease_token, url=url)
        )

    async def _record_attempt(
        self, record: StepRecord, attempt_id: int, attempt: AttemptResult, *, final: bool
    ) -> None:
        run_id, lease_token = self.run_info.id, self._lease_token
        if attempt.output is not None:
            output = attempt.output
            await self._journal.call(
                lambda j: j.complete_attempt(
                    run_id=run_id,
                    lease_token=lease_token,
                    record=record,
                    attempt_id=attempt_id,
                    output=output,
                )
            )
            return
        await self._journal.call(
            lambda j: j.fail_attempt(
                run_id=run_id,
                lease_token=lease_token,
                record=record,
                attempt_id=attempt_id,
                error=attempt.error,
                traceback_text=attempt.traceback,
                final=final,
            )
        )

    async def save_artifact(
        self,
        name: str,
        *,
        content: str | bytes | None,
        source: str | None,
        content_type: str | None,
    ) -> artifacts.ArtifactInfo:
        """Save a file as the run's artifact ``name`` and record it; called from inside a
        step, whose key the record names."""
        step_key = _current_step.get()
        assert step_key is not None, "called from inside a step"
        if self.artifacts_dir is None:
            raise InvalidInput("this worker has no artifacts folder; artifacts cannot be saved")
        if (content is None) == (source is None):
            raise InvalidInput("give an artifact either content= or path=")
        if content is not None and not isinstance(content, str | bytes):
            raise InvalidInput(
                f"artifact content must be str or bytes, not {type(content).__name__}"
            )
        name = artifacts.checked_name(name)
        content_type = artifacts.content_type_for(name, content_type)
        if isinstance(content, str):  # text the run wrote: no secret in it is kept (SPEC 9)
            content = self._journal.redactor.text(content)
        stored = await asyncio.to_thread(
            artifacts.save,
            self.artifacts_dir,
            self.run_info.id,
            name,
            content=content,
            source=source,
        )
        run_id, lease_token = self.run_info.id, self._lease_token
        await self._journal.call(
            lambda j: j.save_artifact(
                run_id=run_id,
                lease_token=lease_token,
                step_key=step_key,
                name=name,
                content_type=content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                file_name=stored.file_name,
            )
        )
        return artifacts.ArtifactInfo(name, stored.size_bytes, stored.sha256, content_type)

    async def save_step_diff(self, patch: str) -> None:
        """Save what the running step changed in the working tree as its ``<key>.diff``
        artifact (the run page shows it with the step)."""
        step_key = _current_step.get()
        assert step_key is not None, "called from inside a step"
        if self.artifacts_dir is None:
            return
        name = f"{step_key.replace('#', '-')}.diff"
        await self.save_artifact(name, content=patch, source=None, content_type="text/x-diff")

    def _raise_if_interrupted(self) -> None:
        if self.cancel_requested:
            raise RunCancelled()
        if self.pause_requested:
            raise RunPaused()
        if self._parking is not None:
            raise RunParked(self._parking)

    # -- phases, notes, logs ---------------------------------------------------------------

    @asynccontextmanager
    async def phase(self, phase_id: str) -> AsyncIterator[None]:
        # A context variable, not an attribute: branches of one run that run concurrently
        # (asyncio.gather) each keep their own phase.
        token = _current_phase.set(phase_id)
        try:
            if phase_id not in self._started_phases:
                self._started_phases.add(phase_id)
                await self._event(EventType.PHASE_STARTED, None, phase=phase_id)
            yield
        finally:
            _current_phase.reset(token)

    async def annotate(self, markdown: str) -> None:
        self._annotations += 1
        await self._event(
            EventType.ANNOTATION,
            markdown,
            phase=_current_phase.get(),
            dedupe_key=f"annotation#{self._annotations}",
        )

    async def _event(
        self,
        type: str,
        message: str | None,
        *,
        phase: str | None = None,
        step_key: str | None = None,
        dedupe_key: str | None = None,
    ) -> None:
        phase = phase or _current_phase.get()  # here: the journal may call on its thread
        await self._journal.call(
            lambda j: j.add_event(
                run_id=self.run_info.id,
                lease_token=self._lease_token,
                type=type,
                message=message,
                phase=phase,
                step_key=step_key,
                dedupe_key=dedupe_key,
            )
        )

    def idempotency_key(self, step_id: str) -> str:
        """Run id and the key the next call of ``step_id`` gets: stable across attempts and
        resumes, distinct for each repeat in a loop."""
        return f"{self.run_info.id}:{self._keys.peek(step_id, _current_phase.get())}"

    def log_line(self, stream: str, text: str) -> None:
        """Buffer one log line. Lines of workflow code between steps that an earlier
        execution already passed are dropped: that execution wrote them."""
        step_key = _current_step.get()
        if step_key is None and self._unreplayed > 0:
            return
        self._log_buffer.append((step_key, _current_phase.get(), stream, text, time.time()))

    def command_output_sink(self) -> LineSink:
        return self.log_line

    async def _flush_logs(self) -> None:
        """Write the buffered lines; on a failure they go back to the buffer for the next
        try (the oldest are dropped past ``LOG_BUFFER_LIMIT``), and the run goes on."""
        if not self._log_buffer:
            return
        lines, self._log_buffer = self._log_buffer, []
        run_id = self.run_info.id
        try:
            await self._journal.call(lambda j: j.add_logs(run_id, lines))
        except Exception:
            log.exception("run %s: writing %d log lines failed; will retry", run_id, len(lines))
            self._log_buffer = (lines + self._log_buffer)[-LOG_BUFFER_LIMIT:]

    async def _flush_logs_periodically(self) -> None:
        while True:
            await asyncio.sleep(LOG_FLUSH_SECONDS)
            await self._flush_logs()


def _began_waiting(record: StepRecord) -> bool:
    """Whether an earlier execution began this wait, with a time limit that still holds (a
    failed wait, or one a retry from a step set back, waits anew)."""
    return record.wake_at is not None and record.status != StepStatus.FAILED


def _made_the_branch(setup: StepRecord | None) -> bool:
    """Whether an earlier setup of the run made its branch (its output says ``created``)."""
    output = None if setup is None else decode_result(setup.output)
    return isinstance(output, dict) and bool(output.get("created"))
