"""Automatic recovery (SPEC 3.13): a serving worker resumes interrupted runs without a click
when the operator or the workflow asks for it, and gives up on a run whose step keeps
killing its worker."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import update

from stepstone.services.runs import get_run, resume_run, start_run
from stepstone.store import recovery
from stepstone.store.database import Database
from stepstone.store.schema import workflow_runs, workflow_steps
from stepstone.worker.worker import Worker
from tests.helpers import Project, execute_inline, wait_until

FLOWS = """
@workflow(id="hands-off", auto_resume=True)
async def hands_off(ctx: Context) -> str:
    await ctx.step.run("one", effect, "one")
    return await ctx.step.run("two", effect, "two")


@workflow(id="by-hand")
async def by_hand(ctx: Context) -> str:
    await ctx.step.run("one", effect, "one")
    return await ctx.step.run("two", effect, "two")
"""


def orphan(db: Database, run_id: str, *, running_step: str | None = None) -> None:
    """Leave the run as a worker that died would: running, its lease run out, a step
    (with its attempt) marked running."""
    with db.transaction() as conn:
        conn.execute(
            update(workflow_runs)
            .where(workflow_runs.c.id == run_id)
            .values(
                status="running",
                lease_owner="gone#1",
                lease_expires_at=time.time() - 1,
                owner_host="elsewhere",
                owner_pid=1,
                completed_at=None,
                updated_at=time.time(),
            )
        )
        if running_step is not None:
            conn.execute(
                update(workflow_steps)
                .where(workflow_steps.c.run_id == run_id, workflow_steps.c.key == running_step)
                .values(status="running", completed_at=None, updated_at=time.time())
            )


async def serve_until(db: Database, done, *, auto_resume: bool = False) -> None:
    worker = Worker(db, poll_seconds=0.05, auto_resume=auto_resume)
    stop = asyncio.Event()
    serving = asyncio.create_task(worker.serve(stop))
    try:
        await wait_until(done, timeout=20)
    finally:
        stop.set()
        await serving
        worker.close()


async def test_a_workflow_declared_auto_resume_continues_without_a_click_and_others_wait(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    hands_off = start_run(db, project.id, "hands-off")["id"]
    by_hand = start_run(db, project.id, "by-hand")["id"]
    for run_id in (hands_off, by_hand):
        await execute_inline(db, run_id)
        orphan(db, run_id, running_step="two")

    await serve_until(db, lambda: get_run(db, hands_off)["status"] == "completed")
    run = get_run(db, hands_off)
    resumed = [e for e in run["events"] if e["type"] == "workflow_resumed"]
    host = Worker(db).identity.host
    assert [(e["message"], e["reason"]) for e in resumed] == [
        (f"resumed automatically: its worker was gone in step two (noticed on {host})", "automatic")
    ]
    assert run["resume_count"] == 1
    interrupted = get_run(db, by_hand)
    assert (interrupted["status"], interrupted["is_live"]) == ("running", False)


async def test_with_auto_resume_on_every_interrupted_run_continues(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "by-hand")["id"]
    await execute_inline(db, run_id)
    orphan(db, run_id, running_step="two")

    await serve_until(db, lambda: get_run(db, run_id)["status"] == "completed", auto_resume=True)
    assert project.count("two") == 2


async def test_a_run_whose_step_keeps_killing_its_worker_is_left_interrupted_after_three(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "hands-off")["id"]
    await execute_inline(db, run_id)

    for _ in range(recovery.AUTO_RESUME_LIMIT):
        orphan(db, run_id, running_step="two")
        with db.transaction() as conn:
            assert recovery.recover_txn(conn, run_id, host="here")
    orphan(db, run_id, running_step="two")
    with db.transaction() as conn:
        assert not recovery.recover_txn(conn, run_id, host="here")
    run = get_run(db, run_id)
    assert (run["status"], run["is_live"]) == ("running", False)
    assert run["error_message"] == (
        "automatic recovery stopped: resumed 3 times in a row without completing a step, its"
        " worker ended in step two each time; resume it by hand once that is fixed"
    )
    assert run["events"][-1]["type"] == "auto_resume_stopped"
    with db.read() as conn:
        assert recovery.orphans_to_recover_txn(conn, every_run=True, host="here") == []

    resume_run(db, run_id)  # by hand: the count starts again
    orphan(db, run_id, running_step="two")
    with db.transaction() as conn:
        assert recovery.recover_txn(conn, run_id, host="here")


async def test_a_run_its_stopping_worker_released_is_resumed_as_stopped_not_dead(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "hands-off")["id"]
    await execute_inline(db, run_id)
    orphan(db, run_id, running_step="two")
    with db.transaction() as conn:  # what a worker's clean stop leaves: no lease at all
        conn.execute(update(workflow_runs).where(workflow_runs.c.id == run_id).values(
            lease_owner=None, lease_expires_at=None, owner_host=None, owner_pid=None
        ))  # fmt: skip
    with db.transaction() as conn:
        assert recovery.recover_txn(conn, run_id, host="here")
    message = get_run(db, run_id)["events"][-1]["message"]
    assert message == "resumed automatically: its worker stopped in step two (noticed on here)"
