"""Agent steps with the fake claude, codex and gemini CLIs (which speak the real stream
formats): transcripts, sessions continued on re-execution, JSON answers, usage, budgets and
the step's diff (SPEC 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepstone.services.artifacts import artifact_file, list_artifacts
from stepstone.services.runs import get_run, resume_run, run_logs, start_run
from stepstone.store.database import Database
from tests.helpers import Project, execute_inline, fake_agent_calls, make_repository

AGENTS = ["claude", "codex", "gemini"]

AGENT_FLOW = """
@workflow(id="agent")
async def agent_flow(ctx: Context) -> dict:
    answer = await ctx.step.agent(
        "implement",
        prompt=ctx.args["prompt"],
        agent=ctx.args["agent"],
        json=ctx.args.get("json", False),
        resume=ctx.run.planning_session_id,
        timeout=ctx.args.get("timeout"),
    )
    return {"session": answer.session_id, "text": answer.text, "data": answer.data,
            "usage": answer.usage, "success": answer.success}
"""

TWO_AGENTS_FLOW = """
@workflow(id="two-agents")
async def two_agents(ctx: Context) -> list:
    first = await ctx.step.agent("first", prompt="@tokens 100 50\\n@answer one", agent="claude")
    second = await ctx.step.agent("second", prompt="@tokens 100 50\\n@answer two", agent="codex")
    return [first.text, second.text]
"""


def transcript(db: Database, run_id: str, step: str) -> list[dict[str, Any]]:
    return [
        json.loads(line["line"])
        for line in run_logs(db, run_id, step=step)
        if line["stream"] == "agent"
    ]


async def execute(db: Database, run_id: str, home: Path) -> dict[str, Any]:
    await execute_inline(db, run_id, artifacts_dir=home / "artifacts")
    return get_run(db, run_id)


@pytest.fixture
def repo(make_project) -> Project:
    project: Project = make_project(AGENT_FLOW)
    make_repository(project)
    return project


@pytest.mark.parametrize("agent", AGENTS)
async def test_an_agent_step_streams_its_transcript_and_returns_its_json_answer(
    db: Database, home: Path, repo: Project, agent: str
) -> None:
    prompt = '@edit notes/hello.txt hi there\n@tokens 1200 300\n@answer {"approved": true}'
    run = await execute(
        db,
        start_run(db, repo.id, "agent", args={"prompt": prompt, "agent": agent, "json": True})[
            "id"
        ],
        home,
    )
    assert run["status"] == "completed", run["error_message"]
    result = run["result"]
    assert result["data"] == {"approved": True}
    assert result["success"] is True
    (call,) = fake_agent_calls(home)
    assert call["agent"] == agent
    # The session the agent used is the one the journal holds.
    step = run["steps"][0]
    assert step["kind"] == "agent"
    assert step["session_id"] == call["session_id"] == result["session"]
    assert step["usage"]["input_tokens"] == 1200
    assert step["usage"]["output_tokens"] == 300
    assert run["usage"]["input_tokens"] == 1200
    assert (repo.root / "notes" / "hello.txt").read_text() == "hi there\n"

    entries = transcript(db, run["id"], "implement")
    kinds = [entry["type"] for entry in entries]
    assert kinds[0] == "session"
    assert {"tool_call", "tool_result", "message"} <= set(kinds)
    assert kinds[-2:] == ["result", "usage"]
    assert entries[-2] == {"type": "result", "success": True, "text": '{"approved": true}'}

    # What the step changed in the working tree, as the step's diff artifact.
    (diff,) = [a for a in list_artifacts(db, run["id"]) if a["name"] == "implement.diff"]
    assert diff["step_key"] == "implement"
    stored = artifact_file(db, run["id"], diff["id"], artifacts_dir=home / "artifacts")
    assert stored.content_type == "text/x-diff"
    patch = stored.path.read_text()
    assert "+++ b/notes/hello.txt" in patch.splitlines()
    assert "+hi there" in patch.splitlines()


@pytest.mark.parametrize("agent", AGENTS)
async def test_a_re_executed_agent_step_continues_its_session(
    db: Database, home: Path, repo: Project, agent: str
) -> None:
    """The first attempt is cut short (its step times out mid-work); on resume the step
    continues the recorded session instead of starting a new one."""
    prompt = "@work 30\n@edit done.txt finished\n@answer all done"
    run_id = start_run(db, repo.id, "agent", args={"prompt": prompt, "agent": agent, "timeout": 2})[
        "id"
    ]
    failed = await execute(db, run_id, home)
    assert failed["status"] == "failed"
    assert "timed out" in failed["error_message"]
    session = failed["steps"][0]["session_id"]
    assert session is not None  # recorded while the agent worked

    resume_run(db, run_id)
    run = await execute(db, run_id, home)
    assert run["status"] == "completed", run["error_message"]
    first, second = fake_agent_calls(home)
    assert [first["resumed"], second["resumed"]] == [False, True]
    assert first["session_id"] == second["session_id"] == session
    assert run["steps"][0]["session_id"] == session
    assert run["result"]["text"].endswith("all done")
    assert (repo.root / "done.txt").read_text() == "finished\n"
    # Both attempts' transcripts are kept, the second saying what it continued.
    entries = transcript(db, run_id, "implement")
    sessions = [entry for entry in entries if entry["type"] == "session"]
    assert len(sessions) == 2
    continuing = f"continuing session {session} of the interrupted attempt"
    assert {"type": "notice", "text": continuing} in entries


async def test_a_final_answer_without_json_fails_the_step_clearly(
    db: Database, home: Path, repo: Project
) -> None:
    args = {"prompt": "@answer looks fine to me", "agent": "claude", "json": True}
    run = await execute(db, start_run(db, repo.id, "agent", args=args)["id"], home)
    assert run["status"] == "failed"
    assert "final answer holds no JSON (json=True): looks fine to me" in run["error_message"]


async def test_an_agent_that_fails_fails_its_step_with_the_agents_reason_and_counts_its_tokens(
    db: Database, home: Path, repo: Project
) -> None:
    args = {"prompt": "@tokens 500 20\n@fail the tests do not pass", "agent": "claude"}
    run = await execute(db, start_run(db, repo.id, "agent", args=args)["id"], home)
    assert run["status"] == "failed"
    assert "claude did not finish: " in run["error_message"]
    assert "the tests do not pass" in run["error_message"]
    assert run["usage"]["input_tokens"] == 500


async def test_a_planning_session_is_continued_by_the_step_that_passes_it(
    db: Database, home: Path, repo: Project
) -> None:
    planning = start_run(db, repo.id, "agent", args={"prompt": "@answer a plan", "agent": "claude"})
    planned = await execute(db, planning["id"], home)
    plan_session = planned["steps"][0]["session_id"]

    implementing = start_run(
        db,
        repo.id,
        "agent",
        args={"prompt": "@answer implemented", "agent": "claude"},
        planning_session_id=plan_session,
    )
    run = await execute(db, implementing["id"], home)
    assert run["status"] == "completed", run["error_message"]
    assert fake_agent_calls(home)[-1]["session_id"] == plan_session
    assert "--resume" in fake_agent_calls(home)[-1]["argv"]
    assert run["steps"][0]["session_id"] == plan_session


async def test_a_session_that_cannot_be_continued_starts_over_with_the_original_prompt(
    db: Database, home: Path, repo: Project
) -> None:
    args = {"prompt": "@answer fresh start", "agent": "gemini"}
    run_id = start_run(
        db, repo.id, "agent", args=args, planning_session_id="5d9b1c1e-0000-4000-8000-000000000000"
    )["id"]
    run = await execute(db, run_id, home)
    assert run["status"] == "completed", run["error_message"]
    failed_resume, fresh = fake_agent_calls(home)
    assert failed_resume["resumed"] is True
    assert fresh["resumed"] is False
    assert run["steps"][0]["session_id"] == fresh["session_id"]
    notices = [e["text"] for e in transcript(db, run_id, "implement") if e["type"] == "notice"]
    assert notices == [
        "session 5d9b1c1e-0000-4000-8000-000000000000 could not be continued; starting a new one"
    ]


async def test_the_budget_stops_the_next_agent_step_and_a_raised_budget_goes_on(
    db: Database, home: Path, make_project
) -> None:
    project: Project = make_project(TWO_AGENTS_FLOW)
    run_id = start_run(db, project.id, "two-agents", budget_tokens=100)["id"]
    stopped = await execute(db, run_id, home)
    assert stopped["status"] == "failed"
    assert stopped["error_message"] == (
        "step 'second' failed: the run used 150 tokens of its budget of 100; raise the budget "
        "and resume the run to go on"
    )
    assert len(fake_agent_calls(home)) == 1  # the second agent never started

    resumed = resume_run(db, run_id, budget_tokens=10_000)
    assert resumed["budget_tokens"] == 10_000
    run = await execute(db, run_id, home)
    assert run["status"] == "completed", run["error_message"]
    assert run["result"] == ["one", "two"]
    assert len(fake_agent_calls(home)) == 2  # the first step was not run again
    assert run["usage"]["input_tokens"] == 200


async def test_an_unknown_agent_or_a_missing_executable_fails_clearly(
    db: Database, home: Path, repo: Project
) -> None:
    unknown = {"prompt": "hi", "agent": "copilot"}
    run = await execute(db, start_run(db, repo.id, "agent", args=unknown)["id"], home)
    assert run["error_message"] == "unknown agent 'copilot'; use one of claude, codex, gemini"
    assert run["steps"] == []

    run_id = start_run(db, repo.id, "agent", args={"prompt": "hi", "agent": "claude"})["id"]
    await execute_inline(db, run_id, agent_commands={"claude": ["/nonexistent/claude"]})
    run = get_run(db, run_id)
    assert run["error_message"] == (
        "step 'implement' failed: claude is not installed (or not on PATH): "
        "/nonexistent/claude; set STEPSTONE_CLAUDE_COMMAND to its command"
    )


async def test_the_steps_diff_and_its_transcript_hold_no_secret(
    db: Database, home: Path, repo: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-value-for-the-diff"
    monkeypatch.setenv("DEPLOY_API_KEY", secret)
    args = {"prompt": f"@edit config.txt key={secret}\n@answer wrote {secret}", "agent": "claude"}
    run = await execute(db, start_run(db, repo.id, "agent", args=args)["id"], home)
    assert run["status"] == "completed", run["error_message"]
    assert (repo.root / "config.txt").read_text() == f"key={secret}\n"  # the agent had it
    (diff,) = list_artifacts(db, run["id"])
    patch = artifact_file(db, run["id"], diff["id"], artifacts_dir=home / "artifacts").path
    assert "+key=[redacted]" in patch.read_text()
    assert secret not in patch.read_text()
    assert run["result"]["text"] == "wrote [redacted]"
    assert secret not in json.dumps(transcript(db, run["id"], "implement"))
