"""Shared fixtures: a real SQLite database in a temporary home, projects written on disk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stepstone.services.projects import add_project
from stepstone.store.database import Database
from tests.helpers import Project, end_spawned

SLOW_TIERS = [Path(__file__).parent / "e2e", Path(__file__).parent / "chaos"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts real processes (tests/e2e, tests/chaos) is ``slow``, so
    ``pytest -m "not slow"`` (``make test-fast``) runs unit and integration tests only."""
    for item in items:
        if any(tier in item.path.parents for tier in SLOW_TIERS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _end_spawned_processes() -> Iterator[None]:
    """No ``stepstone`` child outlives its test, and no pipe of one is left to the garbage
    collector (an unclosed pipe is a ResourceWarning, an error here)."""
    yield
    end_spawned()


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits need an author; a machine without a global git identity still has one here."""
    for variable in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{variable}_NAME", "Stepstone Tests")
        monkeypatch.setenv(f"GIT_{variable}_EMAIL", "tests@stepstone.invalid")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("STEPSTONE_HOME", str(home))
    monkeypatch.delenv("STEPSTONE_DATABASE_URL", raising=False)
    return home


@pytest.fixture
def db(home: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{home / 'stepstone.db'}")
    yield database
    database.dispose()


@pytest.fixture
def make_project(tmp_path: Path, db: Database) -> Callable[..., Project]:
    counter = iter(range(1000))

    def make(body: str | None = None, *, name: str | None = None) -> Project:
        number = next(counter)
        root = tmp_path / f"project{number}"
        (root / ".stepstone" / "workflows").mkdir(parents=True)
        project = Project(root, {"id": "", "name": ""})
        if body is not None:
            project.write_workflow(body)
        info = add_project(db, root, name=name or f"project{number}")
        project.id, project.name = info["id"], info["name"]
        return project

    return make
