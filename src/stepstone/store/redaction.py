"""Secrets never reach the journal (SPEC 9): what a step outputs, logs, raises or annotates is
written with every known secret replaced by ``[redacted]``. It is applied once, where text
enters the journal, so everything read from it (the API, the WebSocket, the CLI) is clean;
the step itself still works with the real values.

Known secrets: the values of environment variables whose names say KEY, TOKEN, SECRET or
PASSWORD (the worker's own, and those a step passes to its command), and text shaped like a
well-known token (GitHub, OpenAI-style ``sk-``, AWS access keys, Slack).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
MIN_SECRET_CHARS = 6
"""Shorter values ("1", "true", a port) would blank out ordinary text, and guard nothing."""
TOKEN_SHAPES = (
    r"gh[pousr]_[A-Za-z0-9]{36,}",
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"sk-[A-Za-z0-9_-]{20,}",
    r"AKIA[0-9A-Z]{16}",
    r"xox[abprs]-[A-Za-z0-9-]{10,}",
)


def secret_values(variables: Mapping[str, str]) -> set[str]:
    """The values of the variables whose names say they are secret."""
    return {value for name, value in variables.items() if SECRET_NAME.search(name)}


class Redactor:
    """Replaces known secrets in text; more can be added as they become known."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern = re.compile("|".join(TOKEN_SHAPES))
        self.add(values)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Redactor:
        return cls(secret_values(environ))

    def add(self, values: Iterable[str]) -> None:
        """Treat ``values`` as secrets from now on (as written, and as JSON writes them)."""
        new = {v for v in values if len(v) >= MIN_SECRET_CHARS} - self._values
        if not new:
            return
        self._values |= new
        forms = self._values | {json.dumps(v)[1:-1] for v in self._values}
        literals = [re.escape(v) for v in sorted(forms, key=len, reverse=True)]
        self._pattern = re.compile("|".join([*literals, *TOKEN_SHAPES]))

    def text(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text)

    def maybe(self, text: str | None) -> str | None:
        return None if text is None else self._pattern.sub(REDACTED, text)
