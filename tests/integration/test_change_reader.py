"""The live feed's reads (``store.changes``): every change made after a reader starts is
returned, on PostgreSQL even one whose transaction commits after a newer one was read, and
other processes' commits are told at once (``store.notifications``)."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
from sqlalchemy import update

from stepstone.services.runs import start_run
from stepstone.store import changes
from stepstone.store.changes import ChangeReader, Changes, change_reader
from stepstone.store.database import Database
from stepstone.store.notifications import listen_for_changes
from stepstone.store.schema import workflow_runs
from tests.helpers import Project, execute_inline

FLOW = """
@workflow(id="pair")
async def pair(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    await ctx.step.cli("second", "echo out")
"""


def look(db: Database, reader: ChangeReader) -> Changes:
    with db.read() as conn:
        return reader.read_txn(conn)


def queued_run_and_reader(db: Database, project: Project) -> tuple[str, ChangeReader]:
    """A run queued, then a reader started (after it)."""
    run_id = start_run(db, project.id, "pair")["id"]
    reader = change_reader(db)
    with db.read() as conn:
        reader.start_txn(conn)
    return run_id, reader


async def test_a_reader_returns_each_change_made_after_it_started(
    db: Database, make_project
) -> None:
    run_id, reader = queued_run_and_reader(db, make_project(FLOW))
    assert look(db, reader).events == []  # the run's creation came before the start

    await execute_inline(db, run_id)
    read = look(db, reader)

    assert [r["status"] for r in read.runs] == ["completed"]
    assert [(s["key"], s["status"]) for s in read.steps] == [
        ("first", "completed"),
        ("second", "completed"),
    ]
    assert [e["type"] for e in read.events][:1] == ["workflow_started"]
    assert read.events[-1]["type"] == "workflow_completed"
    assert [line["line"] for line in read.logs] == ["out"]
    again = look(db, reader)
    assert again.events == []
    assert again.logs == []


def insert_log(conn: psycopg.Connection, run_id: str, line: str) -> int:
    row = conn.execute(
        "INSERT INTO step_logs (run_id, stream, line, created_at) VALUES (%s, 'stdout', %s, 0)"
        " RETURNING id",
        (run_id, line),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.postgresql_only
def test_a_change_committed_after_a_newer_one_was_read_is_still_returned_once(
    db: Database, make_project
) -> None:
    run_id, reader = queued_run_and_reader(db, make_project(FLOW))
    with psycopg.connect(db.driver_url) as slow, psycopg.connect(db.driver_url) as quick:
        late_id = insert_log(slow, run_id, "late")  # its transaction stays open
        early_id = insert_log(quick, run_id, "early")
        quick.commit()
        assert late_id < early_id  # an id cursor past "early" would never see "late"

        assert [line["line"] for line in look(db, reader).logs] == ["early"]
        slow.commit()

    assert [line["line"] for line in look(db, reader).logs] == ["late"]
    assert not any(vars(look(db, reader)).values())


@pytest.mark.postgresql_only
async def test_another_connections_commit_is_told_at_once_and_a_heartbeat_is_not(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOW)
    run_id = start_run(db, project.id, "pair")["id"]
    told = asyncio.Event()
    listener = asyncio.create_task(listen_for_changes(db, told.set))
    try:
        await asyncio.wait_for(told.wait(), 10)  # connected (and told once, to catch up)
        told.clear()

        def write(sql: str, *params: object) -> None:
            with psycopg.connect(db.driver_url, autocommit=True) as conn:
                conn.execute(sql, params)

        await asyncio.to_thread(
            write, "UPDATE workflow_runs SET lease_expires_at=%s WHERE id=%s", time.time(), run_id
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(told.wait(), 0.5)
        started = time.monotonic()
        await asyncio.to_thread(
            write, "UPDATE workflow_runs SET updated_at=%s WHERE id=%s", time.time(), run_id
        )
        await asyncio.wait_for(told.wait(), 5)
        assert time.monotonic() - started < 5
    finally:
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listener


@pytest.mark.sqlite_only
async def test_on_sqlite_nothing_listens(db: Database) -> None:
    await asyncio.wait_for(listen_for_changes(db, lambda: None), 1)


@pytest.mark.sqlite_only
def test_on_sqlite_a_row_committed_with_an_older_stamp_is_found_by_a_look_that_overlaps(
    db: Database, make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looks close together read from the cursor on; one at least OVERLAP_EVERY_SECONDS
    after the last overlapping one re-reads the past, where a late commit lands."""
    project: Project = make_project(FLOW)
    early, late = (start_run(db, project.id, "pair")["id"] for _ in range(2))
    stamp = time.time()

    def stamp_run(run_id: str, at: float) -> None:
        with db.transaction() as conn:
            conn.execute(
                update(workflow_runs).where(workflow_runs.c.id == run_id).values(updated_at=at)
            )

    stamp_run(early, stamp - 20)
    stamp_run(late, stamp - 30)
    reader = change_reader(db)
    with db.read() as conn:
        reader.start_txn(conn)
    clock = [1000.0]
    monkeypatch.setattr(changes.time, "monotonic", lambda: clock[0])
    assert [r["id"] for r in look(db, reader).runs] == [early]  # overlapping: 1 s back

    stamp_run(early, stamp)
    clock[0] += changes.OVERLAP_EVERY_SECONDS / 3
    assert [r["id"] for r in look(db, reader).runs] == [early]
    # Stamped before the newest row seen, committed after that look (as a writer that took
    # its time before waiting for its turn does).
    stamp_run(late, stamp - 0.5)
    clock[0] += changes.OVERLAP_EVERY_SECONDS / 3
    assert [r["id"] for r in look(db, reader).runs] == [early], "from the cursor on only"
    clock[0] += changes.OVERLAP_EVERY_SECONDS
    assert {r["id"] for r in look(db, reader).runs} == {early, late}, "the overlap finds it"
