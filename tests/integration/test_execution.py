"""Executing runs in this process against a real SQLite journal (SPEC 3)."""

from __future__ import annotations

import asyncio

import pytest

from stepstone.errors import NotResumable
from stepstone.services.runs import get_run, resume_run, start_run
from stepstone.store.database import Database
from tests.helpers import Project, execute_inline

THREE_STEPS = """
def step_three(a: str, b: str) -> str:
    effect("three")
    if flag("fail-three"):
        raise ValueError("three is broken")
    return f"{a}+{b}"


@workflow(id="three-steps", phases=["main"])
async def three_steps(ctx: Context) -> dict:
    async with ctx.phase("main"):
        a = await ctx.step.run("one", effect, "one")
        b = await ctx.step.run("two", lambda: effect("two") + "-out")
        c = await ctx.step.run("three", step_three, a, b)
    return {"c": c}
"""


def steps_by_key(run: dict) -> dict[str, dict]:
    return {step["key"]: step for step in run["steps"]}


async def test_a_run_executes_its_steps_and_records_their_outputs(
    db: Database, make_project
) -> None:
    project: Project = make_project(THREE_STEPS)
    run_id = start_run(db, project.id, "three-steps")["id"]
    outcome = await execute_inline(db, run_id)
    assert outcome is not None
    assert outcome.status == "completed"
    run = get_run(db, run_id)
    assert run["status"] == "completed"
    assert run["result"] == {"c": "one+two-out"}
    steps = steps_by_key(run)
    assert list(steps) == ["main-one", "main-two", "main-three"]
    assert steps["main-two"]["output"] == "two-out"
    assert all(s["status"] == "completed" and s["attempt"] == 1 for s in steps.values())
    assert project.effects() == ["one", "two", "three"]


async def test_a_failed_step_reruns_on_resume_and_keeps_both_attempts(
    db: Database, make_project
) -> None:
    project: Project = make_project(THREE_STEPS)
    (project.root / "fail-three").touch()
    run_id = start_run(db, project.id, "three-steps")["id"]
    await execute_inline(db, run_id)
    failed = get_run(db, run_id)
    assert failed["status"] == "failed"
    assert failed["error_message"] == "step 'main-three' failed: ValueError: three is broken"
    assert steps_by_key(failed)["main-three"]["status"] == "failed"

    (project.root / "fail-three").unlink()
    resumed = resume_run(db, run_id)
    assert resumed["status"] == "pending"
    assert resumed["error_message"] is None
    await execute_inline(db, run_id)

    run = get_run(db, run_id)
    assert run["status"] == "completed"
    assert run["resume_count"] == 1
    assert run["result"] == {"c": "one+two-out"}, "recorded outputs reach the re-run step"
    assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 2)
    three = steps_by_key(run)["main-three"]
    assert three["attempt"] == 2
    assert [a["status"] for a in three["attempts"]] == ["failed", "completed"]
    assert three["attempts"][0]["error_message"] == "ValueError: three is broken"
    assert "workflow_resumed" in [e["type"] for e in run["events"]]


async def test_retries_run_the_step_again_and_record_every_attempt(
    db: Database, make_project
) -> None:
    project: Project = make_project(
        """
def flaky() -> str:
    effect("flaky")
    if project_count("flaky") < 3:
        raise ConnectionError("try again")
    return "ok"


def project_count(name: str) -> int:
    return (PROJECT / "effects.log").read_text().split().count(name)


@workflow(id="flaky")
async def flaky_flow(ctx: Context) -> str:
    return await ctx.step.run("flaky", flaky, retries=2, retry_backoff=0.01)
"""
    )
    run_id = start_run(db, project.id, "flaky")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["status"] == "completed"
    step = run["steps"][0]
    assert step["attempt"] == 3
    assert [a["status"] for a in step["attempts"]] == ["failed", "failed", "completed"]
    assert step["attempts"][0]["error_message"] == "ConnectionError: try again"


async def test_a_result_that_is_not_json_fails_the_step_without_retrying(
    db: Database, make_project
) -> None:
    project: Project = make_project(
        """
@workflow(id="bad-result")
async def bad_result(ctx: Context) -> None:
    await ctx.step.run("make-set", lambda: {effect("set")}, retries=3)
"""
    )
    run_id = start_run(db, project.id, "bad-result")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["status"] == "failed"
    assert "step 'make-set' returned a set that is not JSON-serialisable" in run["error_message"]
    assert run["steps"][0]["attempt"] == 1
    assert project.count("set") == 1


async def test_a_step_timeout_fails_the_step_with_the_limit(db: Database, make_project) -> None:
    project: Project = make_project(
        """
@workflow(id="slow-step")
async def slow_step(ctx: Context) -> None:
    await ctx.step.run("nap", asyncio.sleep, 30, timeout=0.2)
"""
    )
    run_id = start_run(db, project.id, "slow-step")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["status"] == "failed"
    assert run["steps"][0]["error_message"] == "step timed out after 0.2 s"


async def test_a_command_that_exits_non_zero_fails_its_step_with_the_code_and_last_error_line(
    db: Database, make_project
) -> None:
    project: Project = make_project(
        """
@workflow(id="bad-build")
async def bad_build(ctx: Context) -> None:
    await ctx.step.cli("build", "echo building; echo warning >&2; echo 'disk full' >&2; exit 3")
    effect("after")
"""
    )
    run_id = start_run(db, project.id, "bad-build")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["status"] == "failed"
    assert run["steps"][0]["error_message"] == "RuntimeError: command exited with code 3: disk full"
    assert project.count("after") == 0


async def test_the_run_timeout_fails_the_run(db: Database, make_project) -> None:
    project: Project = make_project(
        """
@workflow(id="slow-run", timeout=0.3)
async def slow_run(ctx: Context) -> None:
    await ctx.step.run("nap", asyncio.sleep, 30)
"""
    )
    run_id = start_run(db, project.id, "slow-run")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["error_message"] == "run timed out after 0.3 s"
    step = run["steps"][0]
    assert step["status"] == "failed", "the step cut short is not left running"
    assert step["attempts"][0]["status"] == "failed"


async def test_repeated_step_ids_get_numbered_keys(db: Database, make_project) -> None:
    project: Project = make_project(
        """
@workflow(id="loop")
async def loop(ctx: Context) -> list:
    return [await ctx.step.run("item", lambda i=i: i * 10) for i in range(3)]
"""
    )
    run_id = start_run(db, project.id, "loop")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert [s["key"] for s in run["steps"]] == ["item", "item#2", "item#3"]
    assert run["result"] == [0, 10, 20]


async def test_notes_and_logs_are_not_written_again_when_a_run_replays(
    db: Database, make_project
) -> None:
    project: Project = make_project(
        """
@workflow(id="noted")
async def noted(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    ctx.log.info("after first %s", "step")
    await ctx.annotate("First step done")
    await ctx.step.run("second", lambda: 1 / 0 if flag("fail") else effect("second"))
"""
    )
    (project.root / "fail").touch()
    run_id = start_run(db, project.id, "noted")["id"]
    await execute_inline(db, run_id)
    (project.root / "fail").unlink()
    resume_run(db, run_id)
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["status"] == "completed"
    annotations = [e for e in run["events"] if e["type"] == "annotation"]
    assert [a["message"] for a in annotations] == ["First step done"]
    from stepstone.services.runs import run_logs

    lines = [line["line"] for line in run_logs(db, run_id) if line["stream"] == "info"]
    assert lines == ["after first step"]


async def test_idempotency_keys_are_stable_across_resumes(db: Database, make_project) -> None:
    project: Project = make_project(
        """
@workflow(id="keys", phases=["p"])
async def keys(ctx: Context) -> None:
    async with ctx.phase("p"):
        for _ in range(2):
            key = ctx.step_idempotency_key("charge")
            with (PROJECT / "keys.log").open("a") as f:
                f.write(key + "\\n")
            await ctx.step.run("charge", lambda: 1 / 0 if flag("fail") else key)
"""
    )
    (project.root / "fail").touch()
    run_id = start_run(db, project.id, "keys")["id"]
    await execute_inline(db, run_id)
    (project.root / "fail").unlink()
    resume_run(db, run_id)
    await execute_inline(db, run_id)
    keys = (project.root / "keys.log").read_text().split()
    first_execution, resumed = keys[:1], keys[1:]
    assert first_execution == [f"{run_id}:p-charge"]
    assert resumed == [f"{run_id}:p-charge", f"{run_id}:p-charge#2"]


async def test_resume_of_a_completed_run_is_refused(db: Database, make_project) -> None:
    project: Project = make_project(THREE_STEPS)
    run_id = start_run(db, project.id, "three-steps")["id"]
    await execute_inline(db, run_id)
    with pytest.raises(NotResumable, match="is completed"):
        resume_run(db, run_id)


async def test_a_relative_cwd_is_inside_the_runs_working_directory(
    db: Database, make_project
) -> None:
    project: Project = make_project(
        """
@workflow(id="in-subdir")
async def in_subdir(ctx: Context) -> str:
    (PROJECT / "sub").mkdir(exist_ok=True)
    result = await ctx.step.cli("where", "pwd", cwd="sub")
    return result.stdout.strip()
"""
    )
    run_id = start_run(db, project.id, "in-subdir")["id"]
    await execute_inline(db, run_id)
    assert get_run(db, run_id)["result"] == str(project.root / "sub")


async def test_branches_running_at_once_keep_their_own_phase(db: Database, make_project) -> None:
    project: Project = make_project(
        """
async def branch(ctx: Context, name: str, delay: float) -> str:
    async with ctx.phase(name):
        await asyncio.sleep(delay)
        return await ctx.step.run("work", lambda: name)


@workflow(id="branches")
async def branches(ctx: Context) -> list:
    # beta enters its phase while alpha is still inside its own, before alpha's step
    return list(await asyncio.gather(branch(ctx, "alpha", 0.05), branch(ctx, "beta", 0.1)))
"""
    )
    run_id = start_run(db, project.id, "branches")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["result"] == ["alpha", "beta"]
    assert {s["key"]: s["output"] for s in run["steps"]} == {
        "alpha-work": "alpha",
        "beta-work": "beta",
    }


async def test_output_without_newlines_is_cut_into_bounded_lines(
    db: Database, make_project
) -> None:
    project: Project = make_project(
        """
@workflow(id="no-newlines")
async def no_newlines(ctx: Context) -> None:
    await ctx.step.cli("blob", ["python3", "-c", "print('x' * 200000, end='')"])
"""
    )
    run_id = start_run(db, project.id, "no-newlines")["id"]
    await execute_inline(db, run_id)
    from stepstone.services.runs import run_logs
    from stepstone.steps.cli import MAX_LINE_BYTES

    lines = [line["line"] for line in run_logs(db, run_id)]
    assert "".join(lines) == "x" * 200000
    assert max(len(line) for line in lines) <= MAX_LINE_BYTES + 65536


async def test_processes_a_command_leaves_in_the_background_end_with_it(
    db: Database, make_project
) -> None:
    from stepstone.store.leases import process_alive

    project: Project = make_project(
        """
@workflow(id="leaves-a-child")
async def leaves_a_child(ctx: Context) -> str:
    result = await ctx.step.cli("start", "sleep 300 & echo $! > child.pid; echo started")
    return result.stdout
"""
    )
    run_id = start_run(db, project.id, "leaves-a-child")["id"]
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(execute_inline(db, run_id), 20)
    assert asyncio.get_running_loop().time() - started < 10, "the step did not wait for it"
    assert get_run(db, run_id)["result"] == "started"
    child = int((project.root / "child.pid").read_text())
    for _ in range(100):
        if not process_alive(child):
            break
        await asyncio.sleep(0.05)
    assert not process_alive(child)


NUL_FLOW = """
def nul_error() -> None:
    raise ValueError("bad\\x00byte")


@workflow(id="nul")
async def nul(ctx: Context) -> None:
    await ctx.step.cli("say", "printf 'a\\\\000b\\\\n'")
    await ctx.step.run("name", lambda: "x\\x00y")
    await ctx.step.run("fail", nul_error)
"""


async def test_nul_characters_in_output_logs_and_errors_are_recorded_not_lost(
    db: Database, make_project
) -> None:
    from sqlalchemy import select

    from stepstone.store.schema import step_logs

    project: Project = make_project(NUL_FLOW)
    run_id = start_run(db, project.id, "nul")["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    with db.read() as conn:
        lines = conn.execute(select(step_logs.c.line)).scalars().all()

    # PostgreSQL text cannot hold NUL: it stands as U+FFFD there; SQLite keeps it.
    nul = "\x00" if db.kind == "sqlite" else "\ufffd"
    steps = steps_by_key(run)
    assert lines == [f"a{nul}b"]
    assert steps["name"]["output"] == "x\x00y", "outputs are JSON: the NUL is escaped"
    assert steps["fail"]["status"] == "failed"
    assert steps["fail"]["error_message"] == f"ValueError: bad{nul}byte"
    assert run["status"] == "failed"
