"""Waiting runs (SPEC 3.12) through a real server and the real CLI: a run parked on an event
survives the server's kill -9 and goes on when the event is sent, without Resume; an
approval decided from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from stepstone.store.database import Database
from tests.e2e.server import Server, client_for, wait_for_status
from tests.helpers import Project, run_cli, wait_for

FLOWS = """
@workflow(id="ci")
async def ci(ctx: Context) -> dict:
    await ctx.step.run("build", effect, "build")
    report = await ctx.step.wait_for_event("ci", event="ci-passed")
    await ctx.step.run("after", effect, "after")
    return report


@workflow(id="quick")
async def quick(ctx: Context) -> str:
    return await ctx.step.run("only", effect, "quick")


@workflow(id="review")
async def review(ctx: Context) -> dict:
    decision = await ctx.step.approval("merge", prompt="Merge this?")
    branch = "merged" if decision.approved else "revised"
    await ctx.step.run(branch, effect, branch)
    return {"approved": decision.approved, "by": decision.by, "comment": decision.comment}
"""
ONE_SLOT = {"STEPSTONE_WORKER_CONCURRENCY": "1"}


def start(api: httpx.Client, project: Project, workflow: str) -> str:
    answer = api.post("/api/workflows", json={"project_id": project.id, "workflow": workflow})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_waiting_run_survives_kill_9_and_goes_on_when_its_event_is_sent(
    home: Path, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    first = Server(home, env=ONE_SLOT).start()
    api = client_for(first, db)
    try:
        run_id = start(api, project, "ci")
        parked = wait_for_status(api, run_id, "waiting")
        assert parked["waiting_for"]["event"] == "ci-passed"
        assert parked["is_live"] is False
        # The only slot is free: another run completes while this one waits.
        wait_for_status(api, start(api, project, "quick"), "completed")
        first.kill()

        second = Server(home, port=first.port, env=ONE_SLOT).start()
    except BaseException:
        first.kill()
        api.close()
        raise
    try:
        after_restart = api.get(f"/api/workflows/{run_id}").json()
        assert (after_restart["status"], after_restart["is_live"]) == ("waiting", False)
        body = {"name": "ci-passed", "data": {"green": True}, "id": "build-41"}
        sent = api.post(f"/api/workflows/{run_id}/events", json=body)
        assert sent.status_code == 202, sent.text
        assert (sent.json()["duplicate"], sent.json()["woke"]) == (False, True)
        done = wait_for_status(api, run_id, "completed")
        assert done["result"] == {"green": True}
        assert done["resume_count"] == 0, "nobody resumed it"
        assert (project.count("build"), project.count("after")) == (1, 1)

        again = api.post(f"/api/workflows/{run_id}/events", json=body)
        assert again.status_code == 400, "a completed run takes no events"
        bad = api.post(f"/api/workflows/{run_id}/events", json={"name": "approval:merge"})
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid_input"
        refused = api.post(f"/api/workflows/{run_id}/approvals/ci", json={"approved": True})
        assert refused.status_code == 400
        assert "not waiting for an approval" in refused.json()["error"]["message"]
    finally:
        second.stop()
        api.close()


def test_an_event_sent_twice_with_one_id_is_delivered_once_through_the_api(
    home: Path, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    server = Server(home).start()
    api = client_for(server, db)
    try:
        run_id = start(api, project, "ci")
        wait_for_status(api, run_id, "waiting")
        body = {"name": "other", "data": 1, "id": "same"}
        first = api.post(f"/api/workflows/{run_id}/events", json=body).json()
        second = api.post(f"/api/workflows/{run_id}/events", json=body).json()
        assert (first["duplicate"], first["woke"]) == (False, False)
        assert (second["duplicate"], second["woke"]) == (True, False)
        run = api.get(f"/api/workflows/{run_id}").json()
        assert run["status"] == "waiting", "an event of another name leaves it waiting"
        assert [e["type"] for e in run["events"]].count("event_received") == 1
    finally:
        server.stop()
        api.close()


def test_approve_and_send_from_the_cli(home: Path, db: Database, make_project) -> None:
    project: Project = make_project(FLOWS)
    server = Server(home).start()
    api = client_for(server, db)
    try:
        review_id = start(api, project, "review")
        wait_for_status(api, review_id, "waiting")
        shown = run_cli("show", review_id, check=True).stdout
        assert "step merge asks 'Merge this?'" in shown
        assert f"decide with `stepstone approve {review_id} [--reject]`" in shown
        approved = run_cli("approve", review_id[:8], "--comment", "ship it", check=True)
        assert approved.stdout.strip() == f"approved: run {review_id} goes on"
        done = wait_for_status(api, review_id, "completed")
        assert done["result"]["approved"] is True
        assert done["result"]["comment"] == "ship it"
        assert done["result"]["by"].endswith("(CLI)")
        assert project.effects() == ["merged"]
        late = run_cli("approve", review_id, "--reject")
        assert late.returncode == 1
        assert "not waiting for an approval" in late.stderr

        ci_id = start(api, project, "ci")
        wait_for_status(api, ci_id, "waiting")
        bad = run_cli("send", ci_id, "ci-passed", "--data", "{not json")
        assert (bad.returncode, "--data is not JSON" in bad.stderr) == (1, True)
        sent = run_cli("send", ci_id, "ci-passed", "--data", '{"n": 7}', "--id", "x", "--json")
        assert json.loads(sent.stdout)["woke"] is True
        wait_for(lambda: api.get(f"/api/workflows/{ci_id}").json()["status"] == "completed")
        repeated = run_cli("send", ci_id, "ci-passed", "--id", "x")
        assert repeated.returncode == 1, "a completed run takes no events"
        assert api.get(f"/api/workflows/{ci_id}").json()["result"] == {"n": 7}
    finally:
        server.stop()
        api.close()
