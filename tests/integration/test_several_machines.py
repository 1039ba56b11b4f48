"""What processes on several machines share beside the database (docs/operations.md): API
processes with one ``STEPSTONE_JWT_SECRET`` accept each other's tokens, and runs' artifacts
are saved to ``STEPSTONE_ARTIFACTS_DIR`` by a worker and served from it by an API process with
another home. Each process is built from its settings, as its entry point builds it."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stepstone.api.app import create_app
from stepstone.cli.common import make_worker
from stepstone.errors import InvalidInput
from stepstone.services.runs import get_run, start_run
from stepstone.services.users import create_user
from stepstone.settings import Settings
from stepstone.store.database import Database
from tests.helpers import Project, run_cli

EMAIL, PASSWORD = "ops@example.com", "correct-horse-battery"

SAVES = """
@workflow(id="saves")
async def saves(ctx: Context) -> None:
    await ctx.step.artifact("notes", name="notes.md", content="# shared\\n")
"""


def api_process(db: Database, home: Path) -> TestClient:
    """An API process (no worker) with its own home, its other settings from the
    environment."""
    app = create_app(Settings(home=home), db=db, with_worker=False)
    return TestClient(app, base_url="http://127.0.0.1")


def token_from(api: TestClient) -> dict[str, str]:
    login = api.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_api_processes_with_the_same_jwt_secret_accept_each_others_tokens(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPSTONE_JWT_SECRET", secrets.token_urlsafe(32))
    create_user(db, EMAIL, PASSWORD)
    first, second = api_process(db, tmp_path / "a"), api_process(db, tmp_path / "b")

    assert second.get("/api/projects", headers=token_from(first)).status_code == 200
    assert first.get("/api/projects", headers=token_from(second)).status_code == 200
    assert not (tmp_path / "a" / "jwt-secret").exists()
    assert not (tmp_path / "b" / "jwt-secret").exists()


def test_api_processes_without_it_sign_with_their_homes_and_refuse_each_others_tokens(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEPSTONE_JWT_SECRET", raising=False)
    create_user(db, EMAIL, PASSWORD)
    first, second = api_process(db, tmp_path / "a"), api_process(db, tmp_path / "b")

    assert first.get("/api/projects", headers=token_from(first)).status_code == 200
    assert second.get("/api/projects", headers=token_from(first)).status_code == 401


def test_a_jwt_secret_shorter_than_32_characters_is_refused_at_start(
    db: Database, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPSTONE_JWT_SECRET", "x" * 31)
    expected = "STEPSTONE_JWT_SECRET is 31 characters long; it must be at least 32"
    with pytest.raises(InvalidInput, match=f"^{expected} "):
        create_app(Settings(), db=db)

    served = run_cli("serve", "--no-worker", "--port", "0", timeout=30)
    assert served.returncode == 1
    [line] = served.stderr.splitlines()
    assert line.startswith(f"error: {expected} (make one with: ")


def test_the_artifacts_folder_defaults_to_the_homes() -> None:
    assert Settings(home=Path("/srv/home")).artifacts_dir == Path("/srv/home/artifacts")


async def test_artifacts_are_saved_to_and_served_from_the_configured_folder(
    db: Database, make_project, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared-artifacts"
    monkeypatch.setenv("STEPSTONE_ARTIFACTS_DIR", str(shared))
    project: Project = make_project(SAVES)
    run_id = start_run(db, project.id, "saves")["id"]
    worker = make_worker(db, concurrency=1)  # as `stepstone worker` makes it
    try:
        await worker.execute_inline(run_id)
    finally:
        worker.close()
    assert get_run(db, run_id)["status"] == "completed"
    [saved] = list((shared / run_id).iterdir())
    assert not (home / "artifacts").exists(), "nothing in the worker's home"

    create_user(db, EMAIL, PASSWORD)
    api = api_process(db, tmp_path / "api-home")
    auth = token_from(api)
    [artifact] = api.get(f"/api/workflows/{run_id}/artifacts", headers=auth).json()
    download = f"/api/workflows/{run_id}/artifacts/{artifact['id']}"
    served = api.get(download, headers=auth)
    assert served.status_code == 200, served.text
    assert served.content == b"# shared\n"

    saved.unlink()  # as if saved on a machine whose folder this one does not mount
    missing = api.get(download, headers=auth)
    assert missing.status_code == 404
    message = missing.json()["error"]["message"]
    assert "another machine" in message
    assert "STEPSTONE_ARTIFACTS_DIR" in message
