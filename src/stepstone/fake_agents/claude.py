"""A fake ``claude`` (Claude Code) in print mode.

``claude -p [--output-format stream-json --verbose] [--session-id <uuid> | --resume <id>]
[--permission-mode M] [--model M] [--max-turns N] "<prompt>"`` prints Claude Code's
stream-json events: ``system``/``init`` first, ``assistant`` messages holding one content
block each (text or ``tool_use``; the blocks of one API turn share a message id and its
usage), ``user`` messages with the ``tool_result``, a ``rate_limit_event`` (a line of a type
consumers must tolerate), and a closing ``result`` with the cost in dollars.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from stepstone.fake_agents.common import (
    Event,
    UsageError,
    emit,
    is_uuid,
    new_uuid,
    read_prompt,
    split_args,
)
from stepstone.fake_agents.directives import Plan
from stepstone.fake_agents.run import (
    Agent,
    Command,
    Invocation,
    Refusal,
    ToolCall,
    serve,
)

DEFAULT_MODEL = "claude-sonnet-4-5"
TOOLS = ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "TodoWrite", "WebFetch"]
INPUT_USD_PER_TOKEN = 3e-6
OUTPUT_USD_PER_TOKEN = 15e-6
VALUE_FLAGS = frozenset(
    {
        "--output-format",
        "--input-format",
        "--session-id",
        "--resume",
        "-r",
        "--permission-mode",
        "--permission-prompt-tool",
        "--model",
        "--fallback-model",
        "--effort",
        "--max-turns",
        "--max-budget-usd",
        "--allowedTools",
        "--allowed-tools",
        "--disallowedTools",
        "--disallowed-tools",
        "--mcp-config",
        "--append-system-prompt",
        "--system-prompt",
        "--json-schema",
        "--add-dir",
        "--settings",
        "--setting-sources",
        "--agents",
    }
)


def parse(argv: list[str]) -> Invocation:
    """Claude Code's print-mode command line, with its refusals."""
    args = split_args(argv, VALUE_FLAGS)
    if not args.has("-p", "--print"):
        raise UsageError("the fake claude runs headless only: pass -p")
    stream = args.value("--output-format") == "stream-json"
    if stream and not args.has("--verbose"):
        raise UsageError(
            "Error: When using --print, --output-format=stream-json requires --verbose", 1
        )
    resume_id = args.value("--resume", "-r")
    new_id = args.value("--session-id")
    if resume_id is not None and new_id is not None:
        raise UsageError(
            "Error: --session-id can only be used with --continue or --resume"
            " if --fork-session is also specified.",
            1,
        )
    if new_id is not None and not is_uuid(new_id):
        raise UsageError("Error: Invalid session ID. Must be a valid UUID.", 1)
    return Invocation(
        prompt=read_prompt(args.positionals),
        session_id=resume_id or new_id or new_uuid(),
        resume=resume_id is not None,
        stream=stream,
        cwd=Path.cwd(),
        model=args.value("--model") or DEFAULT_MODEL,
        mode=args.value("--permission-mode") or "default",
    )


def _usage(input_tokens: int, output_tokens: int) -> Event:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def _share(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split into ``parts``; the parts add up to the total."""
    return total // parts + (total % parts if index == parts - 1 else 0)


def _tool_input(tool: ToolCall) -> tuple[str, Event]:
    if isinstance(tool, Command):
        return "Bash", {"command": tool.command, "description": "Run the task's work"}
    if tool.previous is None:
        return "Write", {"file_path": str(tool.path), "content": tool.content}
    edit = {"file_path": str(tool.path), "old_string": tool.previous, "new_string": tool.content}
    return "Edit", edit


def _tool_output(tool: ToolCall) -> str:
    if isinstance(tool, Command):
        return ""
    if tool.previous is None:
        return f"File created successfully at: {tool.path}"
    return f"The file {tool.path} has been updated successfully."


class ClaudeStream:
    """Claude Code's ``stream-json`` transcript of one turn.

    Each tool call ends an API turn: the assistant lines before it share one message id and
    that turn's usage, which add up to the totals in ``result``."""

    def __init__(self, invocation: Invocation, plan: Plan) -> None:
        self._invocation = invocation
        self._plan = plan
        self._turns = len(plan.actions) + 1
        self._turn = 0
        self._message_id = _message_id()
        self._tool_use_id = ""
        self._started = time.monotonic()

    def _emit(self, event: Event) -> None:
        emit({**event, "session_id": self._invocation.session_id, "uuid": new_uuid()})

    def begin(self) -> None:
        invocation = self._invocation
        self._emit(
            {
                "type": "system",
                "subtype": "init",
                "cwd": str(invocation.cwd),
                "tools": TOOLS,
                "mcp_servers": [],
                "model": invocation.model,
                "permissionMode": invocation.mode,
                "slash_commands": [],
                "apiKeySource": "none",
                "output_style": "default",
            }
        )
        limit = {
            "status": "allowed",
            "resetsAt": int(time.time()) + 3600,
            "rateLimitType": "five_hour",
        }
        self._emit({"type": "rate_limit_event", "rate_limit_info": limit})

    def _assistant(self, block: Event) -> None:
        plan = self._plan
        usage = _usage(
            _share(plan.input_tokens, self._turns, self._turn),
            _share(plan.output_tokens, self._turns, self._turn),
        )
        message = {
            "id": self._message_id,
            "type": "message",
            "role": "assistant",
            "model": self._invocation.model,
            "content": [block],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        self._emit({"type": "assistant", "message": message, "parent_tool_use_id": None})

    def say(self, text: str) -> None:
        self._assistant({"type": "text", "text": text})

    def call(self, tool: ToolCall) -> None:
        self._tool_use_id = _tool_use_id()
        name, tool_input = _tool_input(tool)
        self._assistant(
            {"type": "tool_use", "id": self._tool_use_id, "name": name, "input": tool_input}
        )

    def finished(self, tool: ToolCall) -> None:
        result = {
            "tool_use_id": self._tool_use_id,
            "type": "tool_result",
            "content": _tool_output(tool),
            "is_error": False,
        }
        message = {"role": "user", "content": [result]}
        self._emit({"type": "user", "message": message, "parent_tool_use_id": None})
        self._turn += 1
        self._message_id = _message_id()

    def succeed(self, answer: str) -> None:
        self.say(answer)
        self._emit({**self._result("success", is_error=False), "result": answer})

    def fail(self, error: str) -> None:
        self._emit({**self._result("error_during_execution", is_error=True), "errors": [error]})

    def _result(self, subtype: str, *, is_error: bool) -> Event:
        plan = self._plan
        cost_usd = (
            plan.input_tokens * INPUT_USD_PER_TOKEN + plan.output_tokens * OUTPUT_USD_PER_TOKEN
        )
        duration_ms = round((time.monotonic() - self._started) * 1000)
        model_usage = {
            "inputTokens": plan.input_tokens,
            "outputTokens": plan.output_tokens,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 0,
            "costUSD": cost_usd,
        }
        return {
            "type": "result",
            "subtype": subtype,
            "is_error": is_error,
            "duration_ms": duration_ms,
            "duration_api_ms": duration_ms,
            "num_turns": self._turn + 1,
            "total_cost_usd": cost_usd,
            "usage": _usage(plan.input_tokens, plan.output_tokens),
            "modelUsage": {self._invocation.model: model_usage},
            "permission_denials": [],
        }


def _message_id() -> str:
    return f"msg_01{uuid.uuid4().hex[:22]}"


def _tool_use_id() -> str:
    return f"toolu_01{uuid.uuid4().hex[:22]}"


def refuse(invocation: Invocation, refusal: Refusal) -> int:
    """An id in use is refused on stderr before the stream starts; an unknown one to resume
    ends in an error ``result`` (under a fresh session id, as the real CLI reports it)."""
    if refusal is Refusal.IN_USE:
        print(f"Error: Session ID {invocation.session_id} is already in use.", file=sys.stderr)
        return 1
    message = f"No conversation found with session ID: {invocation.session_id}"
    if not invocation.stream:
        print(message, file=sys.stderr)
        return 1
    emit(
        {
            "type": "result",
            "subtype": "error_during_execution",
            "is_error": True,
            "duration_ms": 0,
            "duration_api_ms": 0,
            "num_turns": 0,
            "session_id": new_uuid(),
            "total_cost_usd": 0,
            "usage": _usage(0, 0),
            "modelUsage": {},
            "permission_denials": [],
            "errors": [message],
            "uuid": new_uuid(),
        }
    )
    return 1


AGENT = Agent("claude", parse, ClaudeStream, refuse)


def main(argv: list[str]) -> int:
    return serve(AGENT, argv)
