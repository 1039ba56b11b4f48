"""Shared fixtures: a real database (a SQLite file in a temporary home, or a fresh PostgreSQL
database), projects written on disk."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stepstone.services.projects import add_project
from stepstone.store.database import Database
from tests.databases import fresh_postgres_database, postgres_unreachable
from tests.helpers import Project, end_spawned

SLOW_TIERS = [Path(__file__).parent / "e2e", Path(__file__).parent / "chaos"]
BOTH_DATABASES_TIERS = [
    Path(__file__).parent / tier for tier in ("unit", "integration", "e2e", "chaos")
]
"""Tests here that use the database run on SQLite and on PostgreSQL."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker
        if marked("postgresql_only"):
            kinds = ["postgresql"]
        elif marked("sqlite_only"):
            kinds = ["sqlite"]
        elif any(tier in metafunc.definition.path.parents for tier in BOTH_DATABASES_TIERS):
            kinds = ["sqlite", "postgresql"]
        else:
            kinds = ["sqlite"]
        metafunc.parametrize("database_kind", kinds)


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
def database_url(database_kind: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test's database; processes the test starts use it too (``STEPSTONE_DATABASE_URL``).
    PostgreSQL must be reachable in CI; elsewhere its tests skip, saying why."""
    if database_kind == "sqlite":
        yield f"sqlite:///{home / 'stepstone.db'}"
        return
    unreachable = postgres_unreachable()
    if unreachable:
        if os.environ.get("CI"):
            pytest.fail(unreachable)
        pytest.skip(unreachable)
    with fresh_postgres_database() as url:
        monkeypatch.setenv("STEPSTONE_DATABASE_URL", url)
        yield url


@pytest.fixture
def db(database_url: str, home: Path) -> Iterator[Database]:
    database = Database.open(database_url, files_dir=home)
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
