"""A real server under a load of API clients while another process writes (issue: one writer
per process): every request is answered, and a CLI command still gets its turn."""

from __future__ import annotations

import threading
import time

import httpx

from tests.e2e.server import Server, wait_for_status
from tests.helpers import Project, run_cli

FLOWS = """
async def nothing() -> None:
    pass


@workflow(id="quick")
async def quick(ctx: Context) -> None:
    for i in range(3):
        await ctx.step.run(f"s{i}", nothing)


def fails_while_flagged() -> str:
    if flag("fail"):
        raise ValueError("flagged")
    return "fine"


@workflow(id="flaky")
async def flaky(ctx: Context) -> str:
    return await ctx.step.run("only", fails_while_flagged)
"""

CLIENTS = 8
LOAD_SECONDS = 6.0


def test_a_cli_resume_succeeds_while_api_clients_keep_the_server_writing(
    api: httpx.Client, server: Server, make_project
) -> None:
    project: Project = make_project(FLOWS)
    (project.root / "fail").touch()
    answer = api.post("/api/workflows", json={"project_id": project.id, "workflow": "flaky"})
    flaky_id = answer.json()["id"]
    wait_for_status(api, flaky_id, "failed")
    (project.root / "fail").unlink()

    statuses: list[int] = []
    stop = threading.Event()

    def submit_runs() -> None:
        with httpx.Client(base_url=server.url, headers=api.headers, timeout=30) as client:
            while not stop.is_set():
                body = {"project_id": project.id, "workflow": "quick"}
                statuses.append(client.post("/api/workflows", json=body).status_code)

    clients = [threading.Thread(target=submit_runs) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(1.0)  # the server is busy with what they submit
        started = time.monotonic()
        resumed = run_cli("resume", flaky_id)
        resume_seconds = time.monotonic() - started
        time.sleep(max(0.0, LOAD_SECONDS - 1.0 - resume_seconds))
    finally:
        stop.set()
        for client in clients:
            client.join(30)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(statuses) > CLIENTS * 5, "the clients kept the server busy"
    assert set(statuses) == {201}, f"every submission answered 201: {sorted(set(statuses))}"
    assert wait_for_status(api, flaky_id, "completed", timeout=60)["result"] == "fine"
