"""A run's workspace in ``branch`` and ``worktree`` mode (SPEC 8): made by the
``_system_setup`` step before the workflow runs, cleaned by the ``_system_finalize`` step
when the run ends (completed, failed or cancelled) unless the run says ``preserve``.

Both run again safely: setting up finds the branch or the worktree this very run made, and
cleaning up finds them gone. Cleaning never destroys work: a worktree with uncommitted
changes is kept, a branch switch that would carry uncommitted changes is not made, and a
branch is deleted only when the run created it and it holds no commit of its own; what is
kept is reported, with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepstone.errors import InvalidInput
from stepstone.steps import git as git_steps
from stepstone.steps.cli import LineSink

SETUP_PHASE = "_system_setup"
FINALIZE_PHASE = "_system_finalize"
WORKSPACE_STEP = "workspace"
EXCLUDED_FOLDER = "/.stepstone/worktrees/"
DIRTY_PROJECT = (
    "the project has uncommitted changes, and branch mode switches its branch; commit or "
    "stash them, or use worktree mode"
)


@dataclass(frozen=True)
class WorkspaceSpec:
    mode: str
    project_path: str
    working_dir: str
    base_branch: str
    branch_name: str
    preserve: bool


async def set_up(
    spec: WorkspaceSpec, sink: LineSink, *, made_before: bool = False
) -> dict[str, Any]:
    """Switch the project to the run's branch, or add the run's worktree; ``created`` says
    whether the branch is new (made by this run: now, or by an earlier setup of the run,
    ``made_before``)."""
    git = git_steps.Git(spec.project_path, sink)
    await git.ensure_repository()
    created = made_before or not await git.branch_exists(spec.branch_name)
    if spec.mode == "branch":
        on_branch = await git.current_branch() == spec.branch_name
        if not on_branch and await _has_tracked_changes(git):
            raise InvalidInput(DIRTY_PROJECT)
        await git_steps.branch(git, name=spec.branch_name, base=spec.base_branch)
    else:
        await _exclude_worktrees(git)
        await git_steps.worktree_add(
            git, path=spec.working_dir, branch_name=spec.branch_name, base=spec.base_branch
        )
    return {"branch": spec.branch_name, "created": created, "working_dir": spec.working_dir}


async def clean_up(spec: WorkspaceSpec, created: bool, sink: LineSink) -> dict[str, Any]:
    """Undo :func:`set_up` where no work is lost; ``kept`` lists what stays, and why."""
    if spec.preserve:
        what = (
            f"the worktree {spec.working_dir}"
            if spec.mode == "worktree"
            else f"branch {spec.branch_name} checked out in the project"
        )
        return {"kept": [f"kept {what}: the run asked to preserve it"]}
    git = git_steps.Git(spec.project_path, sink)
    kept: list[str] = []
    if spec.mode == "branch":
        released = await _switch_back(git, spec, kept)
    else:
        removed = await git_steps.worktree_remove(git, path=spec.working_dir)
        released = not removed.kept
        if removed.kept:
            kept.append(f"kept the worktree {spec.working_dir}: it has uncommitted changes")
    if await git.branch_exists(spec.branch_name):
        await _settle_branch(git, spec, created=created, released=released, kept=kept)
    return {"kept": kept}


async def _switch_back(git: git_steps.Git, spec: WorkspaceSpec, kept: list[str]) -> bool:
    """Back to the base branch, unless that would carry uncommitted changes along."""
    if await git.current_branch() != spec.branch_name:
        return True
    if await git.has_changes():
        kept.append(
            f"stayed on branch {spec.branch_name}: the project has uncommitted changes; "
            f"commit them, then switch back to {spec.base_branch}"
        )
        return False
    await git.run("switch", "--quiet", spec.base_branch)
    return True


async def _settle_branch(
    git: git_steps.Git, spec: WorkspaceSpec, *, created: bool, released: bool, kept: list[str]
) -> None:
    """Delete the run's own branch when it holds nothing; say what else it holds."""
    name, base = spec.branch_name, spec.base_branch
    own = int(await git.output("rev-list", "--count", name, "--not", base))
    if own == 0:
        if created and released:
            await git.run("branch", "--quiet", "-D", name)
        return
    unpublished = int(await git.output("rev-list", "--count", name, "--not", base, "--remotes"))
    where = "neither pushed nor merged" if unpublished else f"not merged into {base}"
    kept.append(f"kept branch {name}: it holds {own} commit(s) {where}")


async def _has_tracked_changes(git: git_steps.Git) -> bool:
    return bool(await git.output("status", "--porcelain", "--untracked-files=no"))


async def _exclude_worktrees(git: git_steps.Git) -> None:
    """Keep the run worktrees folder out of the project's ``git status``."""
    path = await git.output("rev-parse", "--path-format=absolute", "--git-path", "info/exclude")
    _add_line(Path(path), EXCLUDED_FOLDER)


def _add_line(path: Path, line: str) -> None:
    """Add ``line`` to the text file at ``path`` unless it holds it (a quick file-system
    call: no need to leave the event loop for it)."""
    lines = path.read_text().splitlines() if path.exists() else []
    if line not in lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*lines, line]) + "\n")
