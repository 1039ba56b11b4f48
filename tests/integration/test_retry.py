"""Retry from a step (SPEC 3.10): the same run goes again from a chosen step; the steps
before it are reused, it and the steps after it execute again, every attempt stays listed.
Fork (3.11): a new run that reuses the steps of another before a chosen step."""

from __future__ import annotations

import asyncio

import pytest

from stepstone.errors import Conflict, InvalidInput, NotResumable
from stepstone.services.reruns import fork_run, retry_run
from stepstone.services.runs import cancel_run, get_run, start_run
from stepstone.store.database import Database
from tests.helpers import Project, execute_inline, wait_until

FOUR = """
async def second() -> str:
    effect("two")
    touch("two-started")
    while flag("hold"):
        await asyncio.sleep(0.02)
    if flag("fail-two"):
        raise RuntimeError("two failed on purpose")
    return "two"


@workflow(id="four")
async def four(ctx: Context) -> str:
    await ctx.step.run("one", effect, "one")
    await ctx.step.run("two", second)
    for item in ("x", "y"):
        await ctx.step.run("item", effect, "item-" + item)
    return "done"
"""

FORKED = """
async def third() -> str:
    effect("three")
    touch("three-started")
    while flag("hold"):
        await asyncio.sleep(0.02)
    if flag("fail-three"):
        raise RuntimeError("three failed on purpose")
    return "three"


@workflow(id="forked", args_schema={"type": "object", "properties": {"word": {"type": "string"}}})
async def forked(ctx: Context) -> str:
    parts = [ctx.args["word"]]
    parts.append(await ctx.step.run("one", effect, "one"))
    parts.append(await ctx.step.run("two", effect, "two"))
    parts.append(await ctx.step.run("three", third))
    parts.append(await ctx.step.run("four", effect, "four"))
    return "-".join(parts)
"""


async def execute(db: Database, run_id: str) -> str:
    """Execute the queued run here; how it ended."""
    outcome = await execute_inline(db, run_id)
    assert outcome is not None, "the run was queued"
    return outcome.status


async def completed_run(db: Database, project: Project) -> str:
    run_id = start_run(db, project.id, "four")["id"]
    assert await execute(db, run_id) == "completed"
    return run_id


async def test_retry_from_the_second_step_reuses_the_first_and_runs_the_rest_again(
    db: Database, make_project
) -> None:
    project: Project = make_project(FOUR)
    run_id = await completed_run(db, project)

    retried = retry_run(db, run_id, "two")
    assert retried["status"] == "pending"
    assert [(s["key"], s["status"]) for s in retried["steps"]] == [
        ("one", "completed"),
        ("two", "pending"),
        ("item", "pending"),
        ("item#2", "pending"),
    ]
    assert [s["output"] for s in retried["steps"][1:]] == [None, None, None]
    assert retried["events"][-1]["type"] == "workflow_retried"
    assert retried["events"][-1]["step_key"] == "two"

    assert await execute(db, run_id) == "completed"
    assert project.effects() == ["one", "two", "item-x", "item-y", "two", "item-x", "item-y"]
    run = get_run(db, run_id)
    steps = {s["key"]: s for s in run["steps"]}
    assert steps["one"]["reused"] is True
    assert [steps[key]["attempt"] for key in ("one", "two", "item", "item#2")] == [1, 2, 2, 2]
    assert [a["status"] for a in steps["two"]["attempts"]] == ["completed", "completed"]
    assert all(not steps[key]["reused"] for key in ("two", "item", "item#2"))
    assert run["resume_count"] == 0, "a retry is not a resume"


async def test_retry_of_a_failed_run_from_its_first_step_runs_everything_again(
    db: Database, make_project
) -> None:
    project: Project = make_project(FOUR)
    (project.root / "fail-two").touch()
    run_id = start_run(db, project.id, "four")["id"]
    assert await execute(db, run_id) == "failed"
    (project.root / "fail-two").unlink()

    retry_run(db, run_id, "one")
    assert await execute(db, run_id) == "completed"
    assert project.count("one") == 2
    run = get_run(db, run_id)
    assert run["error_message"] is None
    assert [a["status"] for a in run["steps"][1]["attempts"]] == ["failed", "completed"]


async def test_retry_is_refused_for_a_live_run_an_unknown_step_and_a_cancelled_run(
    db: Database, make_project
) -> None:
    project: Project = make_project(FOUR)
    (project.root / "hold").touch()
    run_id = start_run(db, project.id, "four")["id"]
    task = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    await wait_until((project.root / "two-started").exists)
    with pytest.raises(Conflict, match="live worker"):
        retry_run(db, run_id, "one")
    (project.root / "hold").unlink()
    assert (await task).status == "completed"

    steps_named = r"no step 'three' \(its steps: one, two, item, item#2\)"
    with pytest.raises(InvalidInput, match=steps_named):
        retry_run(db, run_id, "three")
    assert get_run(db, run_id)["status"] == "completed", "a refused retry changes nothing"

    queued = start_run(db, project.id, "four")["id"]
    with pytest.raises(NotResumable, match="is pending"):
        retry_run(db, queued, "one")
    cancel_run(db, queued)
    with pytest.raises(NotResumable, match="is cancelled"):
        retry_run(db, queued, "one")


async def test_a_fork_from_step_three_of_a_failed_run_reuses_one_and_two_only(
    db: Database, make_project
) -> None:
    project: Project = make_project(FORKED)
    (project.root / "fail-three").touch()
    origin_id = start_run(db, project.id, "forked", args={"word": "hi"})["id"]
    assert await execute(db, origin_id) == "failed"
    origin_before = get_run(db, origin_id)
    (project.root / "fail-three").unlink()

    fork = fork_run(db, origin_id, "three")
    assert fork["id"] != origin_id
    assert fork["forked_from"] == {"run_id": origin_id, "step_key": "three"}
    assert fork["args"] == {"word": "hi"}
    assert [(s["key"], s["status"], s["reused"]) for s in fork["steps"]] == [
        ("one", "completed", True),
        ("two", "completed", True),
    ]
    assert await execute(db, fork["id"]) == "completed"
    assert project.effects() == ["one", "two", "three", "three", "four"]
    forked = get_run(db, fork["id"])
    assert forked["result"] == "hi-one-two-three-four"
    assert [s["key"] for s in forked["steps"] if s["reused"]] == ["one", "two"]

    origin = get_run(db, origin_id)
    assert (origin["status"], origin["steps"]) == (origin_before["status"], origin_before["steps"])
    assert origin["forks"] == [
        {"run_id": fork["id"], "from_step": "three", "created_at": fork["created_at"]}
    ]
    assert origin["events"][-1]["type"] == "fork_created"


async def test_a_fork_without_a_step_runs_everything_and_a_live_run_is_not_forked(
    db: Database, make_project
) -> None:
    project: Project = make_project(FORKED)
    origin_id = start_run(db, project.id, "forked", args={"word": "x"})["id"]
    assert await execute(db, origin_id) == "completed"
    fork = fork_run(db, origin_id)
    assert fork["steps"] == []
    assert fork["forked_from"] == {"run_id": origin_id, "step_key": None}
    assert await execute(db, fork["id"]) == "completed"
    assert project.count("one") == 2
    with pytest.raises(InvalidInput, match="no step 'five'"):
        fork_run(db, origin_id, "five")

    (project.root / "hold").touch()
    (project.root / "three-started").unlink()
    live_id = start_run(db, project.id, "forked", args={"word": "y"})["id"]
    task = asyncio.create_task(execute_inline(db, live_id, poll_seconds=0.05))
    await wait_until((project.root / "three-started").exists)
    with pytest.raises(Conflict, match="live worker"):
        fork_run(db, live_id, "three")
    (project.root / "hold").unlink()
    assert (await task).status == "completed"
