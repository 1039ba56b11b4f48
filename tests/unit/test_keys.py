from __future__ import annotations

import pytest

from stepstone.engine.keys import StepKeys, slugify
from stepstone.errors import InvalidInput


def test_slugify_makes_kebab_case_of_any_text() -> None:
    assert slugify("Run Tests!") == "run-tests"
    assert slugify("  build__artifacts  ") == "build-artifacts"


def test_slugify_cuts_at_64_characters_without_a_trailing_dash() -> None:
    slug = slugify("a" * 63 + " b" + "c" * 10)
    assert len(slug) <= 64
    assert not slug.endswith("-")


def test_slugify_refuses_text_without_letters_or_digits() -> None:
    with pytest.raises(InvalidInput):
        slugify("!!!")


def test_keys_prefix_the_phase_and_number_repeats_in_call_order() -> None:
    keys = StepKeys()
    assert keys.next("Lint", "check") == "check-lint"
    assert keys.next("lint", "check") == "check-lint#2"
    assert keys.next("lint", None) == "lint"
    assert keys.next("lint", "check") == "check-lint#3"
