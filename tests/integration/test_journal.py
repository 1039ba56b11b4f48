"""The journal's writer: writes on the loop when no lock is in the way, on its thread when
another writer holds one (SQLite's write lock, a PostgreSQL row); in order, never blocking
the loop for long."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from stepstone.services.runs import run_logs, start_run
from stepstone.store.database import Database
from stepstone.store.journal import JournalWriter
from stepstone.store.schema import workflow_runs
from tests.helpers import Project

FLOW = """
@workflow(id="quiet")
async def quiet(ctx: Context) -> None:
    pass
"""


def log_line(text: str) -> tuple[None, None, str, str, float]:
    return (None, None, "stdout", text, time.time())


async def test_a_write_that_meets_another_writers_lock_waits_its_turn_off_the_loop(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOW)
    run_id = start_run(db, project.id, "quiet")["id"]
    writer = JournalWriter(db)
    blocker = db.engine.connect()
    try:
        await writer.call(lambda j: j.add_logs(run_id, [log_line("first")]))
        # Another process is writing: it holds SQLite's write lock (BEGIN IMMEDIATE), or on
        # PostgreSQL the run's row, which a log line's foreign key must share.
        transaction = blocker.begin()
        blocker.execute(select(workflow_runs).where(workflow_runs.c.id == run_id).with_for_update())
        blocked = asyncio.create_task(
            writer.call(lambda j: j.add_logs(run_id, [log_line("second")]))
        )
        await asyncio.sleep(0.3)  # the loop is free meanwhile
        assert not blocked.done(), "the write waits for the lock"
        queued = asyncio.create_task(writer.call(lambda j: j.add_logs(run_id, [log_line("third")])))
        await asyncio.sleep(0.05)
        transaction.commit()
        await asyncio.wait_for(asyncio.gather(blocked, queued), 10)
        await writer.call(lambda j: j.add_logs(run_id, [log_line("fourth")]))
    finally:
        blocker.close()
        writer.close()
    lines = [line["line"] for line in run_logs(db, run_id)]
    assert lines == ["first", "second", "third", "fourth"], "writes keep their order"
