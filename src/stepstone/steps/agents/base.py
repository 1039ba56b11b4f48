"""What an agent adapter knows: its headless command line and its streamed events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from stepstone.steps.agents.transcript import AgentTurn, Entry


@dataclass(frozen=True)
class Invocation:
    """One run of an agent's CLI."""

    prompt: str
    session_id: str | None
    """The session to start (``continuing`` False; only agents that let the caller choose
    it) or to continue (``continuing`` True)."""
    continuing: bool
    permission_mode: str | None
    model: str | None


class Adapter(Protocol):
    name: str
    chooses_session_id: bool
    """True: Stepstone picks the new session's id and passes it (recorded before the start);
    False: the agent reveals it in its first event (recorded the moment it arrives)."""

    def argv(self, command: Sequence[str], call: Invocation) -> list[str]:
        """The full command line, ``command`` being the configured executable (and args)."""
        ...

    def parse(self, event: dict[str, object], turn: AgentTurn) -> list[Entry]:
        """The transcript entries of one streamed event; notes what it says about the
        session, the answer and the usage in ``turn``."""
        ...

    def finish(self, turn: AgentTurn) -> list[Entry]:
        """Entries still held back when the stream ends (text gathered from deltas)."""
        ...
