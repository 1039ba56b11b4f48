"""The reason to run agents in Stepstone: a worktree run killed with ``kill -9`` in the middle
of an agent's work resumes in the same worktree and continues the same agent session, after
ending what the killed attempt left running (SPEC 8, 3.7)."""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path

import pytest

from stepstone.steps.processes import live_members
from stepstone.store.leases import process_alive
from tests.e2e.test_inline_recovery import read_run_id, show
from tests.helpers import (
    Project,
    fake_agent_calls,
    git,
    make_repository,
    run_cli,
    spawn_cli,
    wait_for,
)

AGENT_FLOW = """
@workflow(id="implement", phases=["implement", "check"])
async def implement(ctx: Context) -> dict:
    async with ctx.phase("implement"):
        answer = await ctx.step.agent(
            "agent",
            agent=ctx.args["agent"],
            prompt="Implement the feature.\\n@work 60\\n@edit feature.txt implemented\\n"
            "@answer implemented",
        )
    async with ctx.phase("check"):
        await ctx.step.cli("check", "test -f feature.txt")
        await ctx.step.git("commit", op="commit", message="feat: the feature")
    return {"answer": answer.text, "session": answer.session_id}
"""


def work_logs(home: Path) -> list[Path]:
    """The logs of the tool processes the fake agent started for ``@work``."""
    return sorted((home / "fake-agents").glob("work-*.log"))


@pytest.mark.parametrize(
    ("agent", "preserve"),
    [("claude", False), ("claude", True), ("codex", False), ("gemini", False)],
)
def test_a_killed_worktree_agent_run_resumes_the_same_session_in_the_same_worktree(
    make_project, home: Path, fake_agent_commands: None, agent: str, preserve: bool
) -> None:
    project: Project = make_project(AGENT_FLOW)
    make_repository(project)
    command = ["run", project.name, "implement", "--mode", "worktree", "--branch", "feat/agent"]
    command += ["--arg", f"agent={agent}"]
    proc = spawn_cli(*command, *(["--preserve"] if preserve else []), "--inline")
    run_id = read_run_id(proc)

    # The agent is at work: its tool process ticks. Then the whole command dies.
    wait_for(lambda: bool(work_logs(home)) and work_logs(home)[0].stat().st_size > 0, 30)
    (tool_log,) = work_logs(home)
    tool_pid = int(tool_log.stem.removeprefix("work-"))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    killed = show(run_id)
    assert (killed["status"], killed["is_live"]) == ("running", False)
    worktree = Path(killed["working_dir"])
    assert worktree.is_dir()
    assert process_alive(tool_pid), "the killed attempt's tool outlives the command"
    session = next(s for s in killed["steps"] if s["key"] == "implement-agent")["session_id"]
    assert session == fake_agent_calls(home)[0]["session_id"]  # recorded before the agent worked

    resumed = run_cli("resume", run_id, "--inline", timeout=120)
    assert resumed.returncode == 0, resumed.stderr

    run = show(run_id)
    assert run["status"] == "completed", run["error_message"]
    first, second = fake_agent_calls(home)
    # The same session, continued (not a new one), in the same worktree.
    assert second["session_id"] == first["session_id"] == session
    assert second["resumed"] is True
    resume_flag = "resume" if agent == "codex" else "--resume"
    assert second["argv"][second["argv"].index(resume_flag) + 1] == session
    assert second["cwd"] == first["cwd"] == str(worktree)
    assert run["result"] == {"answer": "implemented", "session": session}
    # The killed attempt's tool was ended before the new attempt started: it is gone and
    # wrote nothing after.
    assert not process_alive(tool_pid)
    assert not live_members(tool_pid)
    last_tick = float(tool_log.read_text().splitlines()[-1].split()[2])
    assert last_tick < datetime.fromisoformat(second["time"].replace("Z", "+00:00")).timestamp()
    steps = {step["key"]: step for step in run["steps"]}
    assert steps["_system_setup-workspace"]["attempt"] == 1  # set up once, reused
    assert steps["implement-agent"]["attempt"] == 2
    assert steps["_system_finalize-workspace"]["status"] == "completed"
    # Both attempts' transcripts are kept.
    printed = run_cli("logs", run_id, "--step", "implement-agent", "--json", check=True).stdout
    lines = [json.loads(line) for line in printed.splitlines()]
    entries = [json.loads(line["line"]) for line in lines if line["stream"] == "agent"]
    assert [entry["session_id"] for entry in entries if entry["type"] == "session"] == [
        session,
        session,
    ]
    # One worktree in all; removed at the end unless preserved; the work is on the branch.
    listing = git(project.root, "worktree", "list", "--porcelain").split("\n\n")
    assert len(listing) == (2 if preserve else 1)
    assert worktree.is_dir() is preserve
    assert git(project.root, "log", "--format=%s", "feat/agent") == "feat: the feature\ninitial"
