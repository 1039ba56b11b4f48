"""Async function steps run their first slice before their running marker: one that never
waits is recorded with one commit; one that waits gets its marker when it first waits
(executor.py, ``_eager_attempt``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from stepstone.services.runs import get_run, pause_run, resume_run, start_run
from stepstone.store.database import Database
from stepstone.store.journal import Journal
from stepstone.store.journal_postgres import PostgresJournal
from stepstone.store.schema import step_attempts, workflow_runs
from tests.helpers import Project, execute_inline, wait_until

FLOWS = """
async def at_once(name: str) -> str:
    return effect(name)


async def flaky_at_once() -> str:
    if effect("flaky") == "flaky" and project_count("flaky") < 2:
        raise ValueError("not yet")
    return "steady"


def project_count(name: str) -> int:
    path = PROJECT / "effects.log"
    return path.read_text().splitlines().count(name) if path.exists() else 0


async def waits() -> str:
    touch("waiting")
    while not flag("go"):
        await asyncio.sleep(0.02)
    return "waited"


@workflow(id="eager")
async def eager(ctx: Context) -> list:
    a = await ctx.step.run("a", at_once, "a")
    b = await ctx.step.run("b", effect, "b")  # a sync function: marker first
    c = await ctx.step.run("c", flaky_at_once, retries=1)
    return [a, b, c]


@workflow(id="waits")
async def waits_flow(ctx: Context) -> str:
    return await ctx.step.run("w", waits)


@workflow(id="between")
async def between(ctx: Context) -> str:
    await ctx.step.run("one", at_once, "one")
    touch("between")
    while not flag("go"):
        await asyncio.sleep(0.02)
    await ctx.step.run("two", at_once, "two")
    return await ctx.step.run("three", at_once, "three")
"""


@pytest.fixture
def markers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the steps whose running marker was written, in order."""
    written: list[str] = []
    for cls in (Journal, PostgresJournal):
        original = cls.start_attempt

        def spy(self, *args, _original: Callable = original, **kwargs):  # type: ignore[no-untyped-def]
            written.append(kwargs["key"])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "start_attempt", spy)
    return written


def steps_by_key(run: dict) -> dict[str, dict]:
    return {step["key"]: step for step in run["steps"]}


async def test_an_async_step_that_never_waits_is_recorded_in_one_commit(
    db: Database, make_project, markers: list[str]
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "eager")["id"]
    outcome = await execute_inline(db, run_id)
    assert outcome is not None
    assert outcome.status == "completed"
    run = get_run(db, run_id)
    assert run["result"] == ["a", "b", "steady"]
    steps = steps_by_key(run)
    a = steps["a"]
    assert (a["status"], a["attempt"], a["output"]) == ("completed", 1, "a")
    assert [attempt["status"] for attempt in a["attempts"]] == ["completed"]
    assert a["started_at"] == a["completed_at"], "marker and completion: one transaction"
    # The sync step keeps its marker; the async one that raised at once gets its marker
    # with its failure, and its retry, finishing at once, needs none.
    assert markers == ["b", "c"]
    c = steps["c"]
    assert (c["status"], c["attempt"]) == ("completed", 2)
    assert [attempt["status"] for attempt in c["attempts"]] == ["failed", "completed"]
    assert c["attempts"][0]["error_message"] == "ValueError: not yet"
    with db.engine.connect() as conn:
        (traceback,) = conn.execute(
            select(step_attempts.c.error_traceback).where(step_attempts.c.status == "failed")
        ).one()
    assert 'raise ValueError("not yet")' in traceback
    assert project.effects() == ["a", "b", "flaky", "flaky"]


async def test_an_async_step_that_waits_is_running_in_the_journal_while_it_waits(
    db: Database, make_project, markers: list[str]
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "waits")["id"]
    task = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    await wait_until((project.root / "waiting").exists)
    await wait_until(lambda: [s["status"] for s in get_run(db, run_id)["steps"]] == ["running"])
    assert markers == ["w"]
    (project.root / "go").touch()
    assert (await task).status == "completed"
    step = get_run(db, run_id)["steps"][0]
    assert (step["status"], step["output"]) == ("completed", "waited")
    assert step["started_at"] < step["completed_at"]


async def test_a_worker_that_lost_its_lease_records_no_eager_step(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "between")["id"]
    task = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    await wait_until((project.root / "between").exists)
    with db.transaction() as conn:
        conn.execute(
            update(workflow_runs)
            .where(workflow_runs.c.id == run_id)
            .values(lease_owner="another-worker")
        )
    (project.root / "go").touch()
    assert (await task).status == "lease_lost"
    run = get_run(db, run_id)
    assert [s["key"] for s in run["steps"]] == ["one"], "step two's write was fenced off"
    # What the slice did in the process happened (it ran before the fence was checked);
    # the execution went no further.
    assert project.effects() == ["one", "two"]


async def test_a_pause_asked_for_while_an_eager_step_ran_stops_the_run_after_it(
    db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start_run(db, project.id, "between")["id"]
    task = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    await wait_until((project.root / "between").exists)
    pause_run(db, run_id)
    (project.root / "go").touch()
    assert (await task).status == "paused"
    paused = get_run(db, run_id)
    assert [(s["key"], s["status"]) for s in paused["steps"]] == [
        ("one", "completed"),
        ("two", "completed"),
    ], "step two had run when the journal told of the pause: it is kept"

    resume_run(db, run_id)
    assert (await execute_inline(db, run_id)).status == "completed"
    assert get_run(db, run_id)["result"] == "three"
    assert project.effects() == ["one", "two", "three"], "one and two were not run again"
