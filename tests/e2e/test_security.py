"""SPEC 9 against a real server process: roles, tokens of deleted users, host and origin
checks, security headers, body limits, failed-login slowdown, private files."""

from __future__ import annotations

import asyncio
import stat
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from stepstone.api.guards import CONTENT_SECURITY_POLICY
from stepstone.services.users import create_user, delete_user, disable_user
from stepstone.store.database import Database
from tests.e2e.server import PASSWORD, Server, client_for
from tests.helpers import Project, run_cli, wait_for

HELLO = """
@workflow(id="hello", phases=["work"])
async def hello(ctx: Context) -> str:
    async with ctx.phase("work"):
        return await ctx.step.run("greet", lambda: "hello")
"""


def assert_error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    return error


def every_route(server: Server) -> list[tuple[str, str]]:
    """Each operation of the OpenAPI document, its path parameters filled with a run-like id."""
    document = httpx.get(f"{server.url}/api/openapi.json").json()
    some_id = "00000000-0000-4000-8000-000000000000"
    routes = []
    for path, operations in document["paths"].items():
        for method in operations:
            filled = path
            for name in ("run_id", "project_id", "step_id", "artifact_id"):
                filled = filled.replace("{" + name + "}", some_id)
            routes.append((method.upper(), filled))
    return routes


async def websocket_refused(url: str, **headers: str) -> bool:
    try:
        async with connect(url, additional_headers=headers, open_timeout=10) as socket:
            await socket.send('{"type": "subscribe", "channels": []}')
            await asyncio.wait_for(socket.recv(), 10)
    except InvalidStatus:
        return True
    except Exception as exc:  # a close after accepting is a refusal too
        return "1008" in str(exc)
    return False


def ws_url(server: Server, token: str) -> str:
    return f"ws://127.0.0.1:{server.port}/ws?token={token}"


def token_of(client: httpx.Client) -> str:
    return str(client.headers["Authorization"].removeprefix("Bearer "))


@pytest.mark.parametrize("how", ["deleted", "disabled"])
def test_a_token_stops_working_on_every_route_and_the_websocket_when_its_user_goes(
    server: Server, db: Database, how: str
) -> None:
    client_for(server, db, "admin@example.com").close()
    member = client_for(server, db, "member@example.com")
    assert member.get("/api/auth/me").status_code == 200
    token = token_of(member)
    assert not asyncio.run(websocket_refused(ws_url(server, token)))
    (delete_user if how == "deleted" else disable_user)(db, "member@example.com")
    # Another process changed the user: the server learns within its cache time (2 s).
    wait_for(lambda: member.get("/api/projects").status_code == 401, 10, "the token to stop")
    for method, path in every_route(server):
        if path in ("/api/auth/login", "/api/health", "/api/openapi.json"):
            continue
        answer = member.request(method, path, json={})
        assert_error(answer, 401)
    assert asyncio.run(websocket_refused(ws_url(server, token)))
    again = httpx.post(
        f"{server.url}/api/auth/login",
        json={"email": "member@example.com", "password": PASSWORD},
    )
    assert_error(again, 401)
    member.close()


def test_a_member_cannot_manage_projects_nor_see_cli_runs_and_an_admin_can(
    server: Server, db: Database, make_project
) -> None:
    project: Project = make_project(HELLO)  # registered from the CLI side (no API user)
    admin = client_for(server, db, "admin@example.com")
    member = client_for(server, db, "member@example.com")
    assert admin.get("/api/auth/me").json()["is_admin"] is True
    assert member.get("/api/auth/me").json()["is_admin"] is False
    cli_run = run_cli("run", project.name, "hello", check=True).stdout.strip()

    other_dir = project.root.parent / "other"
    other_dir.mkdir()
    assert_error(member.post("/api/projects", json={"path": str(other_dir)}), 403)
    assert_error(member.patch(f"/api/projects/{project.id}", json={"name": "renamed"}), 403)
    assert_error(member.delete(f"/api/projects/{project.id}"), 403)
    assert [p["id"] for p in member.get("/api/projects").json()] == [project.id]

    assert member.get("/api/workflows").json()["data"] == []
    assert_error(member.get(f"/api/workflows/{cli_run}"), 403)
    mine = member.post("/api/workflows", json={"project_id": project.id, "workflow": "hello"})
    assert mine.status_code == 201, mine.text
    listed = [run["id"] for run in member.get("/api/workflows").json()["data"]]
    assert listed == [mine.json()["id"]]

    seen_by_admin = {run["id"] for run in admin.get("/api/workflows").json()["data"]}
    assert seen_by_admin == {cli_run, mine.json()["id"]}
    assert admin.get(f"/api/workflows/{cli_run}").status_code == 200
    renamed = admin.patch(f"/api/projects/{project.id}", json={"name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    added = admin.post("/api/projects", json={"path": str(other_dir)})
    assert added.status_code == 201, added.text
    admin.close()
    member.close()


def test_a_request_for_another_host_is_refused_and_a_configured_name_is_served(
    home: Path, db: Database
) -> None:
    server = Server(home, env={"STEPSTONE_ALLOWED_HOSTS": "localhost,stepstone.test"}).start()
    try:
        health = f"{server.url}/api/health"
        assert_error(httpx.get(health, headers={"Host": "evil.example"}), 400)
        assert_error(httpx.get(f"{server.url}/", headers={"Host": "evil.example:80"}), 400)
        for name in (f"localhost:{server.port}", f"stepstone.test:{server.port}"):
            assert httpx.get(health, headers={"Host": name}).status_code == 200
        # 127.0.0.1 is what --host names (the default): served although not in the list.
        assert httpx.get(health).status_code == 200
    finally:
        server.stop()


def test_a_websocket_from_a_page_of_another_site_is_refused(server: Server, db: Database) -> None:
    client = client_for(server, db)
    url = ws_url(server, token_of(client))
    assert asyncio.run(websocket_refused(url, Origin="https://evil.example"))
    assert asyncio.run(websocket_refused(url, Origin=f"http://evil.example:{server.port}"))
    assert not asyncio.run(websocket_refused(url, Origin=f"http://127.0.0.1:{server.port}"))
    assert not asyncio.run(websocket_refused(url))  # a script, not a browser: no Origin
    client.close()


def test_every_answer_carries_the_security_headers(server: Server) -> None:
    for path in ("/", "/api/health", "/api/docs", "/api/no-such-route"):
        headers = httpx.get(f"{server.url}{path}").headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"


def test_a_request_body_over_the_limit_is_refused_whole_or_streamed(
    server: Server, db: Database, make_project
) -> None:
    project: Project = make_project(HELLO)
    client = client_for(server, db)
    big_args = {"blob": "x" * (2 * 1024 * 1024)}
    body = {"project_id": project.id, "workflow": "hello", "args": big_args}
    error = assert_error(client.post("/api/workflows", json=body), 413)
    assert "larger than" in error["message"]

    def chunks() -> Any:
        yield b'{"project_id": "' + project.id.encode() + b'", "args": {"blob": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}}'

    streamed = client.post(
        "/api/workflows", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(streamed, 413)
    assert client.get("/api/workflows").json()["data"] == [], "nothing was stored"
    client.close()


def login(server: Server, email: str, password: str) -> tuple[int, float]:
    started = time.monotonic()
    answer = httpx.post(
        f"{server.url}/api/auth/login", json={"email": email, "password": password}, timeout=60
    )
    return answer.status_code, time.monotonic() - started


def test_login_takes_as_long_for_an_unknown_email_as_for_a_wrong_password(
    server: Server, db: Database
) -> None:
    emails = [f"user{n}@example.com" for n in range(4)]
    for email in emails:
        create_user(db, email, PASSWORD)
    wrong = [login(server, email, "not-the-password") for email in emails]
    unknown = [login(server, f"nobody{n}@example.com", "not-the-password") for n in range(4)]
    assert {status for status, _ in wrong + unknown} == {401}
    ratio = statistics.median(t for _, t in unknown) / statistics.median(t for _, t in wrong)
    # Without the stand-in hash an unknown email answers ~50x faster.
    assert 0.4 < ratio < 2.5, f"unknown/wrong timing ratio {ratio:.2f}"


async def _failed_logins(url: str, email: str, count: int) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        answers = await asyncio.gather(
            *(
                client.post("/api/auth/login", json={"email": email, "password": f"guess-{n}"})
                for n in range(count)
            )
        )
    return [answer.status_code for answer in answers]


def test_thirty_failed_logins_delay_the_next_attempt_which_still_gets_in(
    server: Server, db: Database
) -> None:
    create_user(db, "target@example.com", PASSWORD)
    _, first_time = login(server, "target@example.com", PASSWORD)
    statuses = asyncio.run(_failed_logins(server.url, "target@example.com", 30))
    assert statuses == [401] * 30
    status, delayed_time = login(server, "target@example.com", PASSWORD)
    assert status == 200, "slowed down, never locked out"
    assert delayed_time > first_time + 2, (first_time, delayed_time)


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_a_fresh_home_under_umask_022_keeps_every_file_private(home: Path, tmp_path: Path) -> None:
    assert not home.exists()
    server = Server(home, umask=0o022).start()  # the server creates the home
    db = Database.open(f"sqlite:///{home / 'stepstone.db'}")
    try:
        client = client_for(server, db)
        project = Project(tmp_path / "project", {"id": "", "name": ""})
        (project.root / ".stepstone" / "workflows").mkdir(parents=True)
        project.write_workflow(HELLO)
        added = client.post("/api/projects", json={"path": str(project.root)})
        assert added.status_code == 201, added.text
        for _ in range(3):
            answer = client.post(
                "/api/workflows", json={"project_id": added.json()["id"], "workflow": "hello"}
            )
            assert answer.status_code == 201, answer.text
        client.close()
        assert (home / "stepstone.db-wal").exists(), "the database grew its WAL"
        entries = [home, *home.rglob("*")]
        assert {"stepstone.db", "stepstone.db-wal", "stepstone.db-shm", "jwt-secret"} <= {
            entry.name for entry in entries
        }
        shared = [str(entry.relative_to(home)) for entry in entries if not private(entry)]
        assert shared == []
    finally:
        db.dispose()
        server.stop()
