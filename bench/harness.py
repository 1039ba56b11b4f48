"""A throwaway Stepstone home for the engine benchmarks: a fresh database (a SQLite file in
the home, or a given PostgreSQL database) with the real migrations, one project holding
``bench/workflows.py``, and the real worker."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepstone.engine.executor import Outcome
from stepstone.services.projects import add_project
from stepstone.services.runs import start_run
from stepstone.store.database import Database
from stepstone.worker.worker import Worker

WORKFLOWS_FILE = Path(__file__).with_name("workflows.py")


@dataclass(frozen=True)
class BenchHome:
    """The temporary home: its folder, the opened database and the registered project."""

    root: Path
    db: Database
    project_id: str

    @property
    def home(self) -> Path:
        """The folder a process started on this home takes as ``STEPSTONE_HOME``."""
        return self.root / "home"

    def start(self, workflow: str, args: dict[str, Any]) -> str:
        """Queue a run of ``workflow`` through the real service; returns the run id."""
        run = start_run(self.db, self.project_id, workflow, args=args)
        return str(run["id"])


@dataclass(frozen=True)
class Execution:
    """One ``execute_inline`` call: how it ended, when it began and how long it took."""

    outcome: Outcome | None
    started_at: float
    """``time.perf_counter()`` just before ``execute_inline`` was called."""
    seconds: float


def home_database_url(home: Path, database_url: str | None) -> str:
    """``database_url``, or the home's own SQLite file when it is None (as Settings does)."""
    return database_url or f"sqlite:///{home / 'stepstone.db'}"


@contextmanager
def bench_home(database_url: str | None = None) -> Iterator[BenchHome]:
    """A fresh home on disk (not tmpfs: the commits must really wait for fsync), removed
    afterwards. Its database is a SQLite file in it, or ``database_url`` (PostgreSQL: an
    empty database the caller created, and drops)."""
    with tempfile.TemporaryDirectory(prefix="stepstone-bench-") as tmp:
        root = Path(tmp)
        workflows_dir = root / "project" / ".stepstone" / "workflows"
        workflows_dir.mkdir(parents=True)
        shutil.copyfile(WORKFLOWS_FILE, workflows_dir / "bench.py")
        home = root / "home"
        db = Database.open(home_database_url(home, database_url), files_dir=home)
        try:
            project = add_project(db, root / "project", name="bench")
            yield BenchHome(root, db, str(project["id"]))
        finally:
            db.dispose()


def execute(db: Database, run_id: str) -> Execution:
    """Execute a queued run with a real worker (concurrency 1) in this process, timing only
    the ``execute_inline`` call: the worker's journal thread is set up before and closed
    after."""

    async def main() -> Execution:
        worker = Worker(db, concurrency=1)
        try:
            started_at = time.perf_counter()
            outcome = await worker.execute_inline(run_id)
            return Execution(outcome, started_at, time.perf_counter() - started_at)
        finally:
            worker.close()

    return asyncio.run(main())
