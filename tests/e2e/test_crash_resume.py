"""Real processes killed with SIGKILL, then resumed from the command line (SPEC 3.7)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.helpers import Project, run_cli, spawn_cli, wait_for, wait_for_file

CRASHABLE = """
def slow_three(a: str, b: str) -> str:
    effect("three")
    touch("three-started")
    while flag("hang"):
        time.sleep(0.05)
    return f"three({a},{b})"


@workflow(id="crashable", phases=["work"])
async def crashable(ctx: Context) -> dict:
    async with ctx.phase("work"):
        a = await ctx.step.run("one", lambda: effect("one") + "-out")
        b = await ctx.step.run("two", lambda: effect("two") + "-out")
        c = await ctx.step.run("three", slow_three, a, b)
    return {"c": c}
"""


def show(run_id: str) -> dict:
    return json.loads(run_cli("show", run_id, "--json", check=True).stdout)


def only_run_id() -> str:
    runs = json.loads(run_cli("runs", "--json", check=True).stdout)
    assert len(runs) == 1
    return str(runs[0]["id"])


def kill_hard(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def start_and_kill_in_step_three(project: Project) -> str:
    (project.root / "hang").touch()
    proc = spawn_cli("run", project.name, "crashable", "--inline")
    wait_for_file(project.root / "three-started")
    kill_hard(proc)
    return only_run_id()


def test_a_run_killed_in_step_three_resumes_without_redoing_steps_one_and_two(
    make_project,
) -> None:
    project: Project = make_project(CRASHABLE)
    run_id = start_and_kill_in_step_three(project)
    interrupted = show(run_id)
    assert interrupted["status"] == "running"
    assert interrupted["is_live"] is False
    assert [s["status"] for s in interrupted["steps"]] == ["completed", "completed", "running"]

    (project.root / "hang").unlink()
    resumed = run_cli("resume", run_id, "--inline")
    assert resumed.returncode == 0, resumed.stderr

    run = show(run_id)
    assert run["status"] == "completed"
    assert run["resume_count"] == 1
    assert run["result"] == {"c": "three(one-out,two-out)"}
    assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 2)
    three = run["steps"][2]
    assert [a["status"] for a in three["attempts"]] == ["interrupted", "completed"]
    assert [s["reused"] for s in run["steps"]] == [True, True, False]


def test_editing_the_workflow_between_crash_and_resume_runs_new_code(make_project) -> None:
    project: Project = make_project(CRASHABLE)
    run_id = start_and_kill_in_step_three(project)
    (project.root / "hang").unlink()
    project.write_workflow(
        """
@workflow(id="crashable", phases=["work"])
async def crashable(ctx: Context) -> dict:
    async with ctx.phase("work"):
        a = await ctx.step.run("one", lambda: effect("one") + "-out")
        b = await ctx.step.run("two", lambda: effect("two") + "-out")
        extra = await ctx.step.run("inserted", lambda: effect("inserted") + "-new")
        c = await ctx.step.run("three", lambda: effect("three-v2") + f"({a},{b},{extra})")
    d = await ctx.step.run("after", effect, "after")
    return {"c": c, "d": d}
"""
    )
    assert run_cli("resume", run_id, "--inline").returncode == 0
    run = show(run_id)
    assert run["status"] == "completed"
    assert run["result"] == {"c": "three-v2(one-out,two-out,inserted-new)", "d": "after"}
    assert project.effects() == ["one", "two", "three", "inserted", "three-v2", "after"]
    assert [s["key"] for s in run["steps"]] == [
        "work-one",
        "work-two",
        "work-three",
        "work-inserted",
        "after",
    ]


NAP_SECONDS = 15


def test_a_durable_sleep_sleeps_only_what_is_left_after_a_crash(make_project) -> None:
    project: Project = make_project(
        f"NAP_SECONDS = {NAP_SECONDS}\n"
        """
@workflow(id="sleepy")
async def sleepy(ctx: Context) -> None:
    await ctx.step.run("before", effect, "before")
    await ctx.step.sleep("nap", NAP_SECONDS)
    await ctx.step.run("after", lambda: (PROJECT / "woke").write_text(str(time.time())))
"""
    )
    proc = spawn_cli("run", project.name, "sleepy", "--inline")
    run_id = ""

    def napping() -> bool:
        nonlocal run_id
        runs = json.loads(run_cli("runs", "--json").stdout or "[]")
        if not runs:
            return False
        run_id = runs[0]["id"]
        return any(s["key"] == "nap" for s in show(run_id)["steps"])

    wait_for(napping, what="the nap step to start")
    kill_hard(proc)
    nap_started = show(run_id)["steps"][1]["started_at"]
    nap_started_at = _epoch(nap_started)
    time.sleep(max(0.0, nap_started_at + 5 - time.time()))

    # What is left of the nap when it resumes: on a slow machine the commands above may
    # take a while, so it is measured, not assumed.
    resumed_at = time.time()
    left = nap_started_at + NAP_SECONDS - resumed_at
    assert left >= 3.0, f"only {left:.1f} s of the nap left at the resume: nothing to tell"
    assert run_cli("resume", run_id, "--inline", timeout=30).returncode == 0
    woke_at = float((project.root / "woke").read_text())
    assert left - 0.5 <= woke_at - resumed_at <= left + 2.5, (woke_at - resumed_at, left)
    assert NAP_SECONDS - 0.2 <= woke_at - nap_started_at <= NAP_SECONDS + 1.5, (
        woke_at - nap_started_at
    )
    assert project.count("before") == 1


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_cancel_from_another_process_kills_the_command_and_its_children(
    make_project,
) -> None:
    from stepstone.store.leases import process_alive

    project: Project = make_project(
        """
@workflow(id="killable")
async def killable(ctx: Context) -> None:
    await ctx.step.cli("long", "sleep 300 & echo $! > child.pid; echo $$ > shell.pid; wait")
"""
    )
    proc = spawn_cli("run", project.name, "killable", "--inline")
    wait_for(
        lambda: (project.root / "child.pid").exists() and (project.root / "shell.pid").exists()
    )
    time.sleep(0.1)
    pids = [int((project.root / name).read_text()) for name in ("shell.pid", "child.pid")]
    run_id = only_run_id()

    cancelled = run_cli("cancel", run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"cancelled {run_id}" in cancelled.stdout
    assert proc.wait(timeout=20) == 1, "the inline run exits 1 when cancelled"
    wait_for(lambda: not any(process_alive(pid) for pid in pids), what="the command's PIDs to go")
    assert show(run_id)["status"] == "cancelled"


def test_resume_refusals_exit_1_with_one_clear_line(make_project, tmp_path: Path) -> None:
    project: Project = make_project(CRASHABLE)
    run_id = run_cli("run", project.name, "crashable", check=True).stdout.strip()
    refused = run_cli("resume", run_id)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: run {run_id} is pending; only interrupted, paused or failed runs resume"
    )
    assert run_cli("run", project.name, "crashable", "--inline").returncode == 0
    done = json.loads(run_cli("runs", "--json", "--status", "completed").stdout)[0]["id"]
    again = run_cli("resume", done)
    assert again.returncode == 1
    assert "is completed" in again.stderr


def test_sigterm_ends_the_running_command_and_leaves_the_run_resumable(make_project) -> None:
    from stepstone.store.leases import process_alive

    project: Project = make_project(
        """
@workflow(id="stoppable")
async def stoppable(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    await ctx.step.cli(
        "long", "if [ -f done ]; then echo ok; else sleep 300 & echo $! > child.pid; wait; fi"
    )
"""
    )
    proc = spawn_cli("run", project.name, "stoppable", "--inline")
    wait_for_file(project.root / "child.pid")
    time.sleep(0.1)
    child_pid = int((project.root / "child.pid").read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 130
    assert "stepstone resume" in proc.stderr.read()
    wait_for(lambda: not process_alive(child_pid), what="the command to be ended")
    run_id = only_run_id()
    interrupted = show(run_id)
    assert interrupted["status"] == "running"
    assert interrupted["is_live"] is False
    (project.root / "done").touch()
    assert run_cli("resume", run_id, "--inline").returncode == 0
    assert show(run_id)["status"] == "completed"
    assert project.count("first") == 1


LEFT_BEHIND = """
@workflow(id="left-behind")
async def left_behind(ctx: Context) -> None:
    await ctx.step.cli(
        "long",
        "if [ -f resumed ]; then"
        "  awk '{print $3}' /proc/$(cat child.pid)/stat > seen 2>/dev/null || echo gone > seen;"
        " else sleep 300 & echo $! > child.pid; wait; fi",
    )
"""


def test_a_commands_processes_left_by_a_crash_are_ended_before_the_step_runs_again(
    make_project,
) -> None:
    """kill -9 of the worker ends the command's shell, not what the command started: those
    are ended (their group is recorded with the attempt) before the step's next attempt."""
    from stepstone.store.leases import process_alive

    project: Project = make_project(LEFT_BEHIND)
    proc = spawn_cli("run", project.name, "left-behind", "--inline")
    wait_for_file(project.root / "child.pid")
    time.sleep(0.2)
    child = int((project.root / "child.pid").read_text())
    kill_hard(proc)
    time.sleep(0.2)
    assert process_alive(child), "the command's child outlives the killed worker"

    (project.root / "resumed").touch()
    resumed = run_cli("resume", only_run_id(), "--inline")
    assert resumed.returncode == 0, resumed.stderr
    seen = (project.root / "seen").read_text().strip()
    assert seen in ("gone", "Z"), f"the new attempt found the old child in state {seen}"
    assert not process_alive(child)
