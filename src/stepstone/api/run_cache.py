"""Run objects as sent, kept while their fingerprint holds: the UI polls nothing, but many
clients open the same long run, and building it is the costly part of the request."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

DEFAULT_SIZE = 256


def json_bytes(value: Any) -> bytes:
    """JSON as FastAPI would send it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class RunCache:
    """The most recently served run objects, each under the fingerprint it was built for."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[tuple[Any, ...], bytes]] = OrderedDict()

    def get(self, run_id: str, fingerprint: tuple[Any, ...]) -> bytes | None:
        entry = self._entries.get(run_id)
        if entry is None or entry[0] != fingerprint:
            return None
        self._entries.move_to_end(run_id)
        return entry[1]

    def put(self, run_id: str, fingerprint: tuple[Any, ...], body: bytes) -> None:
        """Keep ``body``, which was built after ``fingerprint`` was read, so it is at least
        as new; a later change gives a new fingerprint and a rebuild."""
        self._entries[run_id] = (fingerprint, body)
        self._entries.move_to_end(run_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
