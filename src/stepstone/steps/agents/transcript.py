"""One transcript format for every agent, and what an agent's run amounts to.

Each adapter turns its CLI's streamed events into *entries*, JSON objects written to the
step's logs on the ``agent`` stream (the UI and ``stepstone logs`` render them):

=============  ==========================================================================
``type``       fields
=============  ==========================================================================
session        ``session_id``, ``model``: the session the agent works in
message        ``text``: what the agent said
thinking       ``text``: its reasoning, where the CLI shows it
tool_call      ``id``, ``name``, ``input``: a tool the agent used (a command, an edit…)
tool_result    ``id``, ``output``, ``is_error``
error          ``message``
notice         ``text``: Stepstone's own note (a continued session, a fresh start)
result         ``success``, ``text``: the final answer
usage          ``input_tokens``, ``output_tokens``, ``cached_input_tokens``, ``cost_usd``
raw            ``data``: an event this adapter does not know, kept as it came
=============  ==========================================================================
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from stepstone.errors import AgentFailed

AGENT_STREAM = "agent"
MAX_TEXT_CHARS = 16_000
_FENCED_JSON = re.compile(r"```(?:json)?\s*\n(.*?)\n```", re.DOTALL)

Entry = dict[str, Any]


def clipped(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters)"


def clipped_value(value: Any) -> Any:
    """A tool's input or an unknown event with long strings clipped."""
    if isinstance(value, str):
        return clipped(value)
    if isinstance(value, dict):
        return {key: clipped_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clipped_value(item) for item in value]
    return value


def empty_usage() -> dict[str, Any]:
    return {"input_tokens": 0, "output_tokens": 0, "cached_input_tokens": 0, "cost_usd": None}


@dataclass
class AgentTurn:
    """What one run of an agent's CLI said about itself, gathered from its events."""

    session_id: str | None = None
    model: str | None = None
    text: str = ""
    """The final answer (the last thing the agent said)."""
    errors: list[str] = field(default_factory=list)
    failed: bool = False
    """The agent reported that it did not finish (its ``result`` or ``turn.failed``)."""
    said_anything: bool = False
    """It produced a message or used a tool: the session was really under way."""
    usage: dict[str, Any] = field(default_factory=empty_usage)

    def add_tokens(
        self, *, input_tokens: int = 0, output_tokens: int = 0, cached_input_tokens: int = 0
    ) -> None:
        self.usage["input_tokens"] += int(input_tokens or 0)
        self.usage["output_tokens"] += int(output_tokens or 0)
        self.usage["cached_input_tokens"] += int(cached_input_tokens or 0)

    def usage_entry(self) -> Entry:
        return {"type": "usage", **self.usage}


def final_json(text: str) -> Any:
    """The JSON value of an agent's final answer: the whole answer, else its last fenced
    ```json block, else its last ``{…}`` object; AgentFailed when there is none."""
    candidates = [text.strip(), *reversed(_FENCED_JSON.findall(text))]
    start = text.rfind("{")
    while start != -1:
        candidates.append(text[start : text.rfind("}") + 1])
        start = text.rfind("{", 0, start)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        try:
            value, end = decoder.raw_decode(candidate.strip())
        except ValueError:
            continue
        if end == len(candidate.strip()) and isinstance(value, dict | list):
            return value
    shown = text.strip().replace("\n", " ")[:200] or "(empty)"
    raise AgentFailed(f"the agent's final answer holds no JSON (json=True): {shown}")
