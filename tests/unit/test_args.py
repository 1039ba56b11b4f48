from __future__ import annotations

import pytest

from stepstone.errors import InvalidInput
from stepstone.services.args import parse_arg_pairs, validate_args

SCHEMA = {
    "type": "object",
    "properties": {"count": {"type": "integer"}, "label": {"type": "string"}},
    "required": ["count"],
    "additionalProperties": False,
}


def test_arg_pairs_are_read_as_json_unless_the_schema_says_string() -> None:
    assert parse_arg_pairs(["count=3", "label=42"], SCHEMA) == {"count": 3, "label": "42"}
    assert parse_arg_pairs(["word=hello"], None) == {"word": "hello"}


def test_an_arg_without_equals_sign_is_refused() -> None:
    with pytest.raises(InvalidInput, match="key=value"):
        parse_arg_pairs(["count"], SCHEMA)


def test_args_breaking_the_schema_name_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"invalid args\.count: 'x' is not of type 'integer'"):
        validate_args({"count": "x"}, SCHEMA)
    with pytest.raises(InvalidInput, match="'count' is a required property"):
        validate_args({}, SCHEMA)


def test_valid_args_pass() -> None:
    validate_args({"count": 2, "label": "a"}, SCHEMA)
