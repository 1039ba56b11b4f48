"""Gemini CLI, headless: ``gemini --output-format stream-json --prompt=…``.

The session id is Stepstone's choice (``--session-id``), continued with ``--resume``. The
answer streams in deltas, gathered here into whole messages. Usage is tokens only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stepstone.steps.agents.base import Invocation
from stepstone.steps.agents.pricing import cost_usd
from stepstone.steps.agents.transcript import AgentTurn, Entry, clipped, clipped_value

DEFAULT_APPROVAL_MODE = "auto_edit"


class Gemini:
    name = "gemini"
    chooses_session_id = True

    def __init__(self) -> None:
        self._message: list[str] = []

    def argv(self, command: Sequence[str], call: Invocation) -> list[str]:
        argv = [*command, "--output-format", "stream-json"]
        argv += ["--approval-mode", call.permission_mode or DEFAULT_APPROVAL_MODE]
        if call.session_id is not None:
            argv += ["--resume" if call.continuing else "--session-id", call.session_id]
        if call.model:
            argv += ["--model", call.model]
        # One argument, so that a prompt starting with "-" is not read as a flag.
        return [*argv, f"--prompt={call.prompt}"]

    def parse(self, event: dict[str, Any], turn: AgentTurn) -> list[Entry]:
        kind = event.get("type")
        if kind == "message":
            if event.get("role") == "assistant":
                self._message.append(str(event.get("content") or ""))
                if not event.get("delta"):
                    return self._flush(turn)
            return []
        entries = self._flush(turn)
        if kind == "init":
            turn.session_id = event.get("session_id") or turn.session_id
            turn.model = event.get("model") or turn.model
            entries.append({"type": "session", "session_id": turn.session_id, "model": turn.model})
        elif kind == "tool_use":
            turn.said_anything = True
            entries.append(
                {
                    "type": "tool_call",
                    "id": event.get("tool_id"),
                    "name": event.get("tool_name"),
                    "input": clipped_value(event.get("parameters")),
                }
            )
        elif kind == "tool_result":
            output = event.get("output") or (event.get("error") or {}).get("message") or ""
            entries.append(
                {
                    "type": "tool_result",
                    "id": event.get("tool_id"),
                    "output": clipped(str(output)),
                    "is_error": event.get("status") != "success",
                }
            )
        elif kind == "error":
            message = str(event.get("message") or "")
            if event.get("severity") == "warning":
                entries.append({"type": "notice", "text": clipped(message)})
            else:
                turn.errors.append(message)
                entries.append({"type": "error", "message": clipped(message)})
        elif kind == "result":
            entries += _result_entries(event, turn)
        else:
            entries.append({"type": "raw", "data": clipped_value(event)})
        return entries

    def finish(self, turn: AgentTurn) -> list[Entry]:
        return self._flush(turn)

    def _flush(self, turn: AgentTurn) -> list[Entry]:
        text, self._message = "".join(self._message), []
        if not text.strip():
            return []
        turn.said_anything = True
        turn.text = text
        return [{"type": "message", "text": clipped(text)}]


def _result_entries(event: dict[str, Any], turn: AgentTurn) -> list[Entry]:
    turn.failed = event.get("status") != "success"
    stats = event.get("stats") or {}
    turn.add_tokens(
        input_tokens=stats.get("input_tokens") or 0,
        output_tokens=stats.get("output_tokens") or 0,
        cached_input_tokens=stats.get("cached") or 0,
    )
    turn.usage["cost_usd"] = cost_usd(turn.model, turn.usage)
    entries: list[Entry] = []
    if turn.failed:
        error = event.get("error") or {}
        message = str(error.get("message") or f"gemini ended with {event.get('status')}")
        turn.errors.append(message)
        entries.append({"type": "error", "message": clipped(message)})
    entries.append({"type": "result", "success": not turn.failed, "text": clipped(turn.text)})
    return entries
