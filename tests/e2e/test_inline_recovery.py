"""`--inline` commands killed or interrupted in their first moments leave a run that every
recovery path takes at once (no reservation to wait out)."""

from __future__ import annotations

import json
import select
import shlex
import signal
import subprocess
import time

from tests.helpers import Project, run_cli, spawn_cli, wait_for_file

QUICK = """
@workflow(id="quick")
async def quick(ctx: Context) -> str:
    a = await ctx.step.run("one", effect, "one")
    b = await ctx.step.run("two", effect, "two")
    return a + "+" + b
"""

GATED = """
def wait_for_go(name: str) -> str:
    effect(name)
    touch(name + "-started")
    while not flag("go"):
        time.sleep(0.02)
    return name


@workflow(id="gated")
async def gated(ctx: Context) -> str:
    a = await ctx.step.run("one", wait_for_go, "one")
    b = await ctx.step.run("two", effect, "two")
    return a + "+" + b
"""

# No interrupt or kill in these tests may have to wait out a lease or a reservation (30 s).
AT_ONCE_SECONDS = 10.0


def read_run_id(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The id from the ``run <id>`` line the command prints first on stderr."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("run "):
            return line.split()[1]
    proc.kill()
    raise AssertionError(f"no run id printed; exit {proc.wait()}")


def kill_after_run_id(*args: str) -> str:
    proc = spawn_cli(*args)
    run_id = read_run_id(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return run_id


def show(run_id: str) -> dict:
    return json.loads(run_cli("show", run_id, "--json", check=True).stdout)


def assert_completed_once(project: Project, run_id: str) -> None:
    run = show(run_id)
    assert run["status"] == "completed"
    assert run["result"] == "one+two"
    for step in run["steps"]:
        completed = [a for a in step["attempts"] if a["status"] == "completed"]
        assert len(completed) == 1, step
        # A step may run again only if it was cut off before it completed.
        assert project.count(step["key"]) <= len(step["attempts"]), step


def test_run_inline_killed_right_after_printing_its_id_resumes_inline_at_once(
    make_project,
) -> None:
    project: Project = make_project(QUICK)
    run_id = kill_after_run_id("run", project.name, "quick", "--inline")
    killed = show(run_id)
    assert (killed["status"], killed["is_live"]) == ("running", False), "shown interrupted"

    began = time.monotonic()
    resumed = run_cli("resume", run_id, "--inline")
    assert resumed.returncode == 0, resumed.stderr
    assert time.monotonic() - began < AT_ONCE_SECONDS
    assert_completed_once(project, run_id)


def test_resume_inline_killed_in_its_first_moments_resumes_inline_at_once(
    make_project,
) -> None:
    project: Project = make_project(QUICK)
    run_id = kill_after_run_id("run", project.name, "quick", "--inline")
    assert kill_after_run_id("resume", run_id, "--inline") == run_id
    assert show(run_id)["resume_count"] == 1

    began = time.monotonic()
    assert run_cli("resume", run_id, "--inline").returncode == 0
    assert time.monotonic() - began < AT_ONCE_SECONDS
    run = show(run_id)
    assert run["resume_count"] == 2
    assert_completed_once(project, run_id)


def test_a_killed_inline_run_resumed_for_a_worker_is_executed_at_once(make_project) -> None:
    project: Project = make_project(QUICK)
    run_id = kill_after_run_id("run", project.name, "quick", "--inline")
    worker = spawn_cli("worker", "--concurrency", "1")
    try:
        began = time.monotonic()
        queued = run_cli("resume", run_id)
        assert queued.returncode == 0, queued.stderr
        while show(run_id)["status"] != "completed":
            assert time.monotonic() - began < AT_ONCE_SECONDS, "the worker did not take it"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert_completed_once(project, run_id)


def assert_one_line_whose_command_completes_the_run(
    project: Project, proc: subprocess.Popen[str], run_id: str, *, timeout: float
) -> None:
    """The interrupted command exits 130 having printed one line (after the run id it
    printed first), and the command that line names completes the run."""
    _, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 130
    lines = stderr.splitlines()
    assert lines == [f"interrupted; the run is resumable: stepstone resume {run_id} --inline"]
    command = shlex.split(lines[0].split(": ", 1)[1])
    assert command[0] == "stepstone"
    (project.root / "go").touch()
    printed = run_cli(*command[1:])
    assert printed.returncode == 0, printed.stderr
    assert_completed_once(project, run_id)


def test_ctrl_c_right_after_the_run_id_prints_one_line_whose_command_resumes_the_run(
    make_project,
) -> None:
    project: Project = make_project(GATED)
    proc = spawn_cli("run", project.name, "gated", "--inline", columns=40)  # never wrapped
    run_id = read_run_id(proc)
    proc.send_signal(signal.SIGINT)
    assert_one_line_whose_command_completes_the_run(project, proc, run_id, timeout=20)


def test_a_second_ctrl_c_ends_at_once_a_command_whose_step_does_not_stop(
    make_project,
) -> None:
    """A sync step's thread cannot be stopped: the first Ctrl-C waits for it, the second
    leaves at once, and the run is still resumable."""
    project: Project = make_project(GATED)
    proc = spawn_cli("run", project.name, "gated", "--inline")
    run_id = read_run_id(proc)
    wait_for_file(project.root / "one-started")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None, "still waiting for the step's thread"
    proc.send_signal(signal.SIGINT)
    assert_one_line_whose_command_completes_the_run(project, proc, run_id, timeout=10)
