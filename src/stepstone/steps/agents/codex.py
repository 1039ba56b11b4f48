"""Codex CLI, headless: ``codex exec --json``.

Codex names the session itself, in its first event (``thread.started``), and continues it
with ``codex exec resume <id>``. Its usage is tokens only: dollars come from the price table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stepstone.steps.agents.base import Invocation
from stepstone.steps.agents.pricing import cost_usd
from stepstone.steps.agents.transcript import AgentTurn, Entry, clipped, clipped_value

DEFAULT_SANDBOX = "workspace-write"


class Codex:
    name = "codex"
    chooses_session_id = False

    def __init__(self) -> None:
        self._model: str | None = None

    def argv(self, command: Sequence[str], call: Invocation) -> list[str]:
        self._model = call.model
        argv = [*command, "exec", "--json", "--skip-git-repo-check"]
        argv += ["--sandbox", call.permission_mode or DEFAULT_SANDBOX]
        if call.model:
            argv += ["--model", call.model]
        if call.continuing and call.session_id is not None:
            argv += ["resume", call.session_id]
        return [*argv, "--", call.prompt]

    def parse(self, event: dict[str, Any], turn: AgentTurn) -> list[Entry]:
        kind = event.get("type")
        if kind == "thread.started":
            turn.session_id = event.get("thread_id") or turn.session_id
            return [{"type": "session", "session_id": turn.session_id, "model": self._model}]
        if kind in ("item.started", "item.completed"):
            return _item_entries(event.get("item") or {}, kind == "item.completed", turn)
        if kind == "turn.completed":
            usage = event.get("usage") or {}
            turn.add_tokens(
                input_tokens=usage.get("input_tokens") or 0,
                output_tokens=usage.get("output_tokens") or 0,
                cached_input_tokens=usage.get("cached_input_tokens") or 0,
            )
            return []
        if kind in ("turn.failed", "error"):
            error = event.get("error") or {}
            message = str(event.get("message") or error.get("message") or "codex failed")
            turn.failed = True
            turn.errors.append(message)
            return [{"type": "error", "message": clipped(message)}]
        if kind in ("turn.started", "item.updated"):
            return []
        return [{"type": "raw", "data": clipped_value(event)}]

    def finish(self, turn: AgentTurn) -> list[Entry]:
        turn.model = turn.model or self._model
        turn.usage["cost_usd"] = cost_usd(turn.model, turn.usage)
        return [{"type": "result", "success": not turn.failed, "text": clipped(turn.text)}]


def _item_entries(item: dict[str, Any], completed: bool, turn: AgentTurn) -> list[Entry]:
    kind, item_id = item.get("type"), item.get("id")
    if kind == "agent_message" and completed:
        turn.said_anything = True
        turn.text = str(item.get("text") or "")
        return [{"type": "message", "text": clipped(turn.text)}]
    if kind == "reasoning" and completed:
        return [{"type": "thinking", "text": clipped(str(item.get("text") or ""))}]
    if kind == "error":
        return [{"type": "error", "message": clipped(str(item.get("message") or ""))}]
    tool = _tool_call(item)
    if tool is None:
        return [] if kind in ("agent_message", "reasoning", "todo_list") else _raw(item)
    turn.said_anything = True
    call: Entry = {"type": "tool_call", "id": item_id, "name": tool[0], "input": tool[1]}
    if not completed:
        return [call]
    result: Entry = {
        "type": "tool_result",
        "id": item_id,
        "output": clipped(str(item.get("aggregated_output") or item.get("status") or "")),
        "is_error": item.get("status") == "failed" or item.get("exit_code") not in (None, 0),
    }
    # A command shows up when it starts; anything else only once it is done.
    return [result] if kind == "command_execution" else [call, result]


def _tool_call(item: dict[str, Any]) -> tuple[str, Any] | None:
    kind = item.get("type")
    if kind == "command_execution":
        return "command", {"command": item.get("command")}
    if kind == "file_change":
        return "file_change", {"changes": clipped_value(item.get("changes"))}
    if kind == "mcp_tool_call":
        name = f"{item.get('server')}.{item.get('tool')}"
        return name, clipped_value(item.get("arguments"))
    if kind == "web_search":
        return "web_search", {"query": item.get("query")}
    return None


def _raw(item: dict[str, Any]) -> list[Entry]:
    return [{"type": "raw", "data": clipped_value(item)}]
