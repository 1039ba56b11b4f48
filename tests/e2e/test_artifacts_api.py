"""Listing and downloading a run's artifacts over HTTP, against a real server process
(SPEC 6, 9)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from stepstone.store.database import Database
from tests.e2e.server import Server, client_for, wait_for_status
from tests.helpers import Project

SAVES = """
@workflow(id="saves")
async def saves(ctx: Context) -> None:
    await ctx.step.artifact("text", name="résumé notes.md", content="# notes\\n")
    await ctx.step.artifact("bytes", name="blob.bin", content=bytes(range(256)) * 4)
"""
BLOB = bytes(range(256)) * 4


def completed_run(api: httpx.Client, project: Project) -> str:
    answer = api.post("/api/workflows", json={"project_id": project.id, "workflow": "saves"})
    assert answer.status_code == 201, answer.text
    run_id: str = answer.json()["id"]
    wait_for_status(api, run_id, "completed")
    return run_id


def test_artifacts_are_listed_and_downloaded_byte_for_byte(api: httpx.Client, make_project) -> None:
    run_id = completed_run(api, make_project(SAVES))

    listed = api.get(f"/api/workflows/{run_id}/artifacts")
    assert listed.status_code == 200
    artifacts = {artifact["name"]: artifact for artifact in listed.json()}
    assert sorted(artifacts) == ["blob.bin", "résumé notes.md"]
    blob = artifacts["blob.bin"]
    assert (blob["size_bytes"], blob["sha256"], blob["step_key"]) == (
        len(BLOB),
        hashlib.sha256(BLOB).hexdigest(),
        "bytes",
    )

    download = api.get(f"/api/workflows/{run_id}/artifacts/{blob['id']}")
    assert download.status_code == 200
    assert download.content == BLOB
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == 'attachment; filename="blob.bin"'

    notes = api.get(f"/api/workflows/{run_id}/artifacts/{artifacts['résumé notes.md']['id']}")
    assert notes.content == b"# notes\n"
    assert notes.headers["content-type"].startswith("text/markdown")
    assert "attachment;" in notes.headers["content-disposition"]
    assert "filename*=utf-8''r%C3%A9sum%C3%A9%20notes.md" in notes.headers["content-disposition"]


def test_unknown_malformed_and_other_runs_artifact_ids_answer_404(
    api: httpx.Client, make_project
) -> None:
    project: Project = make_project(SAVES)
    run_id, other_run_id = completed_run(api, project), completed_run(api, project)
    other_artifact = api.get(f"/api/workflows/{other_run_id}/artifacts").json()[0]["id"]

    for path in (
        f"/api/workflows/{run_id}/artifacts/{other_artifact}",
        f"/api/workflows/{run_id}/artifacts/not-an-id",
        f"/api/workflows/{run_id}/artifacts/..%2F..%2Fstepstone.db",
        "/api/workflows/not-a-run/artifacts",
    ):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"


def test_another_users_run_artifacts_are_forbidden(
    api: httpx.Client, server: Server, db: Database, make_project
) -> None:
    run_id = completed_run(api, make_project(SAVES))
    artifact_id = api.get(f"/api/workflows/{run_id}/artifacts").json()[0]["id"]
    other = client_for(server, db, email="other@example.com")
    try:
        assert other.get(f"/api/workflows/{run_id}/artifacts").status_code == 403
        assert other.get(f"/api/workflows/{run_id}/artifacts/{artifact_id}").status_code == 403
    finally:
        other.close()


def test_deleting_a_run_removes_its_artifacts_folder(
    api: httpx.Client, home: Path, make_project
) -> None:
    run_id = completed_run(api, make_project(SAVES))
    folder = home / "artifacts" / run_id
    assert len(list(folder.iterdir())) == 2

    assert api.delete(f"/api/workflows/{run_id}").status_code == 204

    assert not folder.exists()
    assert api.get(f"/api/workflows/{run_id}/artifacts").status_code == 404
