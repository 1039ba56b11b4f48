"""The journal's writer: writes on the loop when SQLite's lock is free, on its thread when
another writer holds it, in order, never blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from stepstone.services.runs import run_logs, start_run
from stepstone.store.database import Database
from stepstone.store.journal import JournalWriter
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
    writer = JournalWriter(db.sqlite_path)
    blocker = sqlite3.connect(db.sqlite_path, isolation_level=None)
    try:
        await writer.call(lambda j: j.add_logs(run_id, [log_line("first")]))
        blocker.execute("BEGIN IMMEDIATE")  # another process is writing
        blocked = asyncio.create_task(
            writer.call(lambda j: j.add_logs(run_id, [log_line("second")]))
        )
        await asyncio.sleep(0.3)  # the loop is free meanwhile
        assert not blocked.done(), "the write waits for the lock"
        queued = asyncio.create_task(writer.call(lambda j: j.add_logs(run_id, [log_line("third")])))
        await asyncio.sleep(0.05)
        blocker.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(blocked, queued), 10)
        await writer.call(lambda j: j.add_logs(run_id, [log_line("fourth")]))
    finally:
        blocker.close()
        writer.close()
    lines = [line["line"] for line in run_logs(db, run_id)]
    assert lines == ["first", "second", "third", "fourth"], "writes keep their order"
