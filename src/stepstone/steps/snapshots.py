"""Snapshots of a working tree, to show what a step changed in it.

A snapshot is the git tree of the working copy as it is (tracked, modified and untracked
files, minus ignored ones), written with a temporary index so that neither the repository's
index nor its branches change. The diff between the snapshot before a step's first attempt
and the one after it is what the step did to the files, whoever committed what meanwhile.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from stepstone.steps.cli import run_command

MAX_DIFF_BYTES = 2 * 1024 * 1024


def _ignore(_stream: str, _line: str) -> None:
    """Snapshots are Stepstone's own bookkeeping: nothing of theirs goes to the step's logs."""


async def _git(cwd: str, *args: str, env: dict[str, str] | None = None) -> str | None:
    """``git args`` in ``cwd``: its output, or None when it fails."""
    result = await run_command(["git", *args], cwd=cwd, env=env, sink=_ignore)
    return result.stdout.strip() if result.exit_code == 0 else None


async def snapshot(cwd: str) -> str | None:
    """The tree id of the working copy at ``cwd``; None when it is not in a git work tree
    (or there is no git)."""
    if shutil.which("git") is None or not _is_folder(cwd):
        return None
    index = await _git(cwd, "rev-parse", "--path-format=absolute", "--git-path", "index")
    top = await _git(cwd, "rev-parse", "--show-toplevel")
    if index is None or top is None:
        return None
    with tempfile.TemporaryDirectory(prefix="stepstone-snapshot-") as folder:
        scratch = _scratch_index(index, folder)
        env = {"GIT_INDEX_FILE": scratch}
        if await _git(top, "add", "--all", env=env) is None:
            return None
        return await _git(top, "write-tree", env=env)


def _is_folder(path: str) -> bool:
    return os.path.isdir(path)


def _scratch_index(index: str, folder: str) -> str:
    """A copy of the repository's index in ``folder`` (its file stats spare rehashing every
    file), or a path where git starts a new one."""
    scratch = os.path.join(folder, "index")
    if os.path.exists(index):
        shutil.copyfile(index, scratch)
    return scratch


async def diff(cwd: str, before: str, after: str) -> str:
    """The patch from tree ``before`` to tree ``after`` (cut at ``MAX_DIFF_BYTES``)."""
    text = await _git(cwd, "diff", "--no-color", "--no-ext-diff", before, after)
    text = f"{text}\n" if text else ""
    if len(text) > MAX_DIFF_BYTES:
        text = text[:MAX_DIFF_BYTES] + f"\n… (the diff is longer than {MAX_DIFF_BYTES} bytes)\n"
    return text
