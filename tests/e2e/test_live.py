"""Live messages over the WebSocket from a real server (SPEC 6)."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from stepstone.store.database import Database
from tests.e2e.server import Server, client_for, wait_for_status
from tests.helpers import Project

FLOWS = """
@workflow(id="two-steps")
async def two_steps(ctx: Context) -> None:
    await ctx.step.run("first", effect, "first")
    await ctx.step.run("second", lambda: 1 / 0 if flag("fail") else effect("second"))
"""


def ws_url(server: Server, token: str) -> str:
    return f"ws://127.0.0.1:{server.port}/ws?token={token}"


def receive_until(ws: ClientConnection, done: callable, timeout: float = 20) -> list[dict]:  # type: ignore[valid-type]
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages.append(json.loads(ws.recv(timeout=deadline - time.monotonic())))
        if done(messages[-1]):
            return messages
    raise AssertionError(f"no closing message; got {messages}")


def test_a_subscriber_sees_the_resume_then_the_steps_in_order(
    server: Server, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    api = client_for(server, db)
    (project.root / "fail").touch()
    token = api.headers["Authorization"].split()[1]

    with connect(ws_url(server, token)) as ws:
        ws.send(json.dumps({"type": "subscribe", "channels": [f"project:{project.id}"]}))
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        run_id = api.post(
            "/api/workflows", json={"project_id": project.id, "workflow": "two-steps"}
        ).json()["id"]
        receive_until(  # the failure told (its status, then the row's error), before the resume
            ws,
            lambda m: (
                m["type"] == "workflow.run.updated"
                and bool(m["data"]["changes"].get("error_message"))
            ),
        )
        (project.root / "fail").unlink()
        assert api.post(f"/api/workflows/{run_id}/resume").status_code == 200
        messages = receive_until(
            ws,
            lambda m: (
                m["type"] == "workflow.run.updated"
                and m["data"]["changes"].get("status") == "completed"
            ),
        )
    api.close()
    about_run = [m for m in messages if m["data"].get("run_id") == run_id]
    assert all(m["channel"] == f"project:{project.id}" for m in about_run)
    # The resume comes first: its status, sent by the request or by the feed with the
    # workflow_resumed event (whichever is first: the commit may be made by another caller
    # of its group), and nothing of the steps before it.
    first = next(m for m in about_run if m["type"] == "workflow.run.updated")
    assert first["data"]["changes"]["status"] == "pending"
    before = about_run[: about_run.index(first)]
    assert all(m["type"] == "workflow.run.event.created" for m in before), before
    statuses = [
        m["data"]["changes"]["status"]
        for m in about_run
        if m["type"] == "workflow.run.updated" and "status" in m["data"]["changes"]
    ]
    assert statuses == ["pending", "running", "completed"]
    second_step = [
        m["data"]["changes"].get("status")
        for m in about_run
        if m["type"] == "workflow.run.step.updated"
    ]
    assert second_step[-1] == "completed"
    assert "running" in second_step
    assert second_step.index("running") < second_step.index("completed")
    events = [m["data"]["event"]["type"] for m in about_run if m["type"].endswith("event.created")]
    assert "workflow_resumed" in events


def test_new_steps_and_their_output_arrive_live(server: Server, db: Database, make_project) -> None:
    project: Project = make_project(
        FLOWS
        + """
@workflow(id="talky")
async def talky(ctx: Context) -> None:
    await ctx.step.cli("say", "echo hello; echo world")
"""
    )
    api = client_for(server, db)
    token = api.headers["Authorization"].split()[1]
    with connect(ws_url(server, token)) as ws:
        ws.send(json.dumps({"type": "subscribe", "channels": [f"project:{project.id}"]}))
        ws.recv(timeout=5)
        api.post("/api/workflows", json={"project_id": project.id, "workflow": "talky"})
        messages = receive_until(
            ws,
            lambda m: (
                m["type"] == "workflow.run.updated"
                and m["data"]["changes"].get("status") == "completed"
            ),
        )
    api.close()
    kinds = [m["type"] for m in messages]
    assert "workflow.run.step.created" in kinds
    lines = [
        line["line"]
        for m in messages
        if m["type"] == "workflow.run.step.log_chunk"
        for line in m["data"]["lines"]
    ]
    assert lines == ["hello", "world"]


def test_a_connection_without_a_valid_token_is_refused(server: Server) -> None:
    for url in (f"ws://127.0.0.1:{server.port}/ws", ws_url(server, "forged")):
        with pytest.raises(InvalidStatus) as refused:
            connect(url)
        assert refused.value.response.status_code == 403


def test_runs_of_other_users_are_not_sent_and_cannot_be_subscribed(
    server: Server, db: Database, make_project
) -> None:
    project: Project = make_project(FLOWS)
    owner = client_for(server, db)
    other = client_for(server, db, email="other@example.com")
    other_token = other.headers["Authorization"].split()[1]
    run_id = owner.post(
        "/api/workflows", json={"project_id": project.id, "workflow": "two-steps"}
    ).json()["id"]
    with connect(ws_url(server, other_token)) as ws:
        ws.send(json.dumps({"type": "subscribe", "channels": [f"run:{run_id}"]}))
        reply = json.loads(ws.recv(timeout=5))
        assert reply["type"] == "error"
        assert "another user" in reply["data"]["message"]
        ws.send(json.dumps({"type": "subscribe", "channels": [f"project:{project.id}"]}))
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        owner.post("/api/workflows", json={"project_id": project.id, "workflow": "two-steps"})
        wait_for_status(owner, run_id, "completed")
        time.sleep(0.5)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
    owner.close()
    other.close()


def test_a_message_nested_too_deeply_is_answered_with_an_error_and_the_socket_stays(
    server: Server, db: Database
) -> None:
    client = client_for(server, db)
    token = client.headers["Authorization"].split()[1]
    with connect(ws_url(server, token)) as ws:
        ws.send("[" * 5000 + "]" * 5000)
        assert json.loads(ws.recv(timeout=5))["type"] == "error"
        ws.send(json.dumps({"type": "subscribe", "channels": []}))
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
    client.close()
