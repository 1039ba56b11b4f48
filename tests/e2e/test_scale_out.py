"""Many processes on PostgreSQL (SPEC 4): worker processes and an API-only process share the
runs; a worker killed or frozen loses its runs to the others, and its late writes are
refused by the lease fence."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from stepstone.store.database import Database
from tests.e2e.server import Server, client_for
from tests.helpers import Project, spawn_cli, wait_for

pytestmark = pytest.mark.postgresql_only

LEASE_SECONDS = "2"
RUNS = 50

GUARDED = """
def guarded(name: str) -> str:
    # Two live processes in one step at once is the one thing that must never happen: the
    # running marker holds the pid of the process in the step.
    marker = PROJECT / "running" / name.replace("/", "-")
    marker.parent.mkdir(exist_ok=True)
    if marker.exists():
        holder = int(marker.read_text() or 0)
        try:
            os.kill(holder, 0)
            effect("OVERLAP:" + name)
        except ProcessLookupError:
            pass  # left by a killed worker
    marker.write_text(str(os.getpid()))
    time.sleep(0.3)
    effect(name)
    marker.unlink(missing_ok=True)
    return name


@workflow(id="scaled")
async def scaled(ctx: Context) -> None:
    for number in range(3):
        await ctx.step.run(f"step-{number}", guarded, f"{ctx.run.id}/{number}")


def wait_for_go(name: str) -> int:
    touch(f"started-{os.getpid()}")
    while not flag("go"):
        time.sleep(0.05)
    effect(f"{name}-by-{os.getpid()}")
    return os.getpid()


def stamped() -> float:
    time.sleep(0.2)
    return time.time()


@workflow(id="ticks")
async def ticks(ctx: Context) -> None:
    for number in range(5):
        await ctx.step.run(f"tick-{number}", stamped)


def spanned() -> None:
    started = time.time()
    time.sleep(0.4)
    effect(f"span:{started}:{time.time()}")


@workflow(id="limited")
async def limited(ctx: Context) -> None:
    await ctx.step.run("work", spanned)


@workflow(id="fenced")
async def fenced(ctx: Context) -> int:
    return await ctx.step.run("slow", wait_for_go, "slow")
"""


@pytest.fixture
def short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processes the test starts give up a lease 2 s after their last heartbeat."""
    monkeypatch.setenv("STEPSTONE_LEASE_SECONDS", LEASE_SECONDS)
    monkeypatch.setenv("STEPSTONE_POLL_SECONDS", "0.05")


def start_workers(count: int) -> list[subprocess.Popen[str]]:
    workers = [spawn_cli("worker", "--concurrency", "8") for _ in range(count)]
    for worker in workers:  # up (each prints a banner) before runs are queued
        assert worker.stderr is not None
        assert "worker" in worker.stderr.readline()
    return workers


def runs_of(api: httpx.Client) -> list[dict[str, Any]]:
    page = api.get("/api/workflows", params={"limit": 200})
    assert page.status_code == 200, page.text
    return list(page.json()["data"])


def owner_pid(api: httpx.Client, run_id: str) -> int | None:
    run = api.get(f"/api/workflows/{run_id}").json()
    started = [e for e in run["events"] if e["type"] == "workflow_started"]
    return int(started[-1]["message"].split(":")[1]) if started else None


def test_a_worker_killed_among_three_loses_its_runs_which_complete_after_resume(
    home: Any, db: Database, make_project, short_leases: None
) -> None:
    project: Project = make_project(GUARDED)
    api_server = Server(home, args=("--no-worker",)).start()
    workers = start_workers(3)
    api = client_for(api_server, db)
    try:
        run_ids = [
            api.post(
                "/api/workflows", json={"project_id": project.id, "workflow": "scaled"}
            ).json()["id"]
            for _ in range(RUNS)
        ]
        victim = workers[0]

        def victim_holds_a_running_run() -> bool:
            running = [r for r in runs_of(api) if r["status"] == "running" and r["is_live"]]
            return any(owner_pid(api, run["id"]) == victim.pid for run in running)

        wait_for(victim_holds_a_running_run, 30, "the first worker to hold a run")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        def settled() -> bool:
            runs = runs_of(api)
            return all(r["status"] == "completed" or not r["is_live"] for r in runs)

        wait_for(settled, 90, "the other runs to complete and the victim's to be orphaned")
        runs = runs_of(api)
        orphaned = [r["id"] for r in runs if r["status"] == "running"]
        assert orphaned, "the killed worker's runs wait for Resume"
        assert {owner_pid(api, run_id) for run_id in orphaned} == {victim.pid}
        assert all(r["status"] in ("completed", "running") for r in runs), "others undisturbed"
        for run_id in orphaned:
            assert api.post(f"/api/workflows/{run_id}/resume").status_code == 200
        wait_for(
            lambda: all(r["status"] == "completed" for r in runs_of(api)),
            90,
            "every run to complete after the resume",
        )
    finally:
        api.close()
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        api_server.stop()
    effects = project.effects()
    assert not [e for e in effects if e.startswith("OVERLAP")], "no step ran in two workers"
    counts = collections.Counter(effects)
    expected = {f"{run_id}/{n}" for run_id in run_ids for n in range(3)}
    assert set(counts) == expected
    rerun = {name for name, count in counts.items() if count > 1}
    assert len(rerun) <= len(orphaned), "only steps cut off by the kill ran again"
    assert {name.split("/")[0] for name in rerun} <= set(orphaned)


def test_a_frozen_workers_late_write_is_refused_and_the_new_owner_decides(
    home: Any, db: Database, make_project, short_leases: None
) -> None:
    project: Project = make_project(GUARDED)
    api_server = Server(home, args=("--no-worker",)).start()
    api = client_for(api_server, db)
    (first,) = start_workers(1)
    try:
        run_id = api.post(
            "/api/workflows", json={"project_id": project.id, "workflow": "fenced"}
        ).json()["id"]
        wait_for(lambda: (project.root / f"started-{first.pid}").exists(), 30, "the step")
        first.send_signal(signal.SIGSTOP)
        wait_for(
            lambda: not api.get(f"/api/workflows/{run_id}").json()["is_live"],
            30,
            "the frozen worker's lease to expire",
        )
        assert api.post(f"/api/workflows/{run_id}/resume").status_code == 200
        (second,) = start_workers(1)
        wait_for(lambda: (project.root / f"started-{second.pid}").exists(), 30, "the new owner")
        (project.root / "go").touch()
        wait_for(
            lambda: api.get(f"/api/workflows/{run_id}").json()["status"] == "completed",
            30,
            "the new owner to complete the run",
        )
        first.send_signal(signal.SIGCONT)
        wait_for(
            lambda: f"slow-by-{first.pid}" in project.effects(),
            30,
            "the thawed worker to finish its step",
        )
        assert first.poll() is None, "the refused write ends the attempt, not the worker"
        run = api.get(f"/api/workflows/{run_id}").json()
    finally:
        api.close()
        first.send_signal(signal.SIGCONT)
        api_server.stop()
    (step,) = run["steps"]
    assert step["output"] == second.pid, "the outcome comes from the new owner"
    assert run["status"] == "completed"
    completed = [a for a in step["attempts"] if a["status"] == "completed"]
    assert len(completed) == 1, "the late completion was never recorded"
    assert os.path.exists(project.root / f"started-{first.pid}")


def test_a_websocket_on_an_api_process_sees_another_processs_steps_in_order_at_once(
    home: Any, db: Database, make_project, short_leases: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API process looks for changes every 30 s on its own: only the notifications of the
    # worker's commits can bring the messages sooner.
    monkeypatch.setenv("STEPSTONE_LIVE_POLL_SECONDS", "30")
    project: Project = make_project(GUARDED)
    api_server = Server(home, args=("--no-worker",)).start()
    api = client_for(api_server, db)
    (worker,) = start_workers(1)
    token = api.headers["Authorization"].split()[1]
    arrivals: list[tuple[float, dict[str, Any]]] = []
    try:
        with connect(f"ws://127.0.0.1:{api_server.port}/ws?token={token}") as ws:
            ws.send(json.dumps({"type": "subscribe", "channels": [f"project:{project.id}"]}))
            assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
            run_id = api.post(
                "/api/workflows", json={"project_id": project.id, "workflow": "ticks"}
            ).json()["id"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
                arrivals.append((time.time(), message))
                changes = message["data"].get("changes", {})
                if message["type"] == "workflow.run.updated" and changes.get("status") in (
                    "completed",
                    "failed",
                ):
                    break
    finally:
        api.close()
        worker.send_signal(signal.SIGTERM)
        api_server.stop()
    told = [
        (m["type"], m["data"]["changes"]["status"] if "changes" in m["data"] else "created")
        for _, m in arrivals
        if m["type"].startswith("workflow.run.step.") and m["data"]["run_id"] == run_id
    ]
    assert told == [
        (kind, status)
        for _ in range(5)
        for kind, status in (
            ("workflow.run.step.created", "created"),
            ("workflow.run.step.updated", "completed"),
        )
    ]
    created = [
        m["data"]["step"]["key"] for _, m in arrivals if m["type"] == "workflow.run.step.created"
    ]
    assert created == [f"tick-{n}" for n in range(5)]
    delays = [
        arrived - m["data"]["changes"]["output"]
        for arrived, m in arrivals
        if m["type"] == "workflow.run.step.updated"
    ]
    assert max(delays) < 5, f"each step was told as it completed, not at the 30 s poll: {delays}"
    statuses = [
        m["data"]["changes"]["status"]
        for _, m in arrivals
        if m["type"] == "workflow.run.updated" and "status" in m["data"]["changes"]
    ]
    assert statuses == ["pending", "running", "completed"]


def test_a_projects_limit_of_runs_at_once_holds_across_worker_processes(
    home: Any, db: Database, make_project, short_leases: None
) -> None:
    project: Project = make_project(GUARDED)
    api_server = Server(home, args=("--no-worker",)).start()
    api = client_for(api_server, db)
    limit = api.patch(f"/api/projects/{project.id}", json={"max_concurrent_runs": 2})
    assert limit.json()["max_concurrent_runs"] == 2
    workers = start_workers(2)
    try:
        for _ in range(8):
            api.post("/api/workflows", json={"project_id": project.id, "workflow": "limited"})
        wait_for(
            lambda: all(r["status"] == "completed" for r in runs_of(api)),
            60,
            "every run to complete",
        )
    finally:
        api.close()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        api_server.stop()
    spans = [
        tuple(map(float, e.split(":")[1:])) for e in project.effects() if e.startswith("span:")
    ]
    assert len(spans) == 8
    at_once = max(sum(1 for s, e in spans if s <= moment < e) for moment, _ in spans)
    assert at_once == 2, "never more than the limit, and the limit is used"
