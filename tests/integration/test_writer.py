"""SQLite's one writer per process (store/writer.py): callers queue for one connection in
arrival order, writes arriving together share one commit, each in a savepoint of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from stepstone.errors import DatabaseBusy, LeaseLost
from stepstone.services.runs import get_run, start_run
from stepstone.services.users import create_user
from stepstone.store.database import Database
from stepstone.store.journal import Journal
from stepstone.store.leases import LeaseHolder, claim_run_txn
from stepstone.store.schema import run_events
from stepstone.worker.worker import Worker
from tests.helpers import Project, wait_until

pytestmark = pytest.mark.sqlite_only

FLOW = """
@workflow(id="quiet")
async def quiet(ctx: Context) -> None:
    pass
"""


def claimed_run(db: Database, project: Project, token: str) -> str:
    """A run leased under ``token``, as a worker holds it while it executes."""
    run_id = str(start_run(db, project.id, "quiet")["id"])
    holder = LeaseHolder(
        worker_id="w", lease_token=token, host="h", pid=os.getpid(), lease_seconds=60
    )
    with db.transaction() as conn:
        assert claim_run_txn(conn, run_id, holder)
    return run_id


def events_of(db: Database, run_id: str) -> list[str]:
    with db.read() as conn:
        rows = conn.execute(
            select(run_events.c.dedupe_key)
            .where(run_events.c.run_id == run_id, run_events.c.type == "annotation")
            .order_by(run_events.c.id)
        )
        return [row[0] for row in rows]


def test_a_write_that_fails_its_fence_in_a_group_is_undone_alone(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOW)
    run_id = claimed_run(db, project, "token-1")
    writer = db.writer
    assert writer is not None
    journal = Journal.open(db)  # the journal's thread: its writes join the group
    answers: dict[str, object] = {}
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:  # an API request's write, say, slow enough for others to queue
        with db.transaction() as conn:
            holding.set()
            release.wait(10)
            conn.execute(
                run_events.insert().values(
                    run_id=run_id,
                    type="annotation",
                    dedupe_key="first",
                    created_at=time.time(),
                )
            )
        answers["first"] = "ok"

    def annotate(name: str, token: str) -> None:
        try:
            journal.add_event(
                run_id=run_id, lease_token=token, type="annotation", message=name, dedupe_key=name
            )
            answers[name] = "ok"
        except LeaseLost as exc:
            answers[name] = exc

    commits_before = writer.commits
    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert holding.wait(10)
    for name, token in (("a", "token-1"), ("fenced", "stale-token"), ("c", "token-1")):
        thread = threading.Thread(target=annotate, args=(name, token))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # queued in this order behind the first caller
    release.set()
    for thread in threads:
        thread.join(10)
    journal.close()

    assert answers["first"] == "ok"
    assert answers["a"] == "ok"
    assert answers["c"] == "ok"
    assert isinstance(answers["fenced"], LeaseLost), "the fenced caller gets its own error"
    assert events_of(db, run_id) == ["first", "a", "c"], "its write alone was undone"
    assert writer.commits == commits_before + 1, "the four callers shared one commit"


KILLED_WRITER = """
import os, sys, threading
from stepstone.store.database import Database
from stepstone.store.journal import Journal

db = Database.open(sys.argv[1])
run_id, token = sys.argv[2], sys.argv[3]
print_lock = threading.Lock()

def write(thread: int) -> None:
    journal = Journal.open(db)
    for n in range(100_000):
        key = f"{thread}-{n}"
        journal.add_event(
            run_id=run_id, lease_token=token, type="annotation", message=key, dedupe_key=key
        )
        with print_lock:  # acknowledged: the write's commit returned
            print(key, flush=True)

for thread in range(6):
    threading.Thread(target=write, args=(thread,), daemon=True).start()
threading.Event().wait()
"""


def test_a_kill_during_group_commits_loses_no_acknowledged_write(
    db: Database, make_project, tmp_path: Path
) -> None:
    project: Project = make_project(FLOW)
    run_id = claimed_run(db, project, "token-1")
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(KILLED_WRITER))
    process = subprocess.Popen(
        [sys.executable, str(script), db.url, run_id, "token-1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    assert process.stdout is not None
    try:
        while len(acknowledged) < 1500:
            line = process.stdout.readline()
            if not line:
                break
            acknowledged.append(line.strip())
        os.kill(process.pid, signal.SIGKILL)  # while its threads are writing
    finally:
        process.kill()
        rest, _ = process.communicate(timeout=30)
    acknowledged += rest.split()
    assert len(acknowledged) >= 1500, "the writer process wrote"
    recorded = set(events_of(db, run_id))  # read as a restarted server would
    missing = [key for key in acknowledged if key not in recorded]
    assert not missing, f"acknowledged writes lost: {missing[:5]}"


def test_a_write_waits_for_another_process_then_fails_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stepstone.store.database.BUSY_TIMEOUT_MS", 300)
    db = Database.open(f"sqlite:///{tmp_path / 'busy.db'}")
    other_process = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match="another process has held its write lock"):
            create_user(db, "a@example.com", "a-long-password")
        assert 0.25 < time.monotonic() - started < 5, "it waited its busy timeout, no longer"
        other_process.execute("COMMIT")
        assert create_user(db, "a@example.com", "a-long-password")["email"] == "a@example.com"
    finally:
        other_process.close()
        db.dispose()


async def test_a_worker_goes_on_claiming_after_a_claim_met_a_busy_database(
    db: Database, make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project: Project = make_project(FLOW)
    run_id = start_run(db, project.id, "quiet")["id"]
    worker = Worker(db, concurrency=1, poll_seconds=0.05)
    claim, claims = worker._claim_next, []

    def busy_once(holders: list[LeaseHolder]) -> list:
        claims.append(len(holders))
        if len(claims) == 1:  # another process held the lock past the busy timeout
            raise DatabaseBusy("the database is busy")
        return claim(holders)

    monkeypatch.setattr(worker, "_claim_next", busy_once)
    stop = asyncio.Event()
    serving = asyncio.create_task(worker.serve(stop))
    try:
        await wait_until(lambda: get_run(db, run_id)["status"] == "completed")
    finally:
        stop.set()
        await serving
        worker.close()
    assert len(claims) >= 2, "the worker claimed again after the busy one"
