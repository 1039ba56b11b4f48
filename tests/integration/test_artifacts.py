"""Artifacts: files a run saves with ``ctx.step.artifact`` (SPEC 8, 9), executed in this
process against a real SQLite journal."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from sqlalchemy import update

from stepstone.services.artifacts import artifact_file, list_artifacts
from stepstone.services.runs import delete_run, get_run, resume_run, start_run
from stepstone.store.database import Database
from stepstone.store.schema import workflow_steps
from tests.helpers import Project, execute_inline

SAVES = """
@workflow(id="saves")
async def saves(ctx: Context) -> dict:
    text = await ctx.step.artifact("text", name="notes.md", content="# héllo\\n")
    blob = await ctx.step.artifact(
        "bytes", name="blob.bin", content=bytes(range(256)) * 3, content_type="x-test/blob"
    )
    copied = await ctx.step.artifact("file", name="report.json", path="out/report.json")
    await ctx.step.run("after", lambda: effect("after"))
    if flag("fail-at-end"):
        raise RuntimeError("failing after the artifacts")
    return {"text": text.sha256, "blob": blob.size_bytes, "copied": copied.content_type}
"""

TWICE = """
@workflow(id="twice")
async def twice(ctx: Context) -> None:
    await ctx.step.artifact("first", name="state.txt", content="one")
    await ctx.step.artifact("second", name="state.txt", content="two, longer")
"""

NAMED = """
@workflow(id="named")
async def named(ctx: Context) -> None:
    await ctx.step.artifact("save", name=ctx.args["name"], content="escape")
"""

REPORT = b'{"ok": true, "bytes": "\\u00ff"}\n'


@pytest.fixture
def artifacts_dir(home: Path) -> Path:
    return home / "artifacts"


def saves_project(make_project) -> Project:
    project: Project = make_project(SAVES)
    (project.root / "out").mkdir()
    (project.root / "out" / "report.json").write_bytes(REPORT)
    return project


def by_name(db: Database, run_id: str) -> dict[str, dict]:
    return {artifact["name"]: dict(artifact) for artifact in list_artifacts(db, run_id)}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def everything_under(folder: Path) -> list[Path]:
    return list(folder.rglob("*")) if folder.exists() else []


def content_of(db: Database, run_id: str, name: str, artifacts_dir: Path) -> bytes:
    artifact_id = by_name(db, run_id)[name]["id"]
    return artifact_file(db, run_id, artifact_id, artifacts_dir=artifacts_dir).path.read_bytes()


async def test_text_bytes_and_a_working_dir_file_are_saved_byte_for_byte_with_size_and_sha256(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project = saves_project(make_project)
    run_id = start_run(db, project.id, "saves")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)

    run = get_run(db, run_id)
    assert run["status"] == "completed", run["error_message"]
    expected = {
        "notes.md": ("# héllo\n".encode(), "text/markdown", "text"),
        "blob.bin": (bytes(range(256)) * 3, "x-test/blob", "bytes"),
        "report.json": (REPORT, "application/json", "file"),
    }
    artifacts = by_name(db, run_id)
    assert sorted(artifacts) == sorted(expected)
    for name, (data, content_type, step_key) in expected.items():
        assert content_of(db, run_id, name, artifacts_dir) == data
        assert artifacts[name]["size_bytes"] == len(data)
        assert artifacts[name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert artifacts[name]["content_type"] == content_type
        assert artifacts[name]["step_key"] == step_key
    assert run["result"] == {
        "text": hashlib.sha256("# héllo\n".encode()).hexdigest(),
        "blob": 768,
        "copied": "application/json",
    }
    steps = {step["key"]: step for step in run["steps"]}
    assert steps["text"]["kind"] == "artifact"
    assert steps["text"]["output"] == {
        "name": "notes.md",
        "size_bytes": 9,
        "sha256": hashlib.sha256("# héllo\n".encode()).hexdigest(),
        "content_type": "text/markdown",
    }


async def test_artifact_folders_are_0700_and_files_0600(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project = saves_project(make_project)
    run_id = start_run(db, project.id, "saves")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)

    folder = artifacts_dir / run_id
    assert mode_of(artifacts_dir) == 0o700
    assert mode_of(folder) == 0o700
    files = list(folder.iterdir())
    assert len(files) == 3, "three files and no temporary file left behind"
    assert all(mode_of(path) == 0o600 for path in files)


async def test_a_resumed_run_reuses_saved_artifacts_without_saving_them_again(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project = saves_project(make_project)
    (project.root / "fail-at-end").touch()
    run_id = start_run(db, project.id, "saves")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)
    assert get_run(db, run_id)["status"] == "failed"
    before = by_name(db, run_id)
    # Changing the source shows a re-executed step: the memoized one does not read it again.
    (project.root / "out" / "report.json").write_bytes(b"changed")

    (project.root / "fail-at-end").unlink()
    resume_run(db, run_id)
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)

    run = get_run(db, run_id)
    assert run["status"] == "completed"
    assert by_name(db, run_id) == before
    assert content_of(db, run_id, "report.json", artifacts_dir) == REPORT
    assert all(step["attempt"] == 1 for step in run["steps"] if step["kind"] == "artifact"), (
        "artifact steps are memoized"
    )
    assert len(list((artifacts_dir / run_id).iterdir())) == 3


async def test_saving_a_name_again_replaces_the_artifact(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project: Project = make_project(TWICE)
    run_id = start_run(db, project.id, "twice")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)

    assert get_run(db, run_id)["status"] == "completed"
    artifacts = list_artifacts(db, run_id)
    assert [(a["name"], a["step_key"], a["size_bytes"]) for a in artifacts] == [
        ("state.txt", "second", len("two, longer"))
    ]
    assert content_of(db, run_id, "state.txt", artifacts_dir) == b"two, longer"
    assert len(list((artifacts_dir / run_id).iterdir())) == 1


async def test_a_step_executed_again_replaces_its_artifact_under_the_same_id(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project: Project = make_project(
        """
@workflow(id="copy")
async def copy(ctx: Context) -> None:
    await ctx.step.artifact("save", name="log.txt", path="log.txt")
    await ctx.step.run("check", lambda: 1 / 0 if flag("fail") else effect("check"))
"""
    )
    (project.root / "log.txt").write_text("first")
    (project.root / "fail").touch()
    run_id = start_run(db, project.id, "copy")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)
    assert get_run(db, run_id)["status"] == "failed"
    [first] = list_artifacts(db, run_id)
    # As if the worker had died after saving the file but before recording the completion:
    # the step executes again on resume.
    with db.transaction() as conn:
        conn.execute(
            update(workflow_steps)
            .where(workflow_steps.c.run_id == run_id, workflow_steps.c.key == "save")
            .values(status="failed", output=None)
        )
    (project.root / "log.txt").write_text("second, longer")
    (project.root / "fail").unlink()
    resume_run(db, run_id)
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)

    assert get_run(db, run_id)["status"] == "completed"
    [second] = list_artifacts(db, run_id)
    assert second["id"] == first["id"], "a download link stays valid"
    assert second["size_bytes"] == len("second, longer")
    assert content_of(db, run_id, "log.txt", artifacts_dir) == b"second, longer"
    assert len(list((artifacts_dir / run_id).iterdir())) == 1


@pytest.mark.parametrize("name", ["../x", "a/b", "", "x\x00y", "..", "a\\b", "n" * 201])
async def test_a_name_that_is_not_a_plain_file_name_fails_the_step_and_writes_nothing(
    db: Database, make_project, artifacts_dir: Path, tmp_path: Path, name: str
) -> None:
    project: Project = make_project(NAMED)
    run_id = start_run(db, project.id, "named", args={"name": name})["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)

    run = get_run(db, run_id)
    assert run["status"] == "failed"
    assert run["error_message"].startswith("step 'save' failed: artifact name")
    assert run["steps"][0]["error_message"].startswith("artifact name")
    assert list_artifacts(db, run_id) == []
    assert everything_under(artifacts_dir) == []
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "home" / "x").exists()


async def test_giving_both_content_and_path_fails_the_step_with_a_clear_message(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project: Project = make_project(
        """
@workflow(id="both")
async def both(ctx: Context) -> None:
    await ctx.step.artifact("save", name="a.txt", content="x", path="a.txt")
"""
    )
    run_id = start_run(db, project.id, "both")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)
    run = get_run(db, run_id)
    assert run["error_message"] == "step 'save' failed: give an artifact either content= or path="


async def test_deleting_a_run_removes_its_artifacts_folder(
    db: Database, make_project, artifacts_dir: Path
) -> None:
    project = saves_project(make_project)
    run_id = start_run(db, project.id, "saves")["id"]
    keep_id = start_run(db, project.id, "saves")["id"]
    await execute_inline(db, run_id, artifacts_dir=artifacts_dir)
    await execute_inline(db, keep_id, artifacts_dir=artifacts_dir)
    assert (artifacts_dir / run_id).is_dir()

    delete_run(db, run_id, artifacts_dir=artifacts_dir)

    assert not (artifacts_dir / run_id).exists()
    assert len(list((artifacts_dir / keep_id).iterdir())) == 3, "other runs keep theirs"
