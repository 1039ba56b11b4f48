"""Waiting for an event or a person (SPEC 3.12): what a wait returns, and which event
names may be sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stepstone.errors import InvalidInput

EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
"""An event's name: letters, digits, ``.``, ``_``, ``/``, ``-``; no colon (the inbox names
approval decisions ``approval:<step>``, which no sender can)."""


@dataclass(frozen=True)
class Approval:
    """A decision on ``ctx.step.approval``: ``approved`` or not, ``by`` whom (their email,
    or the local user of the CLI), their ``comment``, ``at`` (ISO 8601 UTC)."""

    approved: bool
    by: str
    comment: str | None
    at: str


def checked_event_name(name: str) -> str:
    """``name`` if it is a valid event name, else InvalidInput saying what is allowed."""
    if not isinstance(name, str) or not EVENT_NAME.fullmatch(name):
        raise InvalidInput(
            f"event name {name!r} is not valid: use 1-200 letters, digits, '.', '_', '/'"
            " or '-', starting with a letter or digit"
        )
    return name
