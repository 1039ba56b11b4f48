# Stepstone's own type check reads this sample as part of its package, where `greeting` is
# not a top-level module; pytest, run in the sample project, finds it (pyproject.toml).
# mypy: disable-error-code="import-not-found"
from greeting import greet


def test_greet_names_the_person_politely() -> None:
    assert greet("Ada") == "Hello, Ada!"
