"""One turn of a fake agent, the same for every CLI; only the transcript's format differs.

:func:`serve` takes a command line from start to exit code: log the call, open or create the
session (before any work, like the real CLIs write their transcript early), then follow the
prompt's directives while a :class:`Transcript` prints each step in the CLI's own format.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from stepstone.fake_agents import directives
from stepstone.fake_agents.common import (
    Session,
    UsageError,
    create_session,
    log_call,
    resume_session,
    state_dir,
)
from stepstone.fake_agents.directives import Action, Plan, Work

WORK_TICK_SECONDS = 0.2

# The tool an agent launches for ``@work``: it appends a tick to its own log every
# WORK_TICK_SECONDS until its time is up. argv: the state folder, the seconds to run.
_WORK_CHILD = f"""
import os, sys, time
log = os.path.join(sys.argv[1], f"work-{{os.getpid()}}.log")
end = time.monotonic() + float(sys.argv[2])
while True:
    with open(log, "a") as file:
        file.write(f"tick {{os.getpid()}} {{time.time():.3f}}\\n")
    left = end - time.monotonic()
    if left <= 0:
        break
    time.sleep(min({WORK_TICK_SECONDS}, left))
"""


@dataclass(frozen=True)
class Invocation:
    """What a command line asks of a fake agent, whichever CLI's syntax it was written in."""

    prompt: str
    session_id: str
    resume: bool
    stream: bool
    cwd: Path
    model: str = ""
    """The model, for a CLI that names it (Codex's events do not)."""
    mode: str = "default"
    """The permission mode, for a CLI that shows it (Claude's ``init``)."""


@dataclass(frozen=True)
class Command:
    """A shell command the agent runs as a tool, for ``seconds``."""

    command: str
    seconds: float


@dataclass(frozen=True)
class FileWrite:
    """A file the agent writes whole; ``previous`` is its content before (None: it is new)."""

    path: Path
    content: str
    previous: str | None


ToolCall = Command | FileWrite


class Transcript(Protocol):
    """How one CLI shows the course of a turn on stdout."""

    def begin(self) -> None: ...
    def say(self, text: str) -> None: ...
    def call(self, tool: ToolCall) -> None: ...
    def finished(self, tool: ToolCall) -> None: ...
    def succeed(self, answer: str) -> None: ...
    def fail(self, error: str) -> None: ...


class PlainText:
    """A CLI asked for no JSON stream prints the final text only (an error on stderr)."""

    def begin(self) -> None:
        pass

    def say(self, text: str) -> None:
        pass

    def call(self, tool: ToolCall) -> None:
        pass

    def finished(self, tool: ToolCall) -> None:
        pass

    def succeed(self, answer: str) -> None:
        print(answer, flush=True)

    def fail(self, error: str) -> None:
        print(error, file=sys.stderr, flush=True)


class Refusal(Enum):
    """Why a CLI would not open the session it was asked for."""

    IN_USE = "in use"
    NOT_FOUND = "not found"


@dataclass(frozen=True)
class Agent:
    """One fake CLI: how it reads its command line, shows a turn and refuses a session."""

    name: str
    parse: Callable[[list[str]], Invocation]
    transcript: Callable[[Invocation, Plan], Transcript]
    refuse: Callable[[Invocation, Refusal], int]
    """Reports the refusal as the real CLI does; returns the exit code."""


def serve(agent: Agent, argv: list[str]) -> int:
    """Run one invocation of ``agent`` to its exit code."""
    state = state_dir()
    try:
        invocation = agent.parse(argv)
        directives.parse(invocation.prompt)
    except UsageError as error:
        log_call(state, agent.name, argv, Path.cwd(), None, resumed=False)
        print(error, file=sys.stderr)
        return error.exit_code
    log_call(state, agent.name, argv, invocation.cwd, invocation.session_id, invocation.resume)
    opened = _open_session(state, agent.name, invocation)
    if isinstance(opened, Refusal):
        return agent.refuse(invocation, opened)
    original = opened.original_prompt if invocation.resume else None
    plan = directives.plan(invocation.prompt, original)
    stream = agent.transcript(invocation, plan) if invocation.stream else PlainText()
    exit_code = perform(plan, stream, state, invocation.cwd)
    opened.end_turn(exit_code)
    return exit_code


def _open_session(state: Path, agent: str, invocation: Invocation) -> Session | Refusal:
    if invocation.resume:
        resumed = resume_session(state, agent, invocation.session_id, invocation.prompt)
        return Refusal.NOT_FOUND if resumed is None else resumed
    try:
        return create_session(
            state, agent, invocation.session_id, invocation.prompt, invocation.cwd
        )
    except FileExistsError:
        return Refusal.IN_USE


def perform(plan: Plan, transcript: Transcript, state: Path, cwd: Path) -> int:
    """Carry out ``plan``, showing each step as it starts and ends; the exit code."""
    transcript.begin()
    if plan.resumed:
        transcript.say(f"Continuing the interrupted task: {plan.task_title}")
    for action in plan.actions:
        tool = _tool_for(action, cwd)
        if isinstance(tool, Command):
            transcript.say("Working on it.")
        transcript.call(tool)
        _use(tool, state)
        transcript.finished(tool)
    if plan.error is not None:
        transcript.fail(plan.error)
        return 1
    transcript.succeed(plan.answer)
    return 0


def _tool_for(action: Action, cwd: Path) -> ToolCall:
    if isinstance(action, Work):
        return Command(f"sleep {action.seconds:g}", action.seconds)
    path = cwd / action.path
    previous = path.read_text() if path.is_file() else None
    return FileWrite(path, action.text + "\n", previous)


def _use(tool: ToolCall, state: Path) -> None:
    if isinstance(tool, Command):
        run_work(state, tool.seconds)
    else:
        tool.path.parent.mkdir(parents=True, exist_ok=True)
        tool.path.write_text(tool.content)


def run_work(state: Path, seconds: float) -> None:
    """Run the work child to its end (it logs to ``<state>/work-<its pid>.log``).

    The child stays in the agent's process group (no new session) but is not bound to the
    agent's life: if the agent is killed, the child works on, like a tool whose agent died.
    It holds none of the agent's pipes, so a reader of the agent's stdout sees its end."""
    child = subprocess.Popen(
        [sys.executable, "-c", _WORK_CHILD, str(state), str(seconds)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    child.wait()
