"""Git operations as steps, on real repositories in temporary folders (SPEC 8)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stepstone.errors import InvalidInput
from stepstone.services.runs import get_run, resume_run, start_run
from stepstone.steps import git as git_steps
from stepstone.store.database import Database
from tests.helpers import Project, execute_inline, git, make_repository

FAKES = Path(__file__).parents[1] / "fakes"

GIT_FLOW = """
@workflow(id="git-flow")
async def git_flow(ctx: Context) -> dict:
    branch = await ctx.step.git("branch", op="branch", branch="feature")
    (PROJECT / "feature.txt").write_text("new\\n")
    first = await ctx.step.git("commit", op="commit", message="feat: feature.txt")
    again = await ctx.step.git("commit-again", op="commit", message="nothing new")
    if flag("fail-after-commits"):
        raise RuntimeError("stopping on purpose")
    tree = await ctx.step.git("worktree", op="worktree-add", path="../wt", branch="wt-branch")
    (pathlib.Path(tree.path) / "draft.txt").write_text("uncommitted\\n")
    kept = await ctx.step.git("keep", op="worktree-remove", path="../wt")
    (pathlib.Path(tree.path) / "draft.txt").unlink()
    removed = await ctx.step.git("remove", op="worktree-remove", path="../wt")
    return {
        "branch": branch.branch,
        "first": [first.had_changes, first.commit],
        "again": [again.had_changes, again.commit],
        "kept": [kept.kept, kept.reason],
        "removed": removed.kept,
    }
"""


async def test_git_steps_branch_commit_and_clean_up_worktrees_without_losing_work(
    db: Database, make_project
) -> None:
    project: Project = make_project(GIT_FLOW)
    make_repository(project)
    run_id = start_run(db, project.id, "git-flow")["id"]
    outcome = await execute_inline(db, run_id)
    assert outcome is not None
    assert outcome.status == "completed", outcome

    result = get_run(db, run_id)["result"]
    assert result["branch"] == "feature"
    assert git(project.root, "rev-parse", "--abbrev-ref", "HEAD") == "feature"
    assert result["first"] == [True, git(project.root, "rev-parse", "HEAD")]
    assert git(project.root, "log", "-1", "--format=%s") == "feat: feature.txt"
    assert result["again"] == [False, result["first"][1]], "a clean tree commits nothing"
    kept, reason = result["kept"]
    assert kept is True
    assert "uncommitted changes" in reason
    assert result["removed"] is False
    assert not (project.root.parent / "wt").exists()
    assert "wt-branch" in git(project.root, "branch", "--list", "wt-branch")


async def test_git_steps_run_again_after_a_failure_find_their_branch_and_worktree(
    db: Database, make_project
) -> None:
    project: Project = make_project(GIT_FLOW)
    make_repository(project)
    (project.root / "fail-after-commits").touch()
    run_id = start_run(db, project.id, "git-flow")["id"]
    await execute_inline(db, run_id)
    assert get_run(db, run_id)["status"] == "failed"

    git(project.root, "switch", "--quiet", "main")  # someone looked around meanwhile
    (project.root / "fail-after-commits").unlink()
    resume_run(db, run_id)
    outcome = await execute_inline(db, run_id)
    assert outcome is not None
    assert outcome.status == "completed", outcome
    steps = {s["key"]: s for s in get_run(db, run_id)["steps"]}
    assert all(steps[k]["reused"] for k in ("branch", "commit", "commit-again"))
    assert git(project.root, "log", "--format=%s", "feature").splitlines()[0] == (
        "feat: feature.txt"
    )


BAD_GIT = """
@workflow(id="bad-git")
async def bad_git(ctx: Context) -> None:
    await ctx.step.git("branch", op=ctx.args["op"], branch=ctx.args.get("branch"))
"""


@pytest.mark.parametrize(
    ("repository", "args", "message"),
    [
        (False, {"op": "branch", "branch": "feature"}, "is not a git repository"),
        (True, {"op": "branch", "branch": "bad..name"}, "'bad..name' is not a valid branch name"),
        (True, {"op": "rebase"}, "unknown git op 'rebase'"),
        (True, {"op": "branch"}, "this git op needs branch="),
    ],
)
async def test_a_git_step_that_cannot_be_done_fails_with_a_clear_message(
    db: Database, make_project, repository: bool, args: dict[str, str], message: str
) -> None:
    project: Project = make_project(BAD_GIT)
    if repository:
        make_repository(project)
    run_id = start_run(db, project.id, "bad-git", args=args)["id"]
    await execute_inline(db, run_id)
    run = get_run(db, run_id)
    assert run["status"] == "failed"
    assert message in run["steps"][0]["error_message"]


async def test_an_operation_repeated_after_a_crash_is_not_an_error(make_project) -> None:
    """A crash between a git operation and its checkpoint runs it again: the branch or the
    worktree it made is found, not refused."""
    project: Project = make_project()
    make_repository(project)
    lines: list[str] = []
    repo = git_steps.Git(str(project.root), lambda _stream, line: lines.append(line))
    for _ in range(2):
        made = await git_steps.branch(repo, name="feature")
        assert made.branch == "feature"
        added = await git_steps.worktree_add(repo, path="../wt2", branch_name="wt2")
        assert added.path == str((project.root.parent / "wt2").resolve())
    assert git(project.root, "rev-parse", "--abbrev-ref", "HEAD") == "feature"
    worktrees = git(project.root, "worktree", "list", "--porcelain")
    assert worktrees.count("branch refs/heads/wt2") == 1
    (project.root.parent / "other").mkdir()
    with pytest.raises(InvalidInput, match="is not a worktree of 'wt3'"):
        await git_steps.worktree_add(repo, path="../other", branch_name="wt3")


def open_git(project: Project) -> git_steps.Git:
    return git_steps.Git(str(project.root), lambda _stream, _line: None)


def add_origin(project: Project, tmp_path: Path) -> Path:
    """A bare repository in ``tmp_path``, the project's ``origin``."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(project.root, "remote", "add", "origin", str(origin))
    return origin


async def test_push_publishes_the_branch_with_its_upstream_and_pushing_again_is_harmless(
    make_project, tmp_path: Path
) -> None:
    project: Project = make_project()
    make_repository(project)
    origin = add_origin(project, tmp_path)
    repo = open_git(project)
    await git_steps.branch(repo, name="feature")
    (project.root / "feature.txt").write_text("new\n")
    made = await git_steps.commit(repo, message="feat: feature.txt")

    for _ in range(2):
        pushed = await git_steps.push(repo)
        assert pushed == git_steps.GitResult(
            "push", branch="feature", commit=made.commit, remote="origin"
        )
    assert git(origin, "rev-parse", "refs/heads/feature") == made.commit
    assert git(project.root, "rev-parse", "--abbrev-ref", "feature@{upstream}") == (
        "origin/feature"
    )


async def test_push_of_a_named_branch_reports_that_branchs_commit(
    make_project, tmp_path: Path
) -> None:
    project: Project = make_project()
    make_repository(project)
    origin = add_origin(project, tmp_path)
    repo = open_git(project)
    main_commit = git(project.root, "rev-parse", "HEAD")
    await git_steps.branch(repo, name="feature")
    (project.root / "feature.txt").write_text("new\n")
    await git_steps.commit(repo, message="feat: feature.txt")

    pushed = await git_steps.push(repo, branch="main")
    assert (pushed.branch, pushed.commit) == ("main", main_commit)
    assert git(origin, "rev-parse", "refs/heads/main") == main_commit


async def test_push_without_that_remote_fails_with_a_clear_message(make_project) -> None:
    project: Project = make_project()
    make_repository(project)
    with pytest.raises(InvalidInput, match="no remote 'origin' is configured; add one with git"):
        await git_steps.push(open_git(project))


async def test_push_on_a_detached_head_fails_with_a_clear_message(
    make_project, tmp_path: Path
) -> None:
    project: Project = make_project()
    make_repository(project)
    add_origin(project, tmp_path)
    git(project.root, "switch", "--quiet", "--detach")
    with pytest.raises(InvalidInput, match="HEAD is detached"):
        await git_steps.push(open_git(project))


async def test_a_rejected_push_fails_with_gits_reason_not_its_hints(
    make_project, tmp_path: Path
) -> None:
    project: Project = make_project()
    make_repository(project)
    add_origin(project, tmp_path)
    repo = open_git(project)
    await git_steps.push(repo)
    git(project.root, "commit", "--quiet", "--amend", "-m", "history rewritten")
    with pytest.raises(InvalidInput, match=r"git push failed: ! \[rejected\] +main -> main"):
        await git_steps.push(repo)


@pytest.fixture
def fake_gh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``gh`` is tests/fakes/gh; returns the log of its calls (one JSON list a line)."""
    log = tmp_path / "gh-calls.jsonl"
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_LOG", str(log))
    monkeypatch.delenv("FAKE_GH_STATE", raising=False)
    monkeypatch.delenv("FAKE_GH_FAIL", raising=False)
    return log


def gh_calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


async def test_pr_opens_one_pull_request_and_finds_it_when_run_again(
    make_project, fake_gh: Path
) -> None:
    """A step run again after a crash gets the pull request it opened, not a second one."""
    project: Project = make_project()
    make_repository(project)
    repo = open_git(project)
    await git_steps.branch(repo, name="feature")

    for _ in range(2):
        opened = await git_steps.pr(
            repo, title="Add feature", body="- one\n- two", base="develop", draft=True
        )
        assert opened == git_steps.GitResult(
            "pr", branch="feature", pr_url="https://git.example.test/acme/project/pull/1"
        )
    creates = [call for call in gh_calls(fake_gh) if call[:2] == ["pr", "create"]]
    assert creates == [
        [
            "pr",
            "create",
            "--head=feature",
            "--title=Add feature",
            "--body=- one\n- two",
            "--base=develop",
            "--draft",
        ]
    ]


async def test_pr_opens_a_new_pull_request_when_the_branchs_earlier_one_was_merged(
    make_project, fake_gh: Path
) -> None:
    """A reused branch name: gh pr view finds the old merged pull request, which is not this
    step's."""
    project: Project = make_project()
    make_repository(project)
    merged = {"number": 1, "url": "https://git.example.test/acme/project/pull/1"}
    merged |= {"state": "MERGED", "head": "main", "base": "develop", "title": "old"}
    (fake_gh.parent / "fake-gh-state.json").write_text(json.dumps({"pulls": [merged]}))

    opened = await git_steps.pr(open_git(project), title="New work", base="develop")
    assert opened.pr_url == "https://git.example.test/acme/project/pull/2"


async def test_pr_without_gh_on_path_fails_with_a_clear_message(
    make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project: Project = make_project()
    make_repository(project)
    folders = os.environ["PATH"].split(os.pathsep)
    without_gh = [folder for folder in folders if not (Path(folder) / "gh").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(without_gh))
    with pytest.raises(InvalidInput, match=r"gh \(the GitHub CLI\) is not installed"):
        await git_steps.pr(open_git(project), title="Add feature")


async def test_pr_that_gh_cannot_open_fails_with_ghs_message(
    make_project, fake_gh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project: Project = make_project()
    make_repository(project)
    monkeypatch.setenv("FAKE_GH_FAIL", "HTTP 401: Bad credentials (https://api.github.com)")
    with pytest.raises(InvalidInput, match="gh pr create failed: HTTP 401: Bad credentials"):
        await git_steps.pr(open_git(project), title="Add feature")


async def test_pr_without_a_title_fails_with_a_clear_message(make_project, fake_gh: Path) -> None:
    project: Project = make_project()
    make_repository(project)
    with pytest.raises(InvalidInput, match="a pull request needs a title"):
        await git_steps.pr(open_git(project), title="  ")
    assert gh_calls(fake_gh) == [], "gh was not called"


PR_FLOW = """
@workflow(id="pr-flow")
async def pr_flow(ctx: Context) -> dict:
    (pathlib.Path(ctx.run.working_dir) / "change.txt").write_text("a change\\n")
    await ctx.step.git("commit", op="commit", message="feat: a change")
    await ctx.step.git("push", op="push")
    opened = await ctx.step.git("pr", op="pr", title="A change", body="- made a change")
    return {"pr_url": opened.pr_url}
"""


async def test_a_pr_step_stores_the_pull_requests_url_on_the_run(
    db: Database, make_project, fake_gh: Path, tmp_path: Path
) -> None:
    project: Project = make_project(PR_FLOW)
    make_repository(project)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(project.root, "remote", "add", "origin", str(origin))
    run_id = start_run(db, project.id, "pr-flow", mode="worktree", branch_name="change")["id"]
    outcome = await execute_inline(db, run_id)
    assert outcome is not None
    run = get_run(db, run_id)
    assert run["status"] == "completed", run["error_message"]
    assert run["pr_url"] == "https://git.example.test/acme/project/pull/1"
    assert run["result"] == {"pr_url": run["pr_url"]}
    assert git(origin, "log", "--format=%s", "change") == "feat: a change\ninitial"
    (create,) = [call for call in gh_calls(fake_gh) if call[:2] == ["pr", "create"]]
    assert "--head=change" in create
