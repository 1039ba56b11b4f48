"""Claude Code, headless: ``claude -p --output-format stream-json --verbose``.

The session id is Stepstone's choice (``--session-id``), continued with ``--resume``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stepstone.steps.agents.base import Invocation
from stepstone.steps.agents.transcript import AgentTurn, Entry, clipped, clipped_value

DEFAULT_PERMISSION_MODE = "acceptEdits"


class Claude:
    name = "claude"
    chooses_session_id = True

    def argv(self, command: Sequence[str], call: Invocation) -> list[str]:
        argv = [*command, "-p", "--output-format", "stream-json", "--verbose"]
        if call.session_id is not None:
            argv += ["--resume" if call.continuing else "--session-id", call.session_id]
        argv += ["--permission-mode", call.permission_mode or DEFAULT_PERMISSION_MODE]
        if call.model:
            argv += ["--model", call.model]
        return [*argv, "--", call.prompt]

    def parse(self, event: dict[str, Any], turn: AgentTurn) -> list[Entry]:
        kind = event.get("type")
        if kind == "system" and event.get("subtype") == "init":
            turn.session_id = event.get("session_id") or turn.session_id
            turn.model = event.get("model") or turn.model
            return [{"type": "session", "session_id": turn.session_id, "model": turn.model}]
        if kind == "assistant":
            return _assistant_entries(event.get("message") or {}, turn)
        if kind == "user":
            return _tool_results(event.get("message") or {})
        if kind == "result":
            return _result_entries(event, turn)
        return [{"type": "raw", "data": clipped_value(event)}]

    def finish(self, turn: AgentTurn) -> list[Entry]:
        return []


def _assistant_entries(message: dict[str, Any], turn: AgentTurn) -> list[Entry]:
    entries: list[Entry] = []
    for block in message.get("content") or []:
        if block.get("type") == "text" and block.get("text"):
            turn.said_anything = True
            turn.text = block["text"]
            entries.append({"type": "message", "text": clipped(block["text"])})
        elif block.get("type") == "thinking" and block.get("thinking"):
            entries.append({"type": "thinking", "text": clipped(block["thinking"])})
        elif block.get("type") == "tool_use":
            turn.said_anything = True
            entries.append(
                {
                    "type": "tool_call",
                    "id": block.get("id"),
                    "name": block.get("name"),
                    "input": clipped_value(block.get("input")),
                }
            )
    return entries


def _tool_results(message: dict[str, Any]) -> list[Entry]:
    content = message.get("content")
    if not isinstance(content, list):  # the prompt echoed back
        return []
    entries: list[Entry] = []
    for block in content:
        if block.get("type") != "tool_result":
            continue
        output = block.get("content")
        if isinstance(output, list):
            output = "\n".join(str(part.get("text", "")) for part in output)
        entries.append(
            {
                "type": "tool_result",
                "id": block.get("tool_use_id"),
                "output": clipped(str(output or "")),
                "is_error": bool(block.get("is_error")),
            }
        )
    return entries


def _result_entries(event: dict[str, Any], turn: AgentTurn) -> list[Entry]:
    # An API failure can come as subtype "success" with is_error set: trust is_error.
    turn.failed = bool(event.get("is_error")) or event.get("subtype") != "success"
    turn.session_id = event.get("session_id") or turn.session_id
    if isinstance(event.get("result"), str):
        turn.text = event["result"]
    usage = event.get("usage") or {}
    cache_read = usage.get("cache_read_input_tokens") or 0
    turn.add_tokens(
        input_tokens=(usage.get("input_tokens") or 0)
        + (usage.get("cache_creation_input_tokens") or 0)
        + cache_read,
        output_tokens=usage.get("output_tokens") or 0,
        cached_input_tokens=cache_read,
    )
    if isinstance(event.get("total_cost_usd"), int | float):
        turn.usage["cost_usd"] = (turn.usage["cost_usd"] or 0.0) + event["total_cost_usd"]
    errors = [str(error) for error in event.get("errors") or []]
    if turn.failed and not errors:
        errors = [f"claude ended with {event.get('subtype')}"]
    turn.errors += errors
    entries: list[Entry] = [{"type": "error", "message": clipped(error)} for error in errors]
    entries.append({"type": "result", "success": not turn.failed, "text": clipped(turn.text)})
    return entries
