"""A project's limit of runs executing at once (``max_concurrent_runs``, SPEC 4): workers
leave its queued runs waiting while it is reached, on both databases; PostgreSQL workers in
separate processes are tested in ``tests/e2e/test_scale_out.py``."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from stepstone.errors import InvalidInput
from stepstone.services.projects import get_project, update_project
from stepstone.services.runs import start_run
from stepstone.store.database import Database
from stepstone.store.schema import workflow_runs
from stepstone.worker.worker import Worker
from tests.helpers import Project

FLOW = """
@workflow(id="one")
async def one(ctx: Context) -> None:
    await ctx.step.run("only", effect, "only")
"""


def claim(worker: Worker) -> str | None:
    """The run one free slot of ``worker`` takes, if any."""
    taken = worker._claim_next([worker.holder()])
    return taken[0].run_id if taken else None


@pytest.fixture
def worker(db: Database) -> Worker:
    worker = Worker(db, concurrency=8)
    yield worker  # type: ignore[misc]
    worker.close()


def test_queued_runs_of_a_project_at_its_limit_wait_while_other_projects_go_ahead(
    db: Database, make_project, worker: Worker
) -> None:
    limited: Project = make_project(FLOW, name="limited")
    free: Project = make_project(FLOW, name="free")
    update_project(db, limited.id, max_concurrent_runs=1)
    first, second = (start_run(db, limited.id, "one")["id"] for _ in range(2))
    other = start_run(db, free.id, "one")["id"]

    assert claim(worker) == first
    assert claim(worker) == other, "the limited project's second waits"
    assert claim(worker) is None

    expired = update(workflow_runs).where(workflow_runs.c.id == first)
    with db.transaction() as conn:  # the first run's worker died: its lease ran out
        conn.execute(expired.values(lease_expires_at=time.time() - 1))
    assert claim(worker) == second, "an orphan holds no place"


def test_raising_or_lifting_the_limit_lets_queued_runs_go(
    db: Database, make_project, worker: Worker
) -> None:
    project: Project = make_project(FLOW)
    update_project(db, project.id, max_concurrent_runs=1)
    runs = [start_run(db, project.id, "one")["id"] for _ in range(4)]
    assert claim(worker) == runs[0]
    assert claim(worker) is None

    update_project(db, project.id, max_concurrent_runs=2)
    assert claim(worker) == runs[1]
    assert claim(worker) is None

    assert update_project(db, project.id, max_concurrent_runs=None)["max_concurrent_runs"] is None
    assert [claim(worker) for _ in range(3)] == [*runs[2:], None]


def test_concurrent_claims_never_pass_the_limit(db: Database, make_project) -> None:
    project: Project = make_project(FLOW)
    update_project(db, project.id, max_concurrent_runs=3)
    for _ in range(12):
        start_run(db, project.id, "one")
    workers = [Worker(db, concurrency=8) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            claimed = list(pool.map(lambda w: [claim(w) for _ in range(4)], workers))
    finally:
        for each in workers:
            each.close()
    taken = [run_id for claims in claimed for run_id in claims if run_id is not None]
    assert len(taken) == 3


def test_one_claim_for_several_free_slots_takes_several_runs_within_the_limit(
    db: Database, make_project, worker: Worker
) -> None:
    limited: Project = make_project(FLOW, name="limited")
    free: Project = make_project(FLOW, name="free")
    update_project(db, limited.id, max_concurrent_runs=2)
    mine = [start_run(db, limited.id, "one")["id"] for _ in range(3)]
    others = [start_run(db, free.id, "one")["id"] for _ in range(2)]
    taken = worker._claim_next([worker.holder() for _ in range(6)])
    assert [held.run_id for held in taken] == [*mine[:2], *others], "oldest first, limit kept"
    assert len({held.lease_token for held in taken}) == 4, "each run has a lease of its own"
    assert claim(worker) is None


def test_a_limit_below_one_is_refused_and_changes_nothing(db: Database, make_project) -> None:
    project: Project = make_project(FLOW)
    update_project(db, project.id, max_concurrent_runs=2)
    with pytest.raises(InvalidInput, match="at least 1"):
        update_project(db, project.id, max_concurrent_runs=0)
    assert get_project(db, project.id)["max_concurrent_runs"] == 2
