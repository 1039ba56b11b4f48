"""Where a run works, decided once when it is created (SPEC 8 run modes).

``stay`` works in the project as it is. ``branch`` works in the project on a new branch.
``worktree`` works in a git worktree of its own, in ``.stepstone/worktrees/`` of the
project (kept out of the project's ``git status``). What can be checked before the run
exists is checked here, so a bad request creates no run; the workspace itself is made by the
run's ``_system_setup`` steps.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stepstone.errors import InvalidInput
from stepstone.steps.git import worktree_branches
from stepstone.steps.workspace import DIRTY_PROJECT

RUN_MODES = ("stay", "branch", "worktree")
WORKTREES_FOLDER = Path(".stepstone") / "worktrees"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Workspace:
    mode: str
    working_dir: str
    base_branch: str | None = None
    branch_name: str | None = None
    worktree_name: str | None = None


def plan_workspace(
    project_path: str,
    run_id: str,
    *,
    mode: str,
    base_branch: str | None,
    branch_name: str | None,
) -> Workspace:
    """The run's workspace; InvalidInput when the project or the names do not allow it."""
    if mode not in RUN_MODES:
        raise InvalidInput(f"mode must be one of {', '.join(RUN_MODES)}, not {mode!r}")
    if mode == "stay":
        return Workspace("stay", project_path)
    if shutil.which("git") is None:
        raise InvalidInput(f"mode {mode!r} needs git, which is not installed (or not on PATH)")
    if _git(project_path, "rev-parse", "--is-inside-work-tree") != "true":
        raise InvalidInput(f"mode {mode!r} needs a git repository; {project_path} is not one")
    if not branch_name:
        raise InvalidInput(f"mode {mode!r} needs a branch name")
    if _git(project_path, "check-ref-format", "--branch", branch_name) is None:
        raise InvalidInput(f"{branch_name!r} is not a valid branch name")
    base = base_branch or _git(project_path, "symbolic-ref", "--quiet", "--short", "HEAD")
    if not base:
        raise InvalidInput("the project is not on a branch (detached HEAD); give a base branch")
    if _git(project_path, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}") is None:
        raise InvalidInput(f"base branch {base!r} does not exist (or has no commits)")
    if base == branch_name:
        raise InvalidInput("the branch to work on must differ from the base branch")
    checked_out = _checked_out_at(project_path, branch_name)
    if mode == "branch":
        if checked_out is not None and checked_out != Path(project_path).resolve():
            raise InvalidInput(f"branch {branch_name!r} is checked out in {checked_out}")
        if _git(project_path, "status", "--porcelain", "--untracked-files=no"):
            raise InvalidInput(DIRTY_PROJECT)
        return Workspace("branch", project_path, base, branch_name)
    if checked_out is not None:
        raise InvalidInput(f"branch {branch_name!r} is checked out in {checked_out} already")
    name = f"{_UNSAFE.sub('-', branch_name).strip('-.')}-{run_id[:8]}"
    folder = Path(project_path) / WORKTREES_FOLDER / name
    return Workspace("worktree", str(folder), base, branch_name, name)


def _git(cwd: str, *args: str) -> str | None:
    """``git args`` in ``cwd``: its output, or None when it fails."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _checked_out_at(project_path: str, branch: str) -> Path | None:
    """The folder (the project or one of its worktrees) where ``branch`` is checked out."""
    listing = _git(project_path, "worktree", "list", "--porcelain") or ""
    folders = [folder for folder, name in worktree_branches(listing).items() if name == branch]
    return folders[0] if folders else None
