"""A fake ``gemini`` (Gemini CLI), headless.

``gemini -p "<prompt>" --output-format stream-json [--session-id <uuid> | --resume <id>]
[--approval-mode M] [-m M]`` prints Gemini CLI's stream-json events, each with a
``timestamp``: ``init`` (session id and model), the user's ``message``, the assistant's text
as ``delta`` chunks, ``tool_use``/``tool_result`` pairs, and a closing ``result`` with token
stats (no dollars).
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
    now_iso,
    read_prompt,
    split_args,
)
from stepstone.fake_agents.directives import Plan
from stepstone.fake_agents.run import Agent, Command, Invocation, Refusal, ToolCall, serve

DEFAULT_MODEL = "gemini-2.5-pro"
DELTA_CHARS = 16
VALUE_FLAGS = frozenset(
    {
        "-p",
        "--prompt",
        "-i",
        "--prompt-interactive",
        "-o",
        "--output-format",
        "--session-id",
        "-r",
        "--resume",
        "--session-file",
        "--approval-mode",
        "-m",
        "--model",
        "--include-directories",
        "--allowed-tools",
        "--allowed-mcp-server-names",
        "-e",
        "--extensions",
        "--telemetry-target",
        "--telemetry-otlp-endpoint",
        "--proxy",
    }
)


def _session(new_id: str | None, resume_id: str | None) -> tuple[str, bool]:
    """The session id and whether it is resumed, with the CLI's refusals."""
    if new_id is not None and resume_id is not None:
        raise UsageError("Arguments session-id and resume are mutually exclusive", 1)
    if new_id is not None and not is_uuid(new_id):
        raise UsageError(f"Invalid session ID {new_id!r}: must be a UUID", 1)
    return resume_id or new_id or new_uuid(), resume_id is not None


def parse(argv: list[str]) -> Invocation:
    """Gemini CLI's headless command line; the prompt is ``-p``'s value, else the words
    given as positional arguments, else stdin."""
    args = split_args(argv, VALUE_FLAGS)
    flagged_prompt = args.value("-p", "--prompt")
    if flagged_prompt is not None:
        prompt = flagged_prompt
    else:
        prompt = " ".join(args.positionals) if args.positionals else read_prompt([])
    session_id, resume = _session(args.value("--session-id"), args.value("--resume", "-r"))
    return Invocation(
        prompt=prompt,
        session_id=session_id,
        resume=resume,
        stream=args.value("--output-format", "-o") == "stream-json",
        cwd=Path.cwd(),
        model=args.value("-m", "--model") or DEFAULT_MODEL,
    )


def _emit(event_type: str, **fields: object) -> None:
    emit({"type": event_type, "timestamp": now_iso(), **fields})


def _tool(tool: ToolCall) -> tuple[str, Event, str]:
    """The tool's name, its parameters and its output, as Gemini CLI's tools report them."""
    if isinstance(tool, Command):
        return "run_shell_command", {"command": tool.command}, ""
    parameters = {"file_path": str(tool.path), "content": tool.content}
    if tool.previous is None:
        return "write_file", parameters, f"Successfully created and wrote to new file: {tool.path}."
    return "write_file", parameters, f"Successfully overwrote file: {tool.path}."


class GeminiStream:
    """Gemini CLI's ``stream-json`` transcript of one turn."""

    def __init__(self, invocation: Invocation, plan: Plan) -> None:
        self._invocation = invocation
        self._plan = plan
        self._tool_id = ""
        self._tool_calls = 0
        self._texts_this_turn = 0
        self._started = time.monotonic()

    def begin(self) -> None:
        _emit("init", session_id=self._invocation.session_id, model=self._invocation.model)
        _emit("message", role="user", content=self._invocation.prompt)

    def say(self, text: str) -> None:
        """The text in chunks, the way the model streams it. Deltas carry no message
        boundary, so a message that follows another in the same turn starts with a blank
        line, as a model's next paragraph would."""
        if self._texts_this_turn:
            text = f"\n\n{text}"
        self._texts_this_turn += 1
        for start in range(0, len(text), DELTA_CHARS):
            _emit(
                "message", role="assistant", content=text[start : start + DELTA_CHARS], delta=True
            )

    def call(self, tool: ToolCall) -> None:
        name, parameters, _ = _tool(tool)
        self._tool_id = f"{name}-{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}"
        self._tool_calls += 1
        _emit("tool_use", tool_name=name, tool_id=self._tool_id, parameters=parameters)

    def finished(self, tool: ToolCall) -> None:
        _, _, output = _tool(tool)
        _emit("tool_result", tool_id=self._tool_id, status="success", output=output)
        self._texts_this_turn = 0

    def succeed(self, answer: str) -> None:
        self.say(answer)
        _emit("result", status="success", stats=self._stats())

    def fail(self, error: str) -> None:
        _emit(
            "result", status="error", error={"type": "Error", "message": error}, stats=self._stats()
        )

    def _stats(self) -> Event:
        plan = self._plan
        return {
            "total_tokens": plan.input_tokens + plan.output_tokens,
            "input_tokens": plan.input_tokens,
            "output_tokens": plan.output_tokens,
            "cached": 0,
            "input": plan.input_tokens,
            "duration_ms": round((time.monotonic() - self._started) * 1000),
            "tool_calls": self._tool_calls,
        }


def refuse(invocation: Invocation, refusal: Refusal) -> int:
    """Said on stderr, and as an ``error`` event to a reader of the stream."""
    if refusal is Refusal.IN_USE:
        message = f'Error: Session ID "{invocation.session_id}" is already in use.'
    else:
        message = f'Error resuming session: Invalid session identifier "{invocation.session_id}".'
    print(message, file=sys.stderr)
    if invocation.stream:
        _emit("error", severity="error", message=message)
    return 1


AGENT = Agent("gemini", parse, GeminiStream, refuse)


def main(argv: list[str]) -> int:
    return serve(AGENT, argv)
