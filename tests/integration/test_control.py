"""Resume rules, pause, cancel and fencing against live executions (SPEC 3.6-3.8)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import update

from stepstone.errors import Conflict, NotResumable, StepstoneError
from stepstone.services.runs import cancel_run, get_run, pause_run, resume_run, start_run
from stepstone.store.database import Database
from stepstone.store.leases import process_alive
from stepstone.store.schema import workflow_runs
from tests.helpers import Project, execute_inline, wait_until

GATED = """
async def wait_for_go() -> str:
    effect("one")
    touch("one-started")
    while not flag("go"):
        await asyncio.sleep(0.02)
    return "one-done"


@workflow(id="gated")
async def gated(ctx: Context) -> str:
    try:
        await ctx.step.run("one", wait_for_go)
    except Exception:  # fencing and control must get through user code like this
        effect("swallowed")
    await ctx.step.run("two", effect, "two")
    if flag("fail"):
        raise RuntimeError("failing on purpose")
    return "done"
"""

KILLABLE = """
@workflow(id="killable")
async def killable(ctx: Context) -> None:
    await ctx.step.cli(
        "long-command",
        "sleep 300 & echo $! > child.pid; echo $$ > shell.pid; wait",
        cwd=str(PROJECT),
    )
"""


def start_gated(db: Database, project: Project) -> tuple[str, asyncio.Task]:
    run_id = start_run(db, project.id, "gated")["id"]
    task = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    return run_id, task


async def test_resume_of_a_live_run_is_a_conflict(db: Database, make_project) -> None:
    project: Project = make_project(GATED)
    run_id, task = start_gated(db, project)
    await wait_until((project.root / "one-started").exists)
    with pytest.raises(Conflict, match="live worker"):
        resume_run(db, run_id)
    (project.root / "go").touch()
    assert (await task).status == "completed"


async def test_resume_of_pending_and_cancelled_runs_is_refused(db: Database, make_project) -> None:
    project: Project = make_project(GATED)
    run_id = start_run(db, project.id, "gated")["id"]
    with pytest.raises(NotResumable, match="is pending"):
        resume_run(db, run_id)
    cancel_run(db, run_id)
    with pytest.raises(NotResumable, match="is cancelled"):
        resume_run(db, run_id)


async def test_resuming_twice_in_a_row_executes_the_run_once(db: Database, make_project) -> None:
    project: Project = make_project(GATED)
    (project.root / "go").touch()
    (project.root / "fail").touch()
    run_id, task = start_gated(db, project)
    assert (await task).status == "failed"
    (project.root / "fail").unlink()
    resume_run(db, run_id)
    with pytest.raises(NotResumable, match="is pending"):
        resume_run(db, run_id)
    await execute_inline(db, run_id)
    assert await execute_inline(db, run_id) is None, "a finished run is not claimed again"
    run = get_run(db, run_id)
    assert run["status"] == "completed"
    assert run["resume_count"] == 1
    assert (project.count("one"), project.count("two")) == (1, 1)


async def test_concurrent_resumes_queue_the_run_once(db: Database, make_project) -> None:
    project: Project = make_project(GATED)
    (project.root / "go").touch()
    (project.root / "fail").touch()
    run_id, task = start_gated(db, project)
    await task

    def try_resume(_: int) -> str:
        try:
            return resume_run(db, run_id)["status"]
        except StepstoneError as exc:
            return exc.code

    with ThreadPoolExecutor(4) as pool:
        answers = sorted(pool.map(try_resume, range(4)))
    assert answers == ["not_resumable", "not_resumable", "not_resumable", "pending"]
    assert get_run(db, run_id)["resume_count"] == 1


async def test_pause_lets_the_running_step_finish_and_stops_before_the_next(
    db: Database, make_project
) -> None:
    project: Project = make_project(GATED)
    run_id, task = start_gated(db, project)
    await wait_until((project.root / "one-started").exists)
    assert pause_run(db, run_id)["status"] == "running", "a live run pauses at the boundary"
    (project.root / "go").touch()
    assert (await task).status == "paused"
    paused = get_run(db, run_id)
    assert paused["status"] == "paused"
    assert [(s["key"], s["status"]) for s in paused["steps"]] == [("one", "completed")]
    assert project.count("two") == 0

    resume_run(db, run_id)
    await execute_inline(db, run_id)
    assert get_run(db, run_id)["status"] == "completed"
    assert (project.count("one"), project.count("two")) == (1, 1)


async def test_cancel_kills_the_running_command_and_its_children(
    db: Database, make_project
) -> None:
    project: Project = make_project(KILLABLE)
    run_id = start_run(db, project.id, "killable")["id"]
    task = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    shell_pid_file, child_pid_file = project.root / "shell.pid", project.root / "child.pid"
    await wait_until(lambda: shell_pid_file.exists() and child_pid_file.exists())
    await asyncio.sleep(0.05)
    pids = [int(shell_pid_file.read_text()), int(child_pid_file.read_text())]
    assert all(process_alive(pid) for pid in pids)

    cancel_run(db, run_id)
    assert (await task).status == "cancelled"
    await wait_until(lambda: not any(process_alive(pid) for pid in pids), timeout=10)
    run = get_run(db, run_id)
    assert run["status"] == "cancelled"
    assert run["steps"][0]["status"] == "cancelled"
    with pytest.raises(NotResumable):
        resume_run(db, run_id)


async def test_a_worker_that_lost_its_lease_writes_nothing(db: Database, make_project) -> None:
    project: Project = make_project(GATED)
    run_id, task = start_gated(db, project)
    await wait_until((project.root / "one-started").exists)
    with db.transaction() as conn:
        conn.execute(
            update(workflow_runs)
            .where(workflow_runs.c.id == run_id)
            .values(lease_owner="another-worker")
        )
    (project.root / "go").touch()
    assert (await task).status == "lease_lost"
    run = get_run(db, run_id)
    assert run["status"] == "running"
    assert run["steps"][0]["status"] == "running", "the completion was fenced off"
    assert project.count("two") == 0
    assert project.count("swallowed") == 0


def test_pause_and_cancel_refuse_finished_runs(db: Database, make_project, tmp_path: Path) -> None:
    project: Project = make_project(GATED)
    run_id = start_run(db, project.id, "gated")["id"]
    assert pause_run(db, run_id)["status"] == "paused", "a queued run pauses at once"
    assert cancel_run(db, run_id)["status"] == "cancelled"
    with pytest.raises(NotResumable):
        pause_run(db, run_id)
    with pytest.raises(NotResumable, match="cancelled already"):
        cancel_run(db, run_id)


async def test_an_inline_run_is_taken_in_the_transaction_that_creates_it(
    db: Database, make_project
) -> None:
    from stepstone.worker.worker import Worker

    project: Project = make_project(GATED)
    (project.root / "go").touch()
    inline = Worker(db, concurrency=1)
    other = Worker(db, concurrency=1)
    try:
        holder = inline.holder()
        started = start_run(db, project.id, "gated", claim_for=holder)
        assert (started["status"], started["is_live"]) == ("running", True)
        assert other._claim_next([other.holder()]) == [], "a held run is not claimed again"
        outcome = await inline.execute_held(started["id"], holder.lease_token)
        assert outcome.status == "completed"
    finally:
        inline.close()
        other.close()
    events = [e["type"] for e in get_run(db, started["id"])["events"]]
    assert events[:2] == ["workflow_created", "workflow_started"]


async def test_an_inline_run_whose_process_let_go_before_executing_resumes_at_once(
    db: Database, make_project
) -> None:
    from stepstone.worker.worker import Worker

    project: Project = make_project(GATED)
    (project.root / "go").touch()
    inline = Worker(db, concurrency=1)
    try:
        holder = inline.holder()
        run_id = start_run(db, project.id, "gated", claim_for=holder)["id"]
        inline.release(run_id, holder.lease_token)
        interrupted = get_run(db, run_id)
        assert (interrupted["status"], interrupted["is_live"]) == ("running", False)
        resumed = resume_run(db, run_id, claim_for=(again := inline.holder()))
        assert (resumed["status"], resumed["resume_count"]) == ("running", 1)
        assert (await inline.execute_held(run_id, again.lease_token)).status == "completed"
    finally:
        inline.close()
    assert project.count("one") == 1


async def test_a_run_held_before_its_execution_began_is_renewed_at_the_first_heartbeat(
    db: Database, make_project
) -> None:
    """An inline command may take a while between taking its run and executing it: the
    lease is renewed at once, not a third of a lease later, so the run never looks
    interrupted while its command lives."""
    from stepstone.worker.worker import Worker

    project: Project = make_project(GATED)
    # Margins for a loaded machine: renewing at once must land within 0.6 s; renewing a
    # third of the lease later (1 s) would let the lease run out.
    worker = Worker(db, concurrency=1, lease_seconds=3.0, poll_seconds=0.05)
    try:
        holder = worker.holder()
        run_id = start_run(db, project.id, "gated", claim_for=holder)["id"]
        await asyncio.sleep(2.4)  # a slow start: the lease has 0.6 s left
        execution = asyncio.create_task(worker.execute_held(run_id, holder.lease_token))
        seen_live = []
        for _ in range(48):  # the next 1.2 s, every 25 ms (past a third of the lease)
            seen_live.append(get_run(db, run_id)["is_live"])
            await asyncio.sleep(0.025)
        (project.root / "go").touch()
        assert (await execution).status == "completed"
    finally:
        worker.close()
    assert all(seen_live), "the run looked interrupted while its command was executing it"


async def test_an_execution_whose_lease_expired_cannot_write_after_a_resume(
    db: Database, make_project
) -> None:
    """The stale execution and its successor run in the same worker process: only the
    successor's lease token passes the journal's fence."""
    from stepstone.worker.worker import Worker

    project: Project = make_project(GATED)
    worker = Worker(db, concurrency=2, poll_seconds=0.05)
    try:
        first = worker.holder()
        run_id = start_run(db, project.id, "gated", claim_for=first)["id"]
        stale = asyncio.create_task(worker.execute_held(run_id, first.lease_token))
        await wait_until((project.root / "one-started").exists)
        with db.transaction() as conn:  # the heartbeat was missed: the lease ran out
            conn.execute(
                update(workflow_runs)
                .where(workflow_runs.c.id == run_id)
                .values(lease_expires_at=0.0)
            )
        second = worker.holder()
        resume_run(db, run_id, claim_for=second)
        (project.root / "one-started").unlink()
        successor = asyncio.create_task(worker.execute_held(run_id, second.lease_token))
        await wait_until((project.root / "one-started").exists)
        (project.root / "go").touch()
        assert (await stale).status == "lease_lost"
        assert (await successor).status == "completed"
    finally:
        worker.close()
    run = get_run(db, run_id)
    assert run["status"] == "completed"
    assert [s["status"] for s in run["steps"]] == ["completed", "completed"]
    assert project.count("two") == 1, "the stale execution did not go on to step two"
    assert all(a["status"] != "running" for s in run["steps"] for a in s["attempts"])
