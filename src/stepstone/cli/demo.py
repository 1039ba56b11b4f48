"""``stepstone demo``: the sample project (a git repository of its own in the home), the
agents it can run, and a slow run to kill and resume."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from stepstone.cli.inline import Interrupts, execute_here
from stepstone.errors import NotFound, StepstoneError
from stepstone.services import projects as project_services
from stepstone.services import runs as run_services
from stepstone.settings import Settings
from stepstone.store.database import Database
from stepstone.store.private_files import private_folder
from stepstone.worker.worker import Worker

SAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "sample"
"""The sample as the package ships it; the demo works on a copy (see ensure_sample_project)."""
SAMPLE_NAME = "stepstone-sample"
SAMPLE_FOLDER = "sample"
DEMO_WORKFLOW = "slow-release"
DEMO_AGENTS = ("claude", "codex", "gemini")
SAMPLE_GIT_CONFIG = {"user.name": "Stepstone demo", "user.email": "demo@stepstone.local"}
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


@dataclass(frozen=True)
class SampleProject:
    id: str
    path: Path
    notes: tuple[str, ...] = ()
    """What the start-up text should tell the user about it (a missing git, a move)."""


def ensure_sample_project(db: Database, home: Path) -> SampleProject:
    """The sample project at ``home/sample``, registered as ``stepstone-sample``. On first use
    it is copied from the package and made a git repository of its own, so runs in branch and
    worktree mode branch and commit there, not in whatever repository holds the package;
    later uses find it as it is."""
    folder = private_folder(home) / SAMPLE_FOLDER
    notes = _ensure_sample_folder(folder)
    try:
        registered = project_services.get_project(db, SAMPLE_NAME)
    except NotFound:
        registered = None
    if registered is not None and Path(registered["path"]) == folder.resolve():
        return SampleProject(registered["id"], folder, tuple(notes))
    if registered is not None:
        # Registered before the demo made its own copy (at the package's folder, say): that
        # registration keeps its runs under another name.
        old_name = f"{SAMPLE_NAME}-old-{registered['id'][:8]}"
        project_services.update_project(db, registered["id"], name=old_name)
        notes.append(
            f"the sample project registered at {registered['path']} is now named {old_name}; "
            f"{SAMPLE_NAME} is the copy at {folder}"
        )
    project = project_services.add_project(db, folder, name=SAMPLE_NAME)
    return SampleProject(project["id"], folder, tuple(notes))


def _ensure_sample_folder(folder: Path) -> list[str]:
    """Make ``folder`` a copy of the package's sample, a git repository with one commit when
    git is installed; a folder that exists is kept. Returns notes for the user."""
    has_git = shutil.which("git") is not None
    if not folder.exists():
        # Copied and committed beside its place, then moved there: a start that dies half way
        # leaves no half sample for the next one to take as done.
        staging = folder.with_name(f".{folder.name}-{os.getpid()}.tmp")
        try:
            _copy_sample(staging)
            if has_git:
                _make_repository(staging)
            staging.rename(folder)
        except OSError:
            if not folder.is_dir():  # not merely a demo started at the same moment
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    elif has_git and not (folder / ".git").exists():
        _make_repository(folder)  # copied by an earlier start that had no git
    if not has_git:
        return [f"git is not installed: {folder} is a plain folder, so its runs use mode stay"]
    return []


def _copy_sample(target: Path) -> None:
    # copyfile, not copy2: the copy is the user's to edit even if the package is read-only.
    shutil.copytree(SAMPLE_PROJECT, target, ignore=_NOT_COPIED, copy_function=shutil.copyfile)
    for directory, _, files in os.walk(target):
        private_folder(Path(directory))
        for name in files:
            Path(directory, name).chmod(0o600)


def _make_repository(folder: Path) -> None:
    """``git init`` with a demo identity of its own, and everything committed."""
    _git(folder, "init", "--quiet", "--initial-branch=main")
    for key, value in SAMPLE_GIT_CONFIG.items():
        _git(folder, "config", key, value)
    _git(folder, "add", "--all")
    # The user's own signing key and hooks are not the sample's business.
    _git(
        folder,
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "Sample project",
    )


def _git(folder: Path, *args: str) -> None:
    # GIT_DIR and friends (set when the demo starts from a git hook) would aim at another
    # repository, and GIT_AUTHOR_* would override the sample's identity.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    # The sample lives in the private home: what git writes there is private too.
    done = subprocess.run(
        ["git", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        umask=0o077,
    )
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise StepstoneError(f"making the sample project a git repository: git {args[0]}: {detail}")


def choose_demo_agents(settings: Settings, environ: MutableMapping[str, str]) -> list[str]:
    """Point every coding agent whose executable is not on PATH at Stepstone's fake of it,
    which speaks the same format, in ``settings`` and in ``environ`` (for settings read again
    later in this process, and its children). Returns one line per agent saying which one
    the demo uses."""
    said = []
    for name in DEMO_AGENTS:
        field = f"{name}_command"
        command: str = getattr(settings, field)
        argv = shlex.split(command)
        if argv and shutil.which(argv[0]) is not None:
            said.append(f"{name} found: the demo runs the real {name} ({command})")
            continue
        fake = f"{shlex.quote(sys.executable)} -m stepstone.fake_agents {name}"
        setattr(settings, field, fake)
        environ[f"STEPSTONE_{name.upper()}_COMMAND"] = fake
        said.append(f"{name} not found: the demo uses a fake {name} that speaks its format")
    return said


def run_demo(
    db: Database,
    home: Path,
    new_worker: Callable[[], Worker],
    console: Console,
    err_console: Console,
) -> None:
    sample = ensure_sample_project(db, home)
    for note in sample.notes:
        err_console.print(note, style="yellow", highlight=False)
    console.print(
        f"[bold]Stepstone demo[/]: running [bold]{DEMO_WORKFLOW}[/] from {sample.path}\n"
        "Kill this process while it runs (Ctrl-C, or `kill -9` from another terminal), then:\n"
        "  [bold]stepstone resume <the run id printed below> --inline --follow[/]\n"
        "Completed steps are not executed again; a durable sleep sleeps only what is left.\n"
    )
    with Interrupts() as interrupts:
        execute_here(
            db,
            new_worker,
            interrupts,
            lambda holder: run_services.start_run(db, sample.id, DEMO_WORKFLOW, claim_for=holder),
            console=console,
            err_console=err_console,
            follow=True,
        )
