"""Automatic recovery against real processes (SPEC 3.13): a step that kills its server every
time is resumed three times without a click, then left interrupted with a message."""

from __future__ import annotations

import contextlib
from pathlib import Path

from stepstone.store.database import Database
from tests.e2e.server import Server, client_for
from tests.helpers import Project, wait_for

KILLER = """
import signal


def kill_my_worker() -> None:
    effect("boom")
    os.kill(os.getpid(), signal.SIGKILL)


@workflow(id="killer", auto_resume=True)
async def killer(ctx: Context) -> None:
    await ctx.step.run("before", effect, "before")
    await ctx.step.run("boom", kill_my_worker)
"""


def start_to_be_killed(home: Path, port: int) -> Server:
    """A server the step may kill before it even answers (recovery starts with it)."""
    server = Server(home, port=port)
    with contextlib.suppress(RuntimeError):  # it died before answering: the caller checks how
        server.start()
    return server


def test_a_step_that_kills_its_worker_every_time_is_resumed_three_times_then_left(
    home: Path, db: Database, make_project
) -> None:
    project: Project = make_project(KILLER)
    server = Server(home).start()
    api = client_for(server, db)
    answer = api.post("/api/workflows", json={"project_id": project.id, "workflow": "killer"})
    run_id = answer.json()["id"]
    try:
        for restarts in range(4):
            assert server.process is not None
            server.process.wait(timeout=30)  # until the step kills it
            assert server.stop() == -9, "the step killed the server"
            assert project.count("boom") == restarts + 1
            server = start_to_be_killed(home, server.port)

        def given_up() -> bool:
            return api.get(f"/api/workflows/{run_id}").json()["error_message"] is not None

        wait_for(given_up, timeout=30)
        run = api.get(f"/api/workflows/{run_id}").json()
        assert (run["status"], run["is_live"]) == ("running", False)
        assert run["error_message"] == (
            "automatic recovery stopped: resumed 3 times in a row without completing a step,"
            " its worker ended in step boom each time; resume it by hand once that is fixed"
        )
        resumed = [e["reason"] for e in run["events"] if e["type"] == "workflow_resumed"]
        assert resumed == ["automatic"] * 3
        assert (project.count("before"), project.count("boom")) == (1, 4)
        assert server.process is not None
        assert server.process.poll() is None, "the last server lives on"
    finally:
        server.stop()
        api.close()
