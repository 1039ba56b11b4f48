"""What ``@workflow`` accepts and records (SPEC 2)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from stepstone import Context, workflow
from stepstone.errors import InvalidInput


async def body(ctx: Context) -> None:
    """Ships the release."""


class ReleaseArgs(BaseModel):
    version: str
    dry_run: bool = False


def test_a_workflow_id_that_is_not_kebab_case_is_refused_with_the_id_to_use() -> None:
    with pytest.raises(InvalidInput, match="'Ship It' must be kebab-case, like 'ship-it'"):
        workflow(id="Ship It")


def test_a_pydantic_model_as_args_schema_is_recorded_as_its_json_schema() -> None:
    definition = workflow(id="ship", args_schema=ReleaseArgs)(body)
    assert definition.args_schema == ReleaseArgs.model_json_schema()
    assert definition.description == "Ships the release.", "the docstring describes it"


@pytest.mark.parametrize("schema", [ReleaseArgs(version="1"), "version: str", int])
def test_an_args_schema_that_is_neither_a_dict_nor_a_model_class_is_refused(schema: Any) -> None:
    with pytest.raises(InvalidInput, match="args_schema must be a JSON Schema dict"):
        workflow(id="ship", args_schema=schema)(body)
