"""Turning step results into journal JSON and back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pydantic import BaseModel

from stepstone.errors import ResultNotSerializable
from stepstone.store.journal import dumps


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def encode_result(step_key: str, value: Any) -> str:
    """The JSON the journal records; a value JSON cannot hold is refused with the reason."""
    try:
        return dumps(_jsonable(value))
    except (TypeError, ValueError) as exc:
        raise ResultNotSerializable(
            f"step {step_key!r} returned a {type(value).__name__} that is not "
            f"JSON-serialisable ({exc}); return JSON data, a dataclass or a pydantic model"
        ) from exc


def decode_result(output: str | None) -> Any:
    return None if output is None else json.loads(output)
