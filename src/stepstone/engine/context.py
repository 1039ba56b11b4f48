"""What a workflow function sees: ``ctx`` (SPEC 2)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepstone.engine.keys import slugify
from stepstone.errors import InvalidInput
from stepstone.steps import git as git_steps
from stepstone.steps.agents import AgentCall, AgentResult, adapter_for
from stepstone.steps.artifact import ArtifactInfo
from stepstone.steps.cli import CliResult, run_command
from stepstone.steps.git import GitResult
from stepstone.steps.waits import Approval, checked_event_name
from stepstone.store.redaction import secret_values

if TYPE_CHECKING:
    from stepstone.engine.executor import RunExecution


@dataclass(frozen=True)
class RunInfo:
    """Read-only facts about the run being executed."""

    id: str
    name: str
    project_id: str
    project_path: str
    working_dir: str
    user_id: str | None
    spec_file: str | None
    spec_content: str | None
    spec_type: str | None
    planning_session_id: str | None
    mode: str
    base_branch: str | None
    branch_name: str | None
    worktree_name: str | None
    preserve: bool
    resume_count: int

    @classmethod
    def from_row(cls, run: Mapping[Any, Any], *, project_path: str) -> RunInfo:
        """From the run's journal row (and its project's path)."""
        fields = {name: run[name] for name in cls.__dataclass_fields__ if name != "project_path"}
        return cls(project_path=project_path, **fields)

    def inside(self, path: str | os.PathLike[str] | None) -> str:
        """Where a step's ``path`` (``cwd``, a file) is: relative paths are inside the run's
        working directory, not the worker's."""
        return os.path.join(self.working_dir, path or "")


class StepApi:
    """``ctx.step``: every call is one memoized step."""

    def __init__(self, execution: RunExecution) -> None:
        self._execution = execution

    async def run(
        self,
        step_id: str,
        fn: Callable[..., Any],
        *args: Any,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` (sync functions in a thread) as a step; its result
        must be JSON-serialisable and is returned as the journal holds it."""

        async def action() -> Any:
            if inspect.iscoroutinefunction(fn):
                return await fn(*args, **kwargs)
            result = await asyncio.to_thread(fn, *args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return await self._execution.run_step(
            step_id, "run", action, retries=retries, retry_backoff=retry_backoff, timeout=timeout
        )

    async def cli(
        self,
        step_id: str,
        command: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
    ) -> CliResult:
        """A shell command in its own process group; output streams to the step's logs."""
        execution = self._execution
        workdir = execution.run_info.inside(cwd)

        if env:
            execution.add_secrets(secret_values(env))

        async def action() -> CliResult:
            result = await run_command(
                command,
                cwd=workdir,
                env=env,
                sink=execution.command_output_sink(),
                on_start=execution.record_process_group,
            )
            if check and result.exit_code != 0:
                tail = result.stderr.strip().splitlines()[-1:] or [""]
                raise RuntimeError(f"command exited with code {result.exit_code}: {tail[0]}")
            return result

        output = await execution.run_step(
            step_id, "cli", action, retries=retries, retry_backoff=retry_backoff, timeout=timeout
        )
        return CliResult(**output)

    async def git(
        self,
        step_id: str,
        op: str,
        *,
        message: str | None = None,
        paths: Sequence[str] | None = None,
        branch: str | None = None,
        base: str | None = None,
        path: str | None = None,
        force: bool = False,
        remote: str = "origin",
        title: str | None = None,
        body: str = "",
        draft: bool = False,
        cwd: str | None = None,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
    ) -> GitResult:
        """A git operation in the run's working directory (SPEC 8): ``commit`` (``message``,
        optional ``paths``), ``branch`` (``branch``, optional ``base``), ``worktree-add``
        (``path``, ``branch``, optional ``base``), ``worktree-remove`` (``path``, ``force``),
        ``push`` (optional ``branch``, ``remote``), ``pr`` (``title``, optional ``body``,
        ``base``, ``branch``, ``draft``; through ``gh``; the run shows its ``pr_url``)."""
        execution = self._execution
        workdir = execution.run_info.inside(cwd)

        async def action() -> GitResult:
            repo = git_steps.Git(workdir, execution.command_output_sink())
            if op == "commit":
                return await git_steps.commit(repo, message=message or "", paths=paths)
            if op == "branch":
                return await git_steps.branch(repo, name=_required(branch, "branch"), base=base)
            if op == "worktree-add":
                return await git_steps.worktree_add(
                    repo,
                    path=_required(path, "path"),
                    branch_name=_required(branch, "branch"),
                    base=base,
                )
            if op == "worktree-remove":
                return await git_steps.worktree_remove(
                    repo, path=_required(path, "path"), force=force
                )
            if op == "push":
                return await git_steps.push(repo, remote=remote, branch=branch)
            if op == "pr":
                opened = await git_steps.pr(
                    repo, title=title or "", body=body, base=base, branch=branch, draft=draft
                )
                if opened.pr_url:
                    await execution.set_pr_url(opened.pr_url)
                return opened
            raise InvalidInput(f"unknown git op {op!r}; use one of {', '.join(git_steps.GIT_OPS)}")

        output = await execution.run_step(
            step_id, "git", action, retries=retries, retry_backoff=retry_backoff, timeout=timeout
        )
        return GitResult(**output)

    async def agent(
        self,
        step_id: str,
        *,
        prompt: str,
        agent: str = "claude",
        json: bool = False,
        resume: str | None = None,
        permission_mode: str | None = None,
        model: str | None = None,
        check: bool = True,
        cwd: str | None = None,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = 3600,
    ) -> AgentResult:
        """A coding agent (``claude``, ``codex`` or ``gemini``) run headless in the run's
        working directory; its transcript streams to the step's logs. Its session is
        recorded before it works, and continued if the step runs again after a crash.
        ``resume`` continues a given session instead (``ctx.run.planning_session_id``);
        ``json=True`` parses the JSON of the final answer into ``data``;
        ``permission_mode`` is passed as the agent's own (claude ``--permission-mode``,
        default acceptEdits; codex ``--sandbox``, default workspace-write; gemini
        ``--approval-mode``, default auto_edit). An agent that does not finish fails the
        step unless ``check=False``."""
        call = AgentCall(
            agent=agent,
            prompt=prompt,
            json=json,
            resume=resume,
            permission_mode=permission_mode,
            model=model,
            check=check,
        )
        adapter_for(agent)  # an unknown agent fails the workflow before the step starts
        output = await self._execution.run_agent_step(
            step_id,
            call,
            cwd=self._execution.run_info.inside(cwd),
            retries=retries,
            retry_backoff=retry_backoff,
            timeout=timeout,
        )
        return AgentResult(**output)

    async def sleep(self, step_id: str, seconds: float) -> None:
        """A durable sleep: after a crash and resume it sleeps only what is left. A long one
        (over 30 s by default) parks the run: no worker holds it until it is due."""
        await self._execution.run_sleep(step_id, seconds)

    async def wait_for_event(
        self,
        step_id: str,
        *,
        event: str,
        timeout: float | None = None,
        retries: int = 0,
        retry_backoff: float = 1.0,
    ) -> Any:
        """Wait for the event ``event`` sent to this run (``stepstone send``, ``POST
        /api/workflows/{id}/events``) and return its data; one sent before the wait is taken
        at once. The run parks meanwhile. Raises EventTimeout when nothing arrives within
        ``timeout`` seconds."""
        checked_event_name(event)
        return await self._execution.run_wait(
            step_id,
            "event",
            event=event,
            timeout=timeout,
            retries=retries,
            retry_backoff=retry_backoff,
        )

    async def approval(
        self, step_id: str, *, prompt: str, timeout: float | None = None
    ) -> Approval:
        """Ask a person to approve or reject (the run page's card, ``stepstone approve``);
        the run parks until they decide. Raises EventTimeout when nobody decides within
        ``timeout`` seconds."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidInput("an approval needs a prompt= saying what to decide")
        decision = await self._execution.run_wait(
            step_id, "approval", prompt=prompt, timeout=timeout
        )
        return Approval(**decision)

    async def artifact(
        self,
        step_id: str,
        *,
        name: str,
        content: str | bytes | None = None,
        path: str | os.PathLike[str] | None = None,
        content_type: str | None = None,
        retries: int = 0,
        retry_backoff: float = 1.0,
        timeout: float | None = None,
    ) -> ArtifactInfo:
        """Save ``content`` (text or bytes) or a copy of the file at ``path`` (relative to the
        run's working directory) as the run's downloadable artifact ``name``, a plain file
        name; saving the same name again replaces that artifact."""
        execution = self._execution
        source = None if path is None else execution.run_info.inside(path)

        async def action() -> ArtifactInfo:
            return await execution.save_artifact(
                name, content=content, source=source, content_type=content_type
            )

        output = await execution.run_step(
            step_id,
            "artifact",
            action,
            retries=retries,
            retry_backoff=retry_backoff,
            timeout=timeout,
        )
        return ArtifactInfo(**output)


class RunLogger:
    """``ctx.log``: run log lines tagged with the current phase and step. Lines written while
    the run is replaying its recorded steps are not written again."""

    def __init__(self, execution: RunExecution) -> None:
        self._execution = execution

    def _log(self, level: int, message: str, args: tuple[Any, ...]) -> None:
        text = message % args if args else message
        self._execution.log_line(logging.getLevelName(level).lower(), text)

    def info(self, message: str, *args: Any) -> None:
        self._log(logging.INFO, message, args)

    def warning(self, message: str, *args: Any) -> None:
        self._log(logging.WARNING, message, args)

    def error(self, message: str, *args: Any) -> None:
        self._log(logging.ERROR, message, args)


class Context:
    """The handle a workflow function receives."""

    def __init__(self, execution: RunExecution, args: dict[str, Any]) -> None:
        self._execution = execution
        self.args = args
        self.run = execution.run_info
        self.step = StepApi(execution)
        self.log = RunLogger(execution)

    @asynccontextmanager
    async def phase(self, phase_id: str) -> AsyncIterator[None]:
        """Group the steps called inside under ``phase_id`` (keys become ``phase-step``)."""
        async with self._execution.phase(slugify(phase_id)):
            yield

    async def annotate(self, markdown: str) -> None:
        """Add a note to the run's timeline (written once, however often the run replays)."""
        await self._execution.annotate(markdown)

    def step_idempotency_key(self, step_id: str) -> str:
        """A key for the next call of that step, the same across attempts and resumes, to
        hand to external APIs; call it just before the step."""
        return self._execution.idempotency_key(step_id)


def _required(value: str | None, name: str) -> str:
    if not value:
        raise InvalidInput(f"this git op needs {name}=")
    return value
