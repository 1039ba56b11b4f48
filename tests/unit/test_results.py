from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel

from stepstone.engine.results import decode_result, encode_result
from stepstone.errors import ResultNotSerializable


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(BaseModel):
    name: str


def test_dataclasses_and_pydantic_models_become_json_objects() -> None:
    assert decode_result(encode_result("k", Point(1, 2))) == {"x": 1, "y": 2}
    assert decode_result(encode_result("k", Model(name="n"))) == {"name": "n"}


def test_a_value_json_cannot_hold_is_refused_naming_the_step() -> None:
    with pytest.raises(ResultNotSerializable, match="step 'build' returned a set"):
        encode_result("build", {1, 2})
    with pytest.raises(ResultNotSerializable):
        encode_result("build", float("nan"))
