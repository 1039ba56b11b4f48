"""Shared fixtures: a real SQLite database in a temporary home, projects written on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stepstone.services.projects import add_project
from stepstone.store.database import Database

WORKFLOW_PRELUDE = '''
from __future__ import annotations
import asyncio, os, pathlib, time
from stepstone import Context, workflow

PROJECT = pathlib.Path(__file__).resolve().parents[2]


def effect(name: str) -> str:
    """A side effect the test can count: one line per execution in effects.log."""
    with (PROJECT / "effects.log").open("a") as log:
        log.write(name + "\\n")
    return name


def flag(name: str) -> bool:
    return (PROJECT / name).exists()


def touch(name: str) -> None:
    (PROJECT / name).write_text(str(os.getpid()))
'''


class Project:
    """A project directory with definition files, registered in the test database."""

    def __init__(self, root: Path, info: dict[str, Any]) -> None:
        self.root = root
        self.id: str = info["id"]
        self.name: str = info["name"]

    def write_workflow(self, body: str, file_name: str = "flows.py") -> Path:
        path = self.root / ".stepstone" / "workflows" / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(WORKFLOW_PRELUDE + textwrap.dedent(body))
        return path

    def effects(self) -> list[str]:
        log = self.root / "effects.log"
        return log.read_text().split() if log.exists() else []

    def count(self, name: str) -> int:
        return self.effects().count(name)


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


def run_cli(
    *args: str, check: bool = False, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real ``stepstone`` command in a child process (the environment carries the home)."""
    result = subprocess.run(
        [sys.executable, "-m", "stepstone", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"stepstone {' '.join(args)} failed:\n{result.stderr}")
    return result


def spawn_cli(*args: str, columns: int = 200) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stepstone", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
    )
