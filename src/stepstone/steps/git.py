"""Git operations as steps (SPEC 8): commit, branch, worktree-add, worktree-remove, push, pr.

Each operation runs the real ``git`` (and for ``pr`` the GitHub CLI, ``gh``) in the step's
working directory, its output streamed to the step's logs. Operations are written to be run
again after a crash: a branch that this run already created, a worktree already added for
the same branch, a branch already pushed or a pull request already opened for it is not an
error. Cleanup never destroys work: a worktree with uncommitted changes is kept, and the
result says so.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stepstone.errors import InvalidInput
from stepstone.steps.cli import CliResult, LineSink, run_command

GIT_OPS = ("commit", "branch", "worktree-add", "worktree-remove", "push", "pr")

# gh must never wait for an answer nobody can give, nor print its update notices into logs.
_GH_ENV = {"GH_PROMPT_DISABLED": "1", "GH_NO_UPDATE_NOTIFIER": "1"}
_URL_PREFIXES = ("http://", "https://")


@dataclass(frozen=True)
class GitResult:
    """What a git step did. Fields that do not apply to its operation are None."""

    op: str
    had_changes: bool | None = None
    """``commit``: whether there was anything to commit."""
    commit: str | None = None
    """The commit HEAD points at afterwards (``commit``, ``branch``, ``worktree-add``)."""
    branch: str | None = None
    path: str | None = None
    """``worktree-add`` / ``worktree-remove``: the worktree's folder."""
    kept: bool | None = None
    """``worktree-remove``: the worktree was kept (see ``reason``)."""
    reason: str | None = None
    remote: str | None = None
    """``push``: the remote the branch was pushed to (and now tracks)."""
    pr_url: str | None = None
    """``pr``: the pull request's address, whether opened now or found open already."""


class Git:
    """``git`` in one directory, its output going to a step's logs."""

    def __init__(self, cwd: str, sink: LineSink) -> None:
        if shutil.which("git") is None:
            raise InvalidInput("git is not installed (or not on PATH)")
        self.cwd = cwd
        self._sink = sink

    async def run(self, *args: str, check: bool = True, cwd: str | None = None) -> CliResult:
        result = await run_command(["git", *args], cwd=cwd or self.cwd, env=None, sink=self._sink)
        if check and result.exit_code != 0:
            detail = (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
            raise InvalidInput(f"git {args[0]} failed: {detail}")
        return result

    async def run_program(self, *argv: str, env: Mapping[str, str] | None = None) -> CliResult:
        """Another program (``gh``) in this directory, its output going to the same logs."""
        return await run_command(list(argv), cwd=self.cwd, env=env, sink=self._sink)

    async def output(self, *args: str, cwd: str | None = None) -> str:
        return (await self.run(*args, cwd=cwd)).stdout.strip()

    async def ensure_repository(self) -> None:
        result = await self.run("rev-parse", "--is-inside-work-tree", check=False)
        if result.exit_code != 0 or result.stdout.strip() != "true":
            raise InvalidInput(f"{self.cwd} is not a git repository")

    async def check_branch_name(self, name: str) -> None:
        result = await self.run("check-ref-format", "--branch", name, check=False)
        if result.exit_code != 0 or not name:
            raise InvalidInput(f"{name!r} is not a valid branch name")

    async def branch_exists(self, name: str) -> bool:
        found = await self.run(
            "rev-parse", "--verify", "--quiet", f"refs/heads/{name}", check=False
        )
        return found.exit_code == 0

    async def head(self, cwd: str | None = None) -> str:
        return await self.output("rev-parse", "HEAD", cwd=cwd)

    async def current_branch(self, cwd: str | None = None) -> str:
        return await self.output("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd)

    async def has_changes(self, cwd: str | None = None) -> bool:
        return bool(await self.output("status", "--porcelain", cwd=cwd))

    async def branch_or_current(self, name: str | None) -> str:
        """``name`` when given, else the branch checked out; a detached HEAD is refused."""
        if name is None:
            found = await self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
            if found.exit_code != 0:
                raise InvalidInput(
                    "HEAD is detached (not on a branch); switch to a branch or pass branch="
                )
            name = found.stdout.strip()
        await self.check_branch_name(name)
        return name


async def commit(git: Git, *, message: str, paths: Sequence[str] | None = None) -> GitResult:
    """Stage (``paths``, or everything) and commit; a clean tree is a no-op."""
    if not message.strip():
        raise InvalidInput("a commit needs a message")
    await git.ensure_repository()
    await git.run("add", "--all", "--", *(paths or ["."]))
    staged = await git.run("diff", "--cached", "--quiet", check=False)
    if staged.exit_code == 0:
        return GitResult("commit", had_changes=False, commit=await _head_or_none(git))
    await git.run("commit", "--quiet", "-m", message)
    return GitResult("commit", had_changes=True, commit=await git.head())


async def branch(git: Git, *, name: str, base: str | None = None) -> GitResult:
    """Switch to branch ``name``, creating it from ``base`` (or HEAD) when it does not exist
    yet; a branch that exists already (made by an earlier attempt) is switched to."""
    await git.ensure_repository()
    await git.check_branch_name(name)
    if await git.branch_exists(name):
        if await git.current_branch() != name:
            await git.run("switch", "--quiet", name)
    else:
        await git.run("switch", "--quiet", "-c", name, *([base] if base else []))
    return GitResult("branch", branch=name, commit=await git.head())


async def worktree_add(
    git: Git, *, path: str, branch_name: str, base: str | None = None
) -> GitResult:
    """A worktree at ``path`` on ``branch_name`` (created from ``base`` when new). Adding
    the same worktree again is not an error; a folder that is something else is."""
    await git.ensure_repository()
    await git.check_branch_name(branch_name)
    folder = _folder(git.cwd, path)
    if folder.exists():
        if await _worktree_branch(git, folder) != branch_name:
            raise InvalidInput(f"{folder} exists and is not a worktree of {branch_name!r}")
    elif await git.branch_exists(branch_name):
        await git.run("worktree", "add", "--quiet", str(folder), branch_name)
    else:
        await git.run(
            "worktree", "add", "--quiet", "-b", branch_name, str(folder), *([base] if base else [])
        )
    return GitResult(
        "worktree-add", branch=branch_name, path=str(folder), commit=await git.head(str(folder))
    )


async def worktree_remove(git: Git, *, path: str, force: bool = False) -> GitResult:
    """Remove the worktree at ``path``, unless it holds uncommitted changes (then it is kept
    and the result says why) or ``force``. A worktree already gone is not an error."""
    await git.ensure_repository()
    folder = _folder(git.cwd, path)
    if not folder.exists():
        await git.run("worktree", "prune")
        return GitResult("worktree-remove", path=str(folder), kept=False)
    if not force and await git.has_changes(str(folder)):
        reason = f"{folder} has uncommitted changes; kept"
        return GitResult("worktree-remove", path=str(folder), kept=True, reason=reason)
    await git.run("worktree", "remove", *(["--force"] if force else []), str(folder))
    return GitResult("worktree-remove", path=str(folder), kept=False)


async def push(git: Git, *, remote: str = "origin", branch: str | None = None) -> GitResult:
    """Push ``branch`` (default: the one checked out) to ``remote`` and make it track the
    remote branch. Pushing what the remote has already is a no-op."""
    await git.ensure_repository()
    name = await git.branch_or_current(branch)
    if not await git.branch_exists(name):
        raise InvalidInput(f"there is no branch {name!r} with commits to push")
    if (await git.run("remote", "get-url", "--", remote, check=False)).exit_code != 0:
        raise InvalidInput(f"no remote {remote!r} is configured; add one with git remote add")
    pushed = await git.run("push", "--set-upstream", remote, name, check=False)
    if pushed.exit_code != 0:
        raise InvalidInput(f"git push failed: {_push_error(pushed)}")
    tip = await git.output("rev-parse", f"refs/heads/{name}")
    return GitResult("push", branch=name, commit=tip, remote=remote)


async def pr(
    git: Git,
    *,
    title: str,
    body: str = "",
    base: str | None = None,
    branch: str | None = None,
    draft: bool = False,
) -> GitResult:
    """A pull request from ``branch`` (default: the one checked out) into ``base`` (default:
    the repository's default branch), opened with ``gh``. A pull request already open for
    the branch (opened by an earlier attempt) is returned instead of a second one."""
    if not title.strip():
        raise InvalidInput("a pull request needs a title")
    gh = shutil.which("gh")
    if gh is None:
        raise InvalidInput(
            "gh (the GitHub CLI) is not installed (or not on PATH); it opens pull requests"
        )
    await git.ensure_repository()
    name = await git.branch_or_current(branch)
    # gh pr view <branch> falls back to a closed or merged pull request of that branch (a
    # reused branch name); only an open one is this step's.
    viewed = await git.run_program(gh, "pr", "view", name, "--json", "url,state", env=_GH_ENV)
    found = _open_pr_url(viewed.stdout) if viewed.exit_code == 0 else None
    if found is not None:
        return GitResult("pr", branch=name, pr_url=found)
    # --flag=value: a body or title that starts with "-" (a Markdown list) stays a value.
    options = [f"--head={name}", f"--title={title}", f"--body={body}"]
    options += [f"--base={base}"] if base else []
    options += ["--draft"] if draft else []
    created = await git.run_program(gh, "pr", "create", *options, env=_GH_ENV)
    urls = [line for line in created.stdout.splitlines() if line.startswith(_URL_PREFIXES)]
    if created.exit_code != 0 or not urls:
        raise InvalidInput(f"gh pr create failed: {_tail(created)}")
    return GitResult("pr", branch=name, pr_url=urls[-1].strip())


def _open_pr_url(viewed: str) -> str | None:
    """The address in ``gh pr view --json url,state`` output, if that pull request is open."""
    try:
        found = json.loads(viewed)
    except ValueError:
        return None
    if not isinstance(found, dict) or found.get("state") != "OPEN":
        return None
    url = found.get("url")
    return url if isinstance(url, str) and url.startswith(_URL_PREFIXES) else None


def _push_error(pushed: CliResult) -> str:
    """What went wrong, from ``git push``'s stderr: its ``!`` (rejected ref), ``error:`` and
    ``fatal:`` lines, without the hints that follow them."""
    lines = [" ".join(line.split()) for line in pushed.stderr.splitlines() if line.strip()]
    wanted = [line for line in lines if line.startswith(("!", "error:", "fatal:", "remote: error"))]
    return "; ".join(wanted) or (lines[-1] if lines else f"exit code {pushed.exit_code}")


def _tail(result: CliResult, line_count: int = 3) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    return "; ".join(lines[-line_count:]) or f"exit code {result.exit_code}"


def _folder(*parts: str) -> Path:
    """A folder's real path (quick file-system calls; no need to leave the loop for them)."""
    return Path(*parts).resolve()


async def _head_or_none(git: Git) -> str | None:
    found = await git.run("rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return found.stdout.strip() or None


async def _worktree_branch(git: Git, folder: Path) -> str | None:
    """The branch checked out in ``folder`` when it is a worktree of this repository."""
    return worktree_branches(await git.output("worktree", "list", "--porcelain")).get(folder)


def worktree_branches(porcelain: str) -> dict[Path, str | None]:
    """The folders of a repository's worktrees (the main one included) and the branch each
    has checked out (None: detached), from ``git worktree list --porcelain``."""
    branches: dict[Path, str | None] = {}
    current: Path | None = None
    for line in porcelain.splitlines():
        if line.startswith("worktree "):
            current = _folder(line.removeprefix("worktree "))
            branches[current] = None
        elif line.startswith("branch refs/heads/") and current is not None:
            branches[current] = line.removeprefix("branch refs/heads/")
    return branches
