"""Fake coding-agent CLIs for tests and the demo, standing in for ``claude``, ``codex`` and
``gemini``: ``python -m stepstone.fake_agents <claude|codex|gemini> <the real CLI's args>``.

Each fake takes its real CLI's headless arguments and streams that CLI's JSON-lines events;
``@`` directive lines in the prompt decide what it does (see :mod:`.directives`). The package
uses the standard library only and nothing else of Stepstone, so it runs wherever Python
does.
"""

from __future__ import annotations

import sys

AGENTS = ("claude", "codex", "gemini")


def command(agent: str) -> list[str]:
    """The argv that runs the fake ``agent``, to use in place of the real CLI's name."""
    if agent not in AGENTS:
        raise ValueError(f"no fake agent {agent!r}; there are {', '.join(AGENTS)}")
    return [sys.executable, "-m", "stepstone.fake_agents", agent]
