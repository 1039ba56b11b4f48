"""The HTTP API against a real server process (SPEC 6, 3.7)."""

from __future__ import annotations

import signal
import stat
import threading
from pathlib import Path

import httpx

from stepstone.store.database import Database
from stepstone.store.runs import get_run_txn
from tests.e2e.server import Server, client_for, wait_for_status
from tests.helpers import Project, run_cli, spawn_cli, wait_for_file

FLOWS = """
def three(a: str, b: str) -> str:
    effect("three")
    touch("three-started")
    while flag("hang"):
        time.sleep(0.05)
    if flag("fail-three"):
        raise ValueError("three is broken")
    return f"{a}+{b}"


@workflow(id="three-steps", phases=["work"])
async def three_steps(ctx: Context) -> dict:
    async with ctx.phase("work"):
        a = await ctx.step.run("one", lambda: effect("one") + "-out")
        b = await ctx.step.run("two", lambda: effect("two") + "-out")
        c = await ctx.step.run("three", three, a, b)
    return {"c": c}
"""


def start(api: httpx.Client, project: Project, **body: object) -> dict:
    answer = api.post(
        "/api/workflows", json={"project_id": project.id, "workflow": "three-steps", **body}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def orphan_in_step_three(project: Project) -> str:
    """A run left `running` by a process killed with SIGKILL in its third step."""
    (project.root / "hang").touch()
    proc = spawn_cli("run", project.name, "three-steps", "--inline")
    wait_for_file(project.root / "three-started")
    proc.kill()
    proc.wait(timeout=10)
    (project.root / "hang").unlink()
    (project.root / "three-started").unlink()
    return run_cli("runs", "--json", check=True).stdout.split('"id": "')[1].split('"')[0]


def test_resume_of_an_orphaned_run_answers_pending_and_completes_it(
    api: httpx.Client, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = orphan_in_step_three(project)
    before = api.get(f"/api/workflows/{run_id}").json()
    assert (before["status"], before["is_live"]) == ("running", False)

    answer = api.post(f"/api/workflows/{run_id}/resume")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "pending"
    run = wait_for_status(api, run_id, "completed")
    assert run["resume_count"] == 1
    assert run["result"] == {"c": "one-out+two-out"}
    assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 2)


def test_retry_from_a_step_of_an_orphaned_run_reuses_the_steps_before_it(
    api: httpx.Client, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = orphan_in_step_three(project)

    answer = api.post(f"/api/workflows/{run_id}/retry", json={"from_step": "work-two"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "pending"
    run = wait_for_status(api, run_id, "completed")
    assert (project.count("one"), project.count("two"), project.count("three")) == (1, 2, 2)
    steps = {step["key"]: step for step in run["steps"]}
    assert steps["work-one"]["reused"] is True
    assert [a["status"] for a in steps["work-three"]["attempts"]] == ["interrupted", "completed"]
    assert run["resume_count"] == 0

    unknown = api.post(f"/api/workflows/{run_id}/retry", json={"from_step": "work-nine"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "invalid_input"
    assert "no step 'work-nine'" in unknown.json()["error"]["message"]
    missing = api.post(f"/api/workflows/{run_id}/retry", json={})
    assert missing.status_code == 400
    (project.root / "hang").touch()
    live = start(api, project)["id"]
    wait_for_file(project.root / "three-started")
    refused = api.post(f"/api/workflows/{live}/retry", json={"from_step": "work-one"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conflict"
    (project.root / "hang").unlink()
    wait_for_status(api, live, "completed")


def test_a_fork_from_step_three_reuses_one_and_two_and_leaves_the_origin_as_it_was(
    api: httpx.Client, make_project
) -> None:
    project: Project = make_project(FLOWS)
    origin_id = orphan_in_step_three(project)
    before = api.get(f"/api/workflows/{origin_id}").json()

    answer = api.post(f"/api/workflows/{origin_id}/fork", json={"from_step": "work-three"})
    assert answer.status_code == 201, answer.text
    fork = answer.json()
    assert fork["forked_from"] == {"run_id": origin_id, "step_key": "work-three"}
    run = wait_for_status(api, fork["id"], "completed")
    assert run["result"] == {"c": "one-out+two-out"}
    assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 2)

    origin = api.get(f"/api/workflows/{origin_id}").json()
    assert (origin["status"], origin["steps"]) == (before["status"], before["steps"])
    assert [f["run_id"] for f in origin["forks"]] == [fork["id"]]
    plain = api.post(f"/api/workflows/{origin_id}/fork")
    assert plain.status_code == 201
    assert plain.json()["steps"] == []


def test_resume_of_a_failed_run_retries_the_failed_step(api: httpx.Client, make_project) -> None:
    project: Project = make_project(FLOWS)
    (project.root / "fail-three").touch()
    run_id = start(api, project)["id"]
    failed = wait_for_status(api, run_id, "failed")
    assert failed["error_message"] == "step 'work-three' failed: ValueError: three is broken"
    (project.root / "fail-three").unlink()
    assert api.post(f"/api/workflows/{run_id}/resume").status_code == 200
    run = wait_for_status(api, run_id, "completed")
    three = run["steps"][2]
    assert [a["status"] for a in three["attempts"]] == ["failed", "completed"]
    assert (project.count("one"), project.count("three")) == (1, 2)


def test_resume_refusals_carry_the_right_status_and_error_shape(
    api: httpx.Client, server: Server, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start(api, project)["id"]
    wait_for_status(api, run_id, "completed")
    completed = api.post(f"/api/workflows/{run_id}/resume")
    assert completed.status_code == 400
    assert completed.json()["error"]["code"] == "not_resumable"
    assert "is completed" in completed.json()["error"]["message"]

    assert httpx.post(f"{server.url}/api/workflows/{run_id}/resume").status_code == 401
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert (
        httpx.post(f"{server.url}/api/workflows/{run_id}/resume", headers=bad_token).status_code
        == 401
    )
    assert api.post("/api/workflows/00000000-0000-0000-0000-000000000000/resume").status_code == 404
    assert api.post("/api/workflows/not-a-uuid/resume").status_code == 404
    assert api.post(f"/api/workflows/{run_id[:8]}/resume").status_code == 404

    (project.root / "hang").touch()
    (project.root / "three-started").unlink()  # left by the first run
    live_id = start(api, project)["id"]
    wait_for_file(project.root / "three-started")
    live = api.post(f"/api/workflows/{live_id}/resume")
    assert live.status_code == 409
    assert live.json()["error"]["code"] == "conflict"
    assert api.delete(f"/api/workflows/{live_id}").status_code == 409
    (project.root / "hang").unlink()
    wait_for_status(api, live_id, "completed")


def test_two_concurrent_resumes_queue_the_run_once(api: httpx.Client, make_project) -> None:
    project: Project = make_project(FLOWS)
    (project.root / "fail-three").touch()
    run_id = start(api, project)["id"]
    wait_for_status(api, run_id, "failed")
    (project.root / "fail-three").unlink()
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def resume() -> None:
        barrier.wait()
        codes.append(api.post(f"/api/workflows/{run_id}/resume").status_code)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) in ([200, 400], [200, 409])
    run = wait_for_status(api, run_id, "completed")
    assert run["resume_count"] == 1
    assert project.count("three") == 2, "step three ran once more, not twice"


def test_a_server_killed_in_step_three_resumes_the_run_after_restart(
    home: Path, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    first = Server(home).start()
    api = client_for(first, db)
    (project.root / "hang").touch()
    run_id = start(api, project)["id"]
    wait_for_file(project.root / "three-started")
    first.kill()
    (project.root / "hang").unlink()

    second = Server(home, port=first.port).start()
    try:
        run = api.get(f"/api/workflows/{run_id}").json()
        assert (run["status"], run["is_live"]) == ("running", False)
        assert api.post(f"/api/workflows/{run_id}/resume").status_code == 200
        done = wait_for_status(api, run_id, "completed")
        assert done["result"] == {"c": "one-out+two-out"}
        assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 2)
    finally:
        second.stop()
        api.close()


def test_with_automatic_recovery_a_killed_servers_run_continues_on_restart_without_a_click(
    home: Path, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    automatic = {"STEPSTONE_AUTO_RESUME": "1"}
    first = Server(home, env=automatic).start()
    api = client_for(first, db)
    (project.root / "hang").touch()
    run_id = start(api, project)["id"]
    wait_for_file(project.root / "three-started")
    first.kill()
    (project.root / "hang").unlink()

    second = Server(home, port=first.port, env=automatic).start()
    try:
        done = wait_for_status(api, run_id, "completed")
        assert done["result"] == {"c": "one-out+two-out"}
        assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 2)
        resumed = [e["message"] for e in done["events"] if e["type"] == "workflow_resumed"]
        automatic = "resumed automatically: its worker was gone in step work-three"
        assert [message.startswith(automatic) for message in resumed] == [True]
    finally:
        second.stop()
        api.close()


def test_a_user_sees_only_their_own_runs(
    api: httpx.Client, server: Server, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start(api, project)["id"]
    other = client_for(server, db, email="other@example.com")
    assert other.get(f"/api/workflows/{run_id}").status_code == 403
    assert other.post(f"/api/workflows/{run_id}/resume").status_code == 403
    assert other.get("/api/workflows").json()["data"] == []
    other.close()
    assert [r["id"] for r in api.get("/api/workflows").json()["data"]] == [run_id]


def test_login_issues_a_token_and_refuses_a_wrong_password(
    api: httpx.Client, server: Server, home: Path
) -> None:
    wrong = httpx.post(
        f"{server.url}/api/auth/login", json={"email": "dev@example.com", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    assert api.get("/api/auth/me").json()["email"] == "dev@example.com"
    secret = home / "jwt-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_runs_are_listed_a_page_at_a_time_with_filters(api: httpx.Client, make_project) -> None:
    project: Project = make_project(FLOWS)
    ids = [start(api, project, name=f"run {n}")["id"] for n in range(5)]
    for run_id in ids:
        wait_for_status(api, run_id, "completed")
    first = api.get("/api/workflows", params={"limit": 2}).json()
    second = api.get("/api/workflows", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/api/workflows", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    listed = [r["id"] for page in (first, second, third) for r in page["data"]]
    assert listed == list(reversed(ids))
    assert third["next_cursor"] is None
    found = api.get("/api/workflows", params={"search": "run 3"}).json()["data"]
    assert [r["name"] for r in found] == ["run 3"]
    assert api.get("/api/workflows", params={"status": "failed"}).json()["data"] == []
    assert api.get("/api/workflows", params={"status": "bogus"}).status_code == 400
    assert api.get("/api/workflows", params={"cursor": "garbage"}).status_code == 400


def test_projects_can_be_registered_renamed_and_listed(api: httpx.Client, tmp_path: Path) -> None:
    root = tmp_path / "api-project"
    (root / ".stepstone" / "workflows").mkdir(parents=True)
    (root / ".stepstone" / "workflows" / "bad.py").write_text("def oops(:\n")
    created = api.post("/api/projects", json={"path": str(root)})
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    definitions = api.get(f"/api/projects/{project_id}/workflow-definitions").json()
    assert definitions["errors"][0]["file_path"] == ".stepstone/workflows/bad.py"
    renamed = api.patch(f"/api/projects/{project_id}", json={"name": "renamed"})
    assert renamed.json()["name"] == "renamed"
    assert renamed.json()["max_concurrent_runs"] is None
    limited = api.patch(f"/api/projects/{project_id}", json={"max_concurrent_runs": 3})
    assert (limited.json()["name"], limited.json()["max_concurrent_runs"]) == ("renamed", 3)
    for bad in ({"max_concurrent_runs": 0}, {"name": None}, {"name": ""}):
        refused = api.patch(f"/api/projects/{project_id}", json=bad)
        assert refused.status_code == 400, (bad, refused.text)
    lifted = api.patch(f"/api/projects/{project_id}", json={"max_concurrent_runs": None})
    assert (lifted.json()["name"], lifted.json()["max_concurrent_runs"]) == ("renamed", None)
    assert api.post("/api/projects", json={"path": str(root)}).status_code == 400
    assert api.delete(f"/api/projects/{project_id}").status_code == 204
    assert api.get(f"/api/projects/{project_id}").status_code == 404


def test_step_logs_are_served_by_step_key(api: httpx.Client, make_project) -> None:
    project: Project = make_project(
        FLOWS
        + """
@workflow(id="talky")
async def talky(ctx: Context) -> None:
    await ctx.step.cli("say", "echo one; echo two")
"""
    )
    answer = api.post("/api/workflows", json={"project_id": project.id, "workflow": "talky"})
    run_id = answer.json()["id"]
    run = wait_for_status(api, run_id, "completed")
    step_id = run["steps"][0]["id"]
    by_key = api.get(f"/api/workflows/{run_id}/steps/say/logs").json()
    by_id = api.get(f"/api/workflows/{run_id}/steps/{step_id}/logs").json()
    assert [line["line"] for line in by_key] == ["one", "two"] == [line["line"] for line in by_id]
    assert api.get(f"/api/workflows/{run_id}/steps/nope/logs").status_code == 404


def test_every_route_but_login_and_health_requires_a_token(server: Server) -> None:
    document = httpx.get(f"{server.url}/api/openapi.json").json()
    open_routes = {("post", "/api/auth/login"), ("get", "/api/health")}
    checked = 0
    for path, operations in document["paths"].items():
        concrete = path.replace("{run_id}", "00000000-0000-0000-0000-000000000000")
        concrete = concrete.replace("{project_id}", "p").replace("{step_id}", "s")
        for method in operations:
            answer = httpx.request(method, f"{server.url}{concrete}")
            if (method, path) in open_routes:
                assert answer.status_code != 401, path
            else:
                assert answer.status_code == 401, f"{method} {path}"
                assert answer.json()["error"]["code"] == "unauthorized"
                checked += 1
    assert checked >= 15


def test_stopping_the_server_ends_running_steps_and_leaves_runs_resumable(
    home: Path, db: Database, make_project
) -> None:
    from stepstone.store.leases import process_alive

    project: Project = make_project(
        FLOWS
        + """
@workflow(id="long-command")
async def long_command(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    await ctx.step.cli(
        "wait", "if [ -f go ]; then echo ok; else sleep 300 & echo $! > child.pid; wait; fi"
    )
"""
    )
    server = Server(home).start()
    api = client_for(server, db)
    run_id = api.post(
        "/api/workflows", json={"project_id": project.id, "workflow": "long-command"}
    ).json()["id"]
    wait_for_file(project.root / "child.pid")
    child = int((project.root / "child.pid").read_text())
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert server.stop() in (0, -signal.SIGTERM)
    assert not process_alive(child)
    with db.read() as conn:
        row = get_run_txn(conn, run_id)
    assert row is not None
    assert row["lease_owner"] is None, "the lease was released, not left to expire"
    restarted = Server(home, port=server.port).start()
    try:
        run = api.get(f"/api/workflows/{run_id}").json()
        assert (run["status"], run["is_live"]) == ("running", False)
        (project.root / "go").touch()
        assert api.post(f"/api/workflows/{run_id}/resume").status_code == 200
        wait_for_status(api, run_id, "completed")
        assert project.count("first") == 1
    finally:
        restarted.stop()
        api.close()


def test_paths_and_text_no_system_accepts_are_refused_with_400(api: httpx.Client) -> None:
    for path in ("/tmp/with\u0000nul", "~no-such-user-here/x"):
        answer = api.post("/api/projects", json={"path": path})
        assert answer.status_code == 400, path
        assert answer.json()["error"]["code"] == "invalid_input"
    lone_surrogate = '{"path": "/tmp", "name": "bad\\udc00"}'
    answer = api.post(
        "/api/projects", content=lone_surrogate, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert "valid Unicode" in answer.json()["error"]["message"]


def test_deleting_a_project_that_holds_another_users_runs_is_forbidden(
    api: httpx.Client, server: Server, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    run_id = start(api, project)["id"]
    wait_for_status(api, run_id, "completed")
    other = client_for(server, db, email="other@example.com")
    assert other.delete(f"/api/projects/{project.id}").status_code == 403
    other.close()
    assert api.get(f"/api/workflows/{run_id}").status_code == 200
    assert api.delete(f"/api/projects/{project.id}").status_code == 204
