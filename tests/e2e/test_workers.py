"""Several worker processes on one SQLite file (SPEC 4)."""

from __future__ import annotations

import signal

from stepstone.services.runs import get_run, list_runs, start_run
from tests.conftest import Project, spawn_cli
from tests.helpers import wait_for

TAGGED = """
@workflow(id="tagged")
async def tagged(ctx: Context) -> None:
    for number in range(3):
        await ctx.step.run(f"step-{number}", effect, f"{ctx.run.id}/{number}")
"""

RUNS = 24


def test_two_worker_processes_never_execute_the_same_run(db, make_project) -> None:
    project: Project = make_project(TAGGED)
    run_ids = [start_run(db, project.id, "tagged")["id"] for _ in range(RUNS)]
    workers = [spawn_cli("worker", "--concurrency", "4") for _ in range(2)]
    try:
        wait_for(
            lambda: len(list_runs(db, status="completed", limit=100)) == RUNS,
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
