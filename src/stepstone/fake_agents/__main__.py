"""``python -m stepstone.fake_agents <claude|codex|gemini> <args>`` runs that fake CLI."""

from __future__ import annotations

import sys

from stepstone.fake_agents import AGENTS, claude, codex, gemini

_MAINS = {"claude": claude.main, "codex": codex.main, "gemini": gemini.main}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in AGENTS:
        print(
            f"usage: python -m stepstone.fake_agents {{{'|'.join(AGENTS)}}} [args...]",
            file=sys.stderr,
        )
        return 2
    return _MAINS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
