"""An agent step's attempt: start or continue the agent's session, stream its transcript,
and return what it answered (SPEC 8).

The session is what makes an interrupted agent step resumable: its id is in the journal
before the agent does any work (chosen up front, or committed the moment the agent names
it), and when the step runs again the agent continues that session, in the same working
directory, with a short note that it was interrupted, instead of starting the work over.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from stepstone.errors import AgentFailed, InvalidInput
from stepstone.steps import snapshots
from stepstone.steps.agents.base import Adapter, Invocation
from stepstone.steps.agents.claude import Claude
from stepstone.steps.agents.codex import Codex
from stepstone.steps.agents.gemini import Gemini
from stepstone.steps.agents.transcript import AGENT_STREAM, AgentTurn, Entry, final_json
from stepstone.steps.cli import run_command
from stepstone.steps.processes import ProcessGroup

ADAPTERS: dict[str, Callable[[], Adapter]] = {"claude": Claude, "codex": Codex, "gemini": Gemini}

CONTINUATION = (
    "Your previous work on this task was interrupted before you finished (the process "
    "running you was stopped). The files are as you left them. Continue from where you left "
    "off and complete the task. The task was:\n\n{quoted}"
)


def continuation_prompt(prompt: str) -> str:
    """What an interrupted session is told when it is continued: the task, quoted."""
    return CONTINUATION.format(quoted="\n".join(f"> {line}" for line in prompt.splitlines()))


@dataclass(frozen=True)
class AgentResult:
    """What an agent step returns."""

    session_id: str | None
    exit_code: int
    success: bool
    text: str
    """The final answer."""
    data: Any = None
    """With ``json=True``: the JSON value found in the final answer."""
    usage: dict[str, Any] | None = None
    """Tokens (``input_tokens`` including ``cached_input_tokens``, ``output_tokens``) and
    ``cost_usd`` where known, of this attempt."""


@dataclass(frozen=True)
class AgentCall:
    """An agent step as the workflow wrote it."""

    agent: str
    prompt: str
    json: bool = False
    resume: str | None = None
    """A session to continue (a planning session) instead of starting a new one."""
    permission_mode: str | None = None
    model: str | None = None
    check: bool = True


class StepHost(Protocol):
    """What the engine offers an agent step: its records, and the journal to write them."""

    @property
    def session_id(self) -> str | None:
        """The session an earlier attempt of this step recorded."""

    @property
    def base_tree(self) -> str | None:
        """The working tree (git tree id) before the step's first attempt."""

    def log(self, stream: str, line: str) -> None: ...

    async def record_session(self, session_id: str) -> None: ...

    async def record_base_tree(self, tree: str) -> None: ...

    async def add_usage(self, usage: dict[str, Any]) -> None: ...

    async def check_budget(self) -> None: ...

    async def record_process_group(self, group: ProcessGroup) -> None: ...

    async def save_diff(self, patch: str) -> None: ...


def adapter_for(agent: str) -> Adapter:
    if agent not in ADAPTERS:
        raise InvalidInput(f"unknown agent {agent!r}; use one of {', '.join(ADAPTERS)}")
    return ADAPTERS[agent]()


async def run_agent(
    call: AgentCall, host: StepHost, command: Sequence[str], cwd: str
) -> AgentResult:
    """One attempt of an agent step in ``cwd``, ``command`` starting the agent's CLI."""
    adapter = adapter_for(call.agent)
    await host.check_budget()
    if host.base_tree is None and (tree := await snapshots.snapshot(cwd)) is not None:
        await host.record_base_tree(tree)
    session: str | None = host.session_id
    if session is not None:  # this step's own session, cut short before
        prompt = continuation_prompt(call.prompt)
        _note(host, f"continuing session {session} of the interrupted attempt")
    else:
        session, prompt = call.resume, call.prompt
    invocation = Invocation(prompt, session, session is not None, call.permission_mode, call.model)
    turn, exit_code = await _run_cli(adapter, invocation, host, command, cwd)
    if invocation.continuing and exit_code != 0 and not turn.said_anything:
        _note(host, f"session {session} could not be continued; starting a new one")
        fresh = replace(invocation, prompt=call.prompt, session_id=None, continuing=False)
        turn, exit_code = await _run_cli(adapter_for(call.agent), fresh, host, command, cwd)
    before = host.base_tree
    if before is not None and (after := await snapshots.snapshot(cwd)) not in (None, before):
        await host.save_diff(await snapshots.diff(cwd, before, str(after)))
    success = exit_code == 0 and not turn.failed
    if call.check and not success:
        reason = turn.errors[-1] if turn.errors else f"exit code {exit_code}"
        raise AgentFailed(f"{call.agent} did not finish: {reason}")
    return AgentResult(
        session_id=turn.session_id,
        exit_code=exit_code,
        success=success,
        text=turn.text,
        data=final_json(turn.text) if call.json and success else None,
        usage=turn.usage,
    )


async def _run_cli(
    adapter: Adapter,
    call: Invocation,
    host: StepHost,
    command: Sequence[str],
    cwd: str,
) -> tuple[AgentTurn, int]:
    """Run the agent's CLI once, its events going to the transcript as they come."""
    if not call.continuing and adapter.chooses_session_id:
        call = replace(call, session_id=str(uuid.uuid4()))
    if call.session_id is not None and call.session_id != host.session_id:
        await host.record_session(call.session_id)  # before the agent does any work
    turn = AgentTurn(session_id=call.session_id)
    recording: list[Awaitable[None]] = []

    def on_line(stream: str, line: str) -> None:
        event = _event(line) if stream == "stdout" else None
        if event is None:
            host.log(stream, line)
            return
        known = turn.session_id
        _write(host, adapter.parse(event, turn))
        named = turn.session_id
        if named is not None and named != known and named != host.session_id:
            # The agent named its session: commit it now, while it works.
            recording.append(asyncio.ensure_future(host.record_session(named)))

    try:
        result = await run_command(
            adapter.argv(command, call),
            cwd=cwd,
            env=None,
            sink=on_line,
            on_start=host.record_process_group,
        )
    except FileNotFoundError as exc:
        raise AgentFailed(
            f"{adapter.name} is not installed (or not on PATH): {exc.filename}; set "
            f"STEPSTONE_{adapter.name.upper()}_COMMAND to its command"
        ) from exc
    finally:
        await asyncio.gather(*recording)
    _write(host, adapter.finish(turn))
    if any(turn.usage[key] for key in ("input_tokens", "output_tokens")):
        _write(host, [turn.usage_entry()])
        await host.add_usage(turn.usage)
    return turn, result.exit_code


def _event(line: str) -> dict[str, Any] | None:
    """A streamed JSON event, or None for any other line (a warning the CLI printed)."""
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _write(host: StepHost, entries: list[Entry]) -> None:
    for entry in entries:
        host.log(AGENT_STREAM, json.dumps(entry, ensure_ascii=False))


def _note(host: StepHost, text: str) -> None:
    _write(host, [{"type": "notice", "text": text}])
