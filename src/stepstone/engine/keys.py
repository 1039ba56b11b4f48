"""Step keys (SPEC 3.1): ``phase-id`` or ``id``, slugified, with ``#2``, ``#3`` for repeats."""

from __future__ import annotations

import re
from collections import Counter

from stepstone.errors import InvalidInput

MAX_SLUG_LENGTH = 64
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Kebab-case, at most 64 characters; refuses text with nothing to keep."""
    slug = _NON_SLUG.sub("-", text.lower()).strip("-")[:MAX_SLUG_LENGTH].rstrip("-")
    if not slug:
        raise InvalidInput(f"{text!r} is not a usable id: it needs letters or digits")
    return slug


class StepKeys:
    """Hands out the keys of one execution, numbering repeats in call order."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def next(self, step_id: str, phase: str | None) -> str:
        """The key of this call, counted as made."""
        key = self.peek(step_id, phase)
        self._seen[key.partition("#")[0]] += 1
        return key

    def peek(self, step_id: str, phase: str | None) -> str:
        """The key the next call of ``step_id`` in ``phase`` will get."""
        base = slugify(step_id) if phase is None else f"{phase}-{slugify(step_id)}"
        count = self._seen[base] + 1
        return base if count == 1 else f"{base}#{count}"
