"""Run modes stay, branch and worktree on real git repositories (SPEC 8): the workspace is
made by ``_system_setup``, cleaned by ``_system_finalize``, and cleaning never loses work."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stepstone.errors import InvalidInput
from stepstone.services.reruns import fork_run, retry_run
from stepstone.services.runs import cancel_run, get_run, list_runs, resume_run, start_run
from stepstone.store.database import Database
from tests.helpers import Project, execute_inline, git, make_repository, wait_until

MODES_FLOW = """
@workflow(id="modes")
async def modes(ctx: Context) -> dict:
    workdir = pathlib.Path(ctx.run.working_dir)
    branch = await ctx.step.run("where", lambda: __import__("subprocess").run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=workdir,
        capture_output=True, text=True).stdout.strip())
    if ctx.args.get("commit"):
        (workdir / "work.txt").write_text("done\\n")
        await ctx.step.git("commit", op="commit", message="work")
    if ctx.args.get("leave_changes"):
        (workdir / "draft.txt").write_text("not committed\\n")
    if flag("fail-once"):
        (PROJECT / "fail-once").unlink()
        raise RuntimeError("failing once on purpose")
    return {"branch": branch, "workdir": str(workdir)}
"""


def kept_notes(db: Database, run_id: str) -> list[str]:
    return [
        str(event["message"])
        for event in get_run(db, run_id)["events"]
        if event["type"] == "workspace_kept"
    ]


def step_keys(db: Database, run_id: str) -> list[str]:
    return [step["key"] for step in get_run(db, run_id)["steps"]]


@pytest.fixture
def repo(make_project) -> Project:
    project: Project = make_project(MODES_FLOW)
    make_repository(project)
    return project


async def finish(db: Database, run_id: str) -> dict:
    outcome = await execute_inline(db, run_id)
    assert outcome is not None
    run = get_run(db, run_id)
    assert run["status"] == "completed", run["error_message"]
    return run


async def test_stay_mode_works_in_the_project_and_never_touches_branches(
    db: Database, repo: Project
) -> None:
    run = await finish(db, start_run(db, repo.id, "modes")["id"])
    assert run["result"] == {"branch": "main", "workdir": str(repo.root)}
    assert step_keys(db, run["id"]) == ["where"]  # no system steps
    assert git(repo.root, "branch", "--format=%(refname:short)") == "main"


async def test_worktree_mode_works_in_a_worktree_then_removes_it_and_keeps_the_branchs_commits(
    db: Database, repo: Project
) -> None:
    started = start_run(
        db, repo.id, "modes", args={"commit": True}, mode="worktree", branch_name="feat/x"
    )
    worktree = Path(started["working_dir"])
    assert worktree.parent == repo.root / ".stepstone" / "worktrees"
    assert started["base_branch"] == "main"  # the project's branch when none is given
    run = await finish(db, started["id"])

    assert run["result"] == {"branch": "feat/x", "workdir": str(worktree)}
    assert step_keys(db, run["id"]) == [
        "_system_setup-workspace",
        "where",
        "commit",
        "_system_finalize-workspace",
    ]
    assert not worktree.exists()
    assert git(repo.root, "log", "--format=%s", "feat/x") == "work\ninitial"
    assert kept_notes(db, run["id"]) == [
        "kept branch feat/x: it holds 1 commit(s) neither pushed nor merged"
    ]
    assert git(repo.root, "status", "--porcelain") == ""  # the worktrees folder is excluded


async def test_a_worktree_with_uncommitted_changes_is_kept_and_the_run_says_so(
    db: Database, repo: Project
) -> None:
    started = start_run(
        db, repo.id, "modes", args={"leave_changes": True}, mode="worktree", branch_name="wip"
    )
    run = await finish(db, started["id"])
    worktree = Path(run["working_dir"])
    assert (worktree / "draft.txt").read_text() == "not committed\n"
    assert kept_notes(db, run["id"]) == [
        f"kept the worktree {worktree}: it has uncommitted changes"
    ]
    assert git(repo.root, "branch", "--list", "wip") != ""  # its branch too


async def test_preserve_keeps_the_worktree_and_a_branch_with_nothing_of_its_own_is_deleted(
    db: Database, repo: Project
) -> None:
    preserved = start_run(
        db, repo.id, "modes", mode="worktree", branch_name="keep-me", preserve=True
    )
    run = await finish(db, preserved["id"])
    assert Path(run["working_dir"]).is_dir()
    assert run["preserve"] is True
    assert kept_notes(db, run["id"]) == [
        f"kept the worktree {run['working_dir']}: the run asked to preserve it"
    ]

    empty = await finish(
        db, start_run(db, repo.id, "modes", mode="worktree", branch_name="empty")["id"]
    )
    assert not Path(empty["working_dir"]).exists()
    assert git(repo.root, "branch", "--list", "empty") == ""
    assert kept_notes(db, empty["id"]) == []


async def test_branch_mode_returns_to_the_base_branch_unless_preserve(
    db: Database, repo: Project
) -> None:
    run = await finish(
        db,
        start_run(db, repo.id, "modes", args={"commit": True}, mode="branch", branch_name="b1")[
            "id"
        ],
    )
    assert run["result"]["branch"] == "b1"
    assert git(repo.root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo.root, "log", "--format=%s", "b1") == "work\ninitial"

    kept = await finish(
        db, start_run(db, repo.id, "modes", mode="branch", branch_name="b2", preserve=True)["id"]
    )
    assert kept["result"]["branch"] == "b2"
    assert git(repo.root, "rev-parse", "--abbrev-ref", "HEAD") == "b2"


async def test_a_failed_worktree_run_is_cleaned_and_its_resume_sets_the_same_worktree_up_again(
    db: Database, repo: Project
) -> None:
    (repo.root / "fail-once").write_text("")
    started = start_run(
        db, repo.id, "modes", args={"commit": True}, mode="worktree", branch_name="again"
    )
    outcome = await execute_inline(db, started["id"])
    assert outcome is not None
    assert outcome.status == "failed"
    worktree = Path(started["working_dir"])
    assert not worktree.exists()  # clean: removed, the commit is on the branch

    resume_run(db, started["id"])
    run = await finish(db, started["id"])
    assert run["working_dir"] == str(worktree)
    assert run["result"] == {"branch": "again", "workdir": str(worktree)}
    setup = next(s for s in run["steps"] if s["key"] == "_system_setup-workspace")
    assert setup["attempt"] == 2  # made again: the first execution's cleanup took it down
    assert git(repo.root, "log", "--format=%s", "again") == "work\ninitial"  # committed once


async def test_a_worktree_run_retried_from_a_step_works_in_its_worktree_made_again(
    db: Database, repo: Project
) -> None:
    started = start_run(db, repo.id, "modes", mode="worktree", branch_name="redo")
    worktree = Path(started["working_dir"])
    await finish(db, started["id"])
    assert not worktree.exists()  # taken down when the run completed

    retry_run(db, started["id"], "where")
    run = await finish(db, started["id"])
    assert run["result"] == {"branch": "redo", "workdir": str(worktree)}
    attempts = {step["key"]: step["attempt"] for step in run["steps"]}
    assert attempts == {
        "_system_setup-workspace": 2,
        "where": 2,
        "_system_finalize-workspace": 2,
    }
    assert not worktree.exists()


async def test_a_fork_of_a_worktree_run_makes_its_own_worktree_on_the_same_branch(
    db: Database, repo: Project
) -> None:
    origin = start_run(
        db, repo.id, "modes", args={"commit": True}, mode="worktree", branch_name="twice"
    )
    await finish(db, origin["id"])

    fork = fork_run(db, origin["id"], "commit")
    assert [step["key"] for step in fork["steps"]] == ["where"], "no workspace step is copied"
    assert fork["working_dir"] != origin["working_dir"]
    run = await finish(db, fork["id"])
    assert run["result"] == {"branch": "twice", "workdir": fork["working_dir"]}
    # The fork works on the origin's branch, so the same work finds itself committed.
    assert git(repo.root, "log", "--format=%s", "twice") == "work\ninitial"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "worktree", "branch_name": "bad..name"}, "not a valid branch name"),
        ({"mode": "branch"}, "needs a branch name"),
        ({"mode": "worktree", "branch_name": "x", "base_branch": "nope"}, "does not exist"),
        ({"mode": "worktree", "branch_name": "main"}, "must differ"),
        ({"mode": "elsewhere"}, "mode must be one of"),
    ],
)
def test_bad_workspace_requests_create_no_run(
    db: Database, repo: Project, options: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        start_run(db, repo.id, "modes", **options)
    assert list_runs(db)[0] == []


def test_git_modes_need_a_repository_and_branch_mode_a_clean_project(
    db: Database, make_project, repo: Project
) -> None:
    plain: Project = make_project(MODES_FLOW)
    with pytest.raises(InvalidInput, match="needs a git repository"):
        start_run(db, plain.id, "modes", mode="worktree", branch_name="x")
    (repo.root / ".gitignore").write_text("changed\n")
    with pytest.raises(InvalidInput, match="uncommitted changes"):
        start_run(db, repo.id, "modes", mode="branch", branch_name="x")
    assert list_runs(db)[0] == []


CANCELLED_FLOW = """
@workflow(id="cancelled")
async def cancelled(ctx: Context) -> None:
    touch("started")
    await ctx.step.cli("wait", "sleep 60")
"""


async def test_a_cancelled_worktree_run_is_cleaned_up(db: Database, make_project) -> None:
    project: Project = make_project(CANCELLED_FLOW)
    make_repository(project)
    run_id = start_run(db, project.id, "cancelled", mode="worktree", branch_name="gone")["id"]
    execution = asyncio.create_task(execute_inline(db, run_id, poll_seconds=0.05))
    await wait_until(lambda: (project.root / "started").exists(), 20, "the run to start")
    await wait_until(lambda: get_run(db, run_id)["steps"][-1]["key"] == "wait", 20, "the step")
    await asyncio.to_thread(cancel_run, db, run_id)
    outcome = await asyncio.wait_for(execution, 30)
    assert outcome is not None
    assert outcome.status == "cancelled"
    run = get_run(db, run_id)
    assert run["status"] == "cancelled"
    assert not Path(run["working_dir"]).exists()
    assert git(project.root, "branch", "--list", "gone") == ""
    finalize = next(s for s in run["steps"] if s["key"] == "_system_finalize-workspace")
    assert finalize["status"] == "completed"
