"""A run's args: parsed from the command line, checked against the workflow's JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

from stepstone.errors import InvalidInput
from stepstone.services.projects import list_definitions
from stepstone.store.database import Database
from stepstone.store.journal import dumps


def args_from_command_line(
    db: Database, project_ref: str, workflow: str, *, pairs: Iterable[str], args_json: str | None
) -> dict[str, Any]:
    """A run's args from ``--args-json`` and ``--arg key=value`` pairs (applied over it),
    typed by the workflow's schema. The project's definition files are imported first if
    they changed, so starting the run right after finds them current."""
    listing = list_definitions(db, project_ref, sync="if_changed")
    schema = next(
        (d["args_schema"] for d in listing["definitions"] if d["workflow"] == workflow), None
    )
    args: dict[str, Any] = {}
    if args_json is not None:
        try:
            args = json.loads(args_json)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--args-json is not valid JSON: {exc.msg}") from exc
        except RecursionError as exc:
            raise InvalidInput("--args-json is nested too deeply") from exc
        if not isinstance(args, dict):
            raise InvalidInput("--args-json must be a JSON object")
    args.update(parse_arg_pairs(pairs, schema))
    return args


def parse_arg_pairs(pairs: Iterable[str], schema: dict[str, Any] | None) -> dict[str, Any]:
    """``["count=3", "name=x"]`` → ``{"count": 3, "name": "x"}``. A value is read as JSON
    unless the schema declares that property a string (then it is kept as typed)."""
    properties = (schema or {}).get("properties", {})
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--arg {pair!r} is not of the form key=value")
        if properties.get(key, {}).get("type") == "string":
            args[key] = raw
            continue
        try:
            args[key] = json.loads(raw)
        except json.JSONDecodeError:
            args[key] = raw
    return args


def validate_args(args: Any, schema: dict[str, Any] | None) -> None:
    """Refuse args that the journal cannot store as JSON (NaN and Infinity are no JSON
    numbers, though Python's parser takes them) or that break the schema, naming the first
    offending field."""
    if not isinstance(args, dict):
        raise InvalidInput("args must be a JSON object")
    try:
        dumps(args)
    except ValueError as exc:
        raise InvalidInput("args must be JSON: NaN and Infinity are not JSON numbers") from exc
    except RecursionError as exc:
        raise InvalidInput("args are nested too deeply") from exc
    if schema is None:
        return
    try:
        validator = Draft202012Validator(schema)
        validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidInput(f"the workflow's args_schema is invalid: {exc.message}") from exc
    error = best_match(validator.iter_errors(args))
    if error is not None:
        where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.path)
        raise InvalidInput(f"invalid args{where}: {error.message}")
