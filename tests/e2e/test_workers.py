"""Several worker processes on one SQLite file (SPEC 4)."""

from __future__ import annotations

import signal
import time

from stepstone.services.runs import get_run, list_runs, resume_run, start_run
from tests.helpers import Project, spawn_cli, wait_for

TAGGED = """
@workflow(id="tagged")
async def tagged(ctx: Context) -> None:
    for number in range(3):
        await ctx.step.run(f"step-{number}", effect, f"{ctx.run.id}/{number}")
        await asyncio.sleep(0.05)  # long enough that one worker cannot take every run
"""

RUNS = 24


def test_two_worker_processes_never_execute_the_same_run(db, make_project) -> None:
    project: Project = make_project(TAGGED)
    workers = [spawn_cli("worker", "--concurrency", "4") for _ in range(2)]
    for worker in workers:  # both are up (each prints a banner) before the runs are queued
        assert worker.stderr is not None
        assert "worker" in worker.stderr.readline()
    run_ids = [start_run(db, project.id, "tagged")["id"] for _ in range(RUNS)]
    try:
        wait_for(
            lambda: len(list_runs(db, status="completed", limit=100)[0]) == RUNS,
            timeout=90,
            what="every run to complete",
        )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        exit_codes = [worker.wait(timeout=20) for worker in workers]
    assert exit_codes == [0, 0]
    effects = project.effects()
    assert sorted(effects) == sorted(f"{r}/{n}" for r in run_ids for n in range(3))
    owners = {
        event["message"]
        for run_id in run_ids
        for event in get_run(db, run_id)["events"]
        if event["type"] == "workflow_started"
    }
    assert len(owners) == 2, "both workers took runs, so the claims really competed"


def test_a_stopped_worker_ends_its_busy_runs_and_leaves_them_resumable(db, make_project) -> None:
    project: Project = make_project(
        """
@workflow(id="busy")
async def busy(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    await ctx.step.cli("wait", "while [ ! -f go ]; do sleep 0.05; done", cwd=str(PROJECT))
"""
    )
    run_id = start_run(db, project.id, "busy")["id"]
    worker = spawn_cli("worker", "--concurrency", "1")
    wait_for(lambda: project.count("first") == 1, what="the first step")
    time.sleep(0.2)
    stopped_at = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    assert time.monotonic() - stopped_at < 8, "the worker stops without waiting for the run"
    run = get_run(db, run_id)
    assert run["status"] == "running"
    assert run["is_live"] is False
    (project.root / "go").touch()
    resume_run(db, run_id)
    restarted = spawn_cli("worker")
    try:
        wait_for(lambda: get_run(db, run_id)["status"] == "completed", what="the resumed run")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=20)
    assert project.count("first") == 1
