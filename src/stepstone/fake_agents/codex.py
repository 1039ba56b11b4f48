"""A fake ``codex`` (OpenAI Codex CLI), ``exec`` mode only.

``codex exec --json [--sandbox M] [-m M] [-C DIR] [--skip-git-repo-check] [-c k=v]...
[resume <SESSION_ID>] "<prompt>"`` prints Codex's ``--json`` events: ``thread.started``
(the only place the session id appears; codex chooses it), ``turn.started``, ``item.*``
events for messages, commands and file changes, then ``turn.completed`` with token usage
(no dollars) or ``turn.failed``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stepstone.fake_agents.common import Event, UsageError, emit, new_uuid, read_prompt, split_args
from stepstone.fake_agents.directives import Plan
from stepstone.fake_agents.run import Agent, Command, Invocation, Refusal, ToolCall, serve

VALUE_FLAGS = frozenset(
    {
        "-s",
        "--sandbox",
        "-m",
        "--model",
        "-C",
        "--cd",
        "-c",
        "--config",
        "-p",
        "--profile",
        "-i",
        "--image",
        "--add-dir",
        "--output-schema",
        "-o",
        "--output-last-message",
        "--color",
        "--local-provider",
        "--enable",
        "--disable",
    }
)


def _working_folder(folder: str | None) -> Path:
    if folder is None:
        return Path.cwd()
    path = Path(folder).resolve()
    if not path.is_dir():
        raise UsageError(f"Error: failed to change directory to {folder}: not a directory", 1)
    return path


def parse(argv: list[str]) -> Invocation:
    """``codex exec`` and ``codex exec resume`` command lines; flags may stand anywhere."""
    args = split_args(argv, VALUE_FLAGS)
    words = args.positionals
    if not words or words[0] not in ("exec", "e"):
        raise UsageError("the fake codex supports `codex exec` only")
    resume = len(words) > 1 and words[1] == "resume"
    if resume and len(words) < 3:
        raise UsageError("error: `codex exec resume` needs a SESSION_ID")
    return Invocation(
        prompt=read_prompt(words[3:] if resume else words[1:]),
        session_id=words[2] if resume else new_uuid(),
        resume=resume,
        stream=args.has("--json"),
        cwd=_working_folder(args.value("-C", "--cd")),
    )


class CodexStream:
    """Codex's ``exec --json`` transcript of one turn; items are numbered ``item_0``, ..."""

    def __init__(self, invocation: Invocation, plan: Plan) -> None:
        self._invocation = invocation
        self._plan = plan
        self._items = 0
        self._tool_item: Event = {}

    def _next_item_id(self) -> str:
        item_id = f"item_{self._items}"
        self._items += 1
        return item_id

    def begin(self) -> None:
        emit({"type": "thread.started", "thread_id": self._invocation.session_id})
        emit({"type": "turn.started"})

    def say(self, text: str) -> None:
        item = {"id": self._next_item_id(), "type": "agent_message", "text": text}
        emit({"type": "item.completed", "item": item})

    def call(self, tool: ToolCall) -> None:
        """A command is shown as started, then completed; a file change only once done."""
        if isinstance(tool, Command):
            self._tool_item = {
                "id": self._next_item_id(),
                "type": "command_execution",
                "command": f"bash -lc '{tool.command}'",
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            }
            emit({"type": "item.started", "item": self._tool_item})
        else:
            kind = "add" if tool.previous is None else "update"
            self._tool_item = {
                "id": self._next_item_id(),
                "type": "file_change",
                "changes": [{"path": str(tool.path), "kind": kind}],
                "status": "completed",
            }

    def finished(self, tool: ToolCall) -> None:
        if isinstance(tool, Command):
            self._tool_item = {**self._tool_item, "exit_code": 0, "status": "completed"}
        emit({"type": "item.completed", "item": self._tool_item})

    def succeed(self, answer: str) -> None:
        self.say(answer)
        usage = {
            "input_tokens": self._plan.input_tokens,
            "cached_input_tokens": 0,
            "output_tokens": self._plan.output_tokens,
        }
        emit({"type": "turn.completed", "usage": usage})

    def fail(self, error: str) -> None:
        emit({"type": "error", "message": error})
        emit({"type": "turn.failed", "error": {"message": error}})


def refuse(invocation: Invocation, refusal: Refusal) -> int:
    """Codex chooses new ids itself, so only an unknown id to resume is ever refused."""
    message = f"Error: no rollout found for thread id {invocation.session_id}"
    if invocation.stream:
        emit({"type": "error", "message": message})
    else:
        print(message, file=sys.stderr)
    return 1


AGENT = Agent("codex", parse, CodexStream, refuse)


def main(argv: list[str]) -> int:
    return serve(AGENT, argv)
