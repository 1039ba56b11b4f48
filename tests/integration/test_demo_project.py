"""The demo's sample project: its own git repository in the home, registered once, and the
implement-review workflow whose spec makes the fake agents implement and approve a feature."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from stepstone.cli.demo import (
    SAMPLE_NAME,
    SAMPLE_PROJECT,
    choose_demo_agents,
    ensure_sample_project,
)
from stepstone.engine.loader import load_file
from stepstone.fake_agents import directives
from stepstone.services.projects import (
    add_project,
    get_project,
    list_definitions,
    list_projects,
)
from stepstone.settings import Settings
from stepstone.store.database import Database

AGENTS = ["claude", "codex", "gemini"]
WORKFLOW_FILE = SAMPLE_PROJECT / ".stepstone" / "workflows" / "implement_review.py"


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def workflow_module() -> ModuleType:
    """The implement-review file as a module, for the prompts it builds."""
    spec = importlib.util.spec_from_file_location("implement_review_under_test", WORKFLOW_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_first_start_makes_the_sample_a_git_repository_of_its_own_and_registers_it(
    db: Database, home: Path
) -> None:
    sample = ensure_sample_project(db, home)

    assert sample.path == home / "sample"
    assert git(sample.path, "rev-parse", "--show-toplevel") == str(sample.path.resolve())
    assert git(sample.path, "rev-list", "--count", "HEAD") == "1"
    assert git(sample.path, "branch", "--show-current") == "main"
    assert git(sample.path, "status", "--porcelain") == ""
    assert git(sample.path, "log", "-1", "--format=%an <%ae> %s") == (
        "Stepstone demo <demo@stepstone.local> Sample project"
    )
    committed = git(sample.path, "ls-files").splitlines()
    assert "specs/greeting.md" in committed
    assert ".stepstone/workflows/implement_review.py" in committed
    assert not [path for path in committed if "__pycache__" in path]
    assert stat.S_IMODE(sample.path.stat().st_mode) == 0o700
    registered = get_project(db, SAMPLE_NAME)
    assert (registered["id"], registered["path"]) == (sample.id, str(sample.path.resolve()))
    assert sample.notes == ()


def test_later_starts_reuse_the_sample_as_it_is(db: Database, home: Path) -> None:
    first = ensure_sample_project(db, home)
    (first.path / "notes.txt").write_text("the user's own change\n")

    again = ensure_sample_project(db, home)

    assert again == first
    assert (again.path / "notes.txt").read_text() == "the user's own change\n"
    assert git(again.path, "rev-list", "--count", "HEAD") == "1"
    assert [project["name"] for project in list_projects(db)] == [SAMPLE_NAME]


def test_a_sample_registered_elsewhere_keeps_its_runs_under_another_name(
    db: Database, home: Path, tmp_path: Path
) -> None:
    in_package = tmp_path / "site-packages" / "stepstone" / "sample"
    shutil.copytree(SAMPLE_PROJECT, in_package, ignore=shutil.ignore_patterns("__pycache__"))
    old = add_project(db, in_package, name=SAMPLE_NAME)

    sample = ensure_sample_project(db, home)

    assert get_project(db, SAMPLE_NAME)["path"] == str(sample.path.resolve())
    assert get_project(db, old["id"])["path"] == str(in_package.resolve())
    assert get_project(db, old["id"])["name"] != SAMPLE_NAME
    assert any(str(in_package) in note for note in sample.notes)


def test_without_git_the_sample_is_a_plain_folder_made_a_repository_once_git_is_there(
    db: Database, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path_with_git = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))

    without = ensure_sample_project(db, home)

    assert not (without.path / ".git").exists()
    assert (without.path / "specs" / "greeting.md").is_file()
    assert without.notes == (
        f"git is not installed: {without.path} is a plain folder, so its runs use mode stay",
    )
    monkeypatch.setenv("PATH", path_with_git)

    again = ensure_sample_project(db, home)

    assert again.id == without.id
    assert again.notes == ()
    assert git(again.path, "rev-list", "--count", "HEAD") == "1"


def test_the_sample_declares_implement_review_with_its_phases_and_args(
    db: Database, home: Path
) -> None:
    [definition] = load_file(WORKFLOW_FILE)
    assert definition.id == "implement-review"
    assert definition.name == "Implement and review"
    assert [phase.id for phase in definition.phases] == ["implement", "review", "complete"]
    properties = (definition.args_schema or {})["properties"]
    assert properties["agent"]["enum"] == properties["reviewer"]["enum"] == AGENTS
    assert (properties["agent"]["default"], properties["reviewer"]["default"]) == (
        "claude",
        "codex",
    )
    assert properties["open_pr"]["default"] is False

    ensure_sample_project(db, home)
    listing = list_definitions(db, SAMPLE_NAME, sync="never")
    assert listing["errors"] == []
    assert {"implement-review", "hello-pipeline", "slow-release"} <= {
        found["workflow"] for found in listing["definitions"]
    }


def test_the_spec_makes_the_fake_implementer_write_code_whose_tests_pass(
    db: Database, home: Path
) -> None:
    sample = ensure_sample_project(db, home)
    workflow = workflow_module()
    task, _ = workflow.split_review((sample.path / "specs" / "greeting.md").read_text())
    # @work only takes time; the edits are what this test is about.
    prompt = "\n".join(
        line for line in workflow.implement_prompt(task).splitlines() if "@work" not in line
    )
    assert [type(action) for action in directives.plan(prompt).actions] == [
        directives.Edit,
        directives.Edit,
    ]

    before = _pytest(sample.path)
    fake = subprocess.run(
        [sys.executable, "-m", "stepstone.fake_agents", "claude", "-p", prompt],
        cwd=sample.path,
        env={**os.environ, "STEPSTONE_FAKE_AGENT_DELAY": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    after = _pytest(sample.path)

    assert fake.returncode == 0, fake.stderr
    assert before.returncode == 0, before.stdout
    assert "1 passed" in before.stdout
    assert after.returncode == 0, after.stdout
    assert "2 passed" in after.stdout
    assert sorted(git(sample.path, "status", "--porcelain", "--untracked-files=all").split()) == [
        "??",
        "??",
        "shout.py",
        "tests/test_shout.py",
    ]


def test_the_review_prompt_gives_the_fake_reviewer_a_json_verdict_and_no_edits(
    db: Database, home: Path
) -> None:
    sample = ensure_sample_project(db, home)
    workflow = workflow_module()
    task, checklist = workflow.split_review((sample.path / "specs" / "greeting.md").read_text())
    tests = workflow.CliResult(exit_code=0, stdout="2 passed in 0.01s", stderr="")
    diff = "@@ -0,0 +1 @@\n+def shout(text: str) -> str: return text.upper() + '!'"

    review = directives.plan(workflow.review_prompt(task, checklist, tests, diff))
    implement = directives.plan(workflow.implement_prompt(task))

    assert not [action for action in review.actions if isinstance(action, directives.Edit)]
    verdict = json.loads(review.answer)
    assert verdict["approved"] is True
    assert verdict["summary"]
    assert verdict["issues"] == []
    assert not implement.answer.startswith("{")
    assert workflow.title_of(task) == "Shout a greeting"


def test_agents_missing_from_path_are_replaced_by_fakes_that_say_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_codex = tmp_path / "bin" / "codex"
    real_codex.parent.mkdir()
    real_codex.write_text("#!/bin/sh\n")
    real_codex.chmod(0o755)
    monkeypatch.setenv("PATH", str(real_codex.parent))
    settings = Settings(claude_command="claude --verbose", codex_command="codex")
    environ: dict[str, str] = {}

    said = choose_demo_agents(settings, environ)

    assert settings.agent_commands()["claude"] == [
        sys.executable,
        "-m",
        "stepstone.fake_agents",
        "claude",
    ]
    assert settings.codex_command == "codex"
    assert environ["STEPSTONE_CLAUDE_COMMAND"] == settings.claude_command
    assert "STEPSTONE_CODEX_COMMAND" not in environ
    assert "claude not found: the demo uses a fake claude that speaks its format" in said
    assert any(line.startswith("codex found") for line in said)


def _pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        # The sample's tests need no plugin; this environment's would take seconds to load.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
