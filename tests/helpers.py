"""Helpers for tests that execute runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from stepstone.engine.executor import Outcome
from stepstone.store.database import Database
from stepstone.worker.worker import Worker


async def execute_inline(db: Database, run_id: str, **worker_options: float) -> Outcome | None:
    """Execute one queued run in this process, as `stepstone run --inline` does."""
    worker = Worker(db, concurrency=1, **worker_options)  # type: ignore[arg-type]
    try:
        return await worker.execute_inline(run_id)
    finally:
        worker.close()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_for_file(path: Path, timeout: float = 20.0) -> None:
    wait_for(path.exists, timeout, f"{path.name} to appear")
