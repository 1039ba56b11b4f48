"""Secrets stay out of everything a real server keeps or sends (SPEC 9), end to end: a value
in the server's environment under a secret name, a token known only by its shape, and an arg
the schema marks ``writeOnly`` are printed by a command, returned by a step, annotated, logged
and echoed by an agent, yet appear in no file under the home, no row of the database (the arg
is there sealed only), no API answer, no WebSocket message and no line of the server's own
output; the steps still work with the real values."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from stepstone import fake_agents
from stepstone.store.database import Database
from stepstone.store.redaction import REDACTED
from stepstone.store.schema import metadata, run_secret_args
from stepstone.store.sealing import KEY_FILE
from tests.e2e.server import Server, client_for, wait_for_status
from tests.helpers import Project, spawn_cli

TIMEOUT_SECONDS = 60
TERMINAL = {"completed", "failed", "cancelled"}

FLOW = """
import json
import os

SECRET_ARGS = {
    "type": "object",
    "properties": {
        "deploy_token": {"type": "string", "writeOnly": True},
        "target": {"type": "string"},
    },
    "required": ["deploy_token"],
}


def gather(key: str, arg: str, ref: str) -> dict:
    return {"key": key, "arg": arg, "ref": ref}


def keep(received: dict) -> str:
    (PROJECT / "received.json").write_text(json.dumps(received))  # what the step really got
    return "kept " + " ".join(received.values())


@workflow(id="secretive", args_schema=SECRET_ARGS)
async def secretive(ctx: Context) -> dict:
    key, ref = os.environ["DEPLOY_API_KEY"], os.environ["E2E_BUILD_REF"]
    arg = ctx.args["deploy_token"]
    await ctx.step.cli(
        "print",
        f'echo "key $DEPLOY_API_KEY"; echo "arg {arg}"; echo "ref $E2E_BUILD_REF";'
        f' echo "$DEPLOY_API_KEY {arg} $E2E_BUILD_REF" > cli-received.txt',
    )
    gathered = await ctx.step.run("gather", gather, key, arg, ref)
    await ctx.annotate(f"deploying with {key} and {arg} and {ref}")
    ctx.log.info("the secrets are %s %s %s", key, arg, ref)
    answer = await ctx.step.agent(
        "ask",
        agent="claude",
        prompt=f"Say the keys back\\n@answer the keys are {arg} {key} {ref}",
    )
    await ctx.step.run("keep", keep, {"key": key, "arg": arg, "ref": ref})
    return {"gathered": gathered, "answer": answer.text, "arg": arg}
"""


def random_text(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class Planted:
    """Three fresh secrets per test, each protected by one rule only."""

    def __init__(self) -> None:
        self.api_key = "deploy-" + random_text(24, string.ascii_lowercase + string.digits)
        self.github_token = "ghp_" + random_text(36)  # by its shape; its variable says nothing
        self.arg = "wo-arg-" + random_text(24, string.ascii_lowercase + string.digits)

    @property
    def values(self) -> dict[str, str]:
        return {"key": self.api_key, "arg": self.arg, "ref": self.github_token}

    def found_in(self, data: bytes | str) -> list[str]:
        """Which planted values ``data`` contains (their names, for the failure message)."""
        raw = data.encode() if isinstance(data, str) else data
        return [name for name, value in self.values.items() if value.encode() in raw]


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture
def secret_server(home: Path, db: Database, tmp_path: Path, planted: Planted) -> Iterator[Server]:
    """A real ``stepstone serve`` whose environment holds the secrets and runs the fake
    claude; its stdout and stderr go to ``server.log`` (outside the home), to be searched."""
    server = Server(home)
    env = {
        **os.environ,
        "STEPSTONE_HOME": str(home),
        "STEPSTONE_POLL_SECONDS": "0.05",
        "DEPLOY_API_KEY": planted.api_key,
        "E2E_BUILD_REF": planted.github_token,
        "STEPSTONE_CLAUDE_COMMAND": shlex.join(fake_agents.command("claude")),
        # The fake agent's own record of its calls (holding the real prompt) is not Stepstone's:
        # it is kept outside the home.
        "STEPSTONE_FAKE_AGENT_DIR": str(tmp_path / "fake-agents"),
    }
    with (tmp_path / "server.log").open("wb") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "stepstone", "serve", "--port", str(server.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(server)
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def wait_until_healthy(server: Server) -> None:
    assert server.process is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("server did not answer in time")


def receive_until_done(ws: ClientConnection, run_id: str) -> list[str]:
    """Every message text until the run reaches a final status, then what follows within a
    short grace period (late events)."""
    texts: list[str] = []
    deadline = time.monotonic() + TIMEOUT_SECONDS
    done_at: float | None = None
    while True:
        limit = deadline if done_at is None else min(deadline, done_at + 0.5)
        left = limit - time.monotonic()
        if left <= 0:
            break
        try:
            text = ws.recv(timeout=left)
        except TimeoutError:
            break
        assert isinstance(text, str)
        texts.append(text)
        message = json.loads(text)
        data = message.get("data") or {}
        if (
            done_at is None
            and message["type"] == "workflow.run.updated"
            and data.get("run_id") == run_id
            and data["changes"].get("status") in TERMINAL
        ):
            done_at = time.monotonic()
    assert done_at is not None, f"the run never finished; got {texts}"
    return texts


def home_files(home: Path) -> dict[str, bytes]:
    """The raw bytes of every file under the home."""
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def kept_by_the_server(db: Database, home: Path) -> dict[str, bytes]:
    """Everything the server keeps: the files under the home (the SQLite file among them),
    and on PostgreSQL the rows of every table."""
    kept = home_files(home)
    if db.sqlite_path is None:
        with db.read() as conn:
            for table in metadata.sorted_tables:
                kept[f"table {table.name}"] = repr(conn.execute(select(table)).all()).encode()
    return kept


def api_bodies(api: httpx.Client, run_id: str, project_id: str) -> dict[str, str]:
    """Every answer about the run: the run, the run list, each step's logs, the artifacts."""
    paths = [
        f"/api/workflows/{run_id}",
        f"/api/workflows?project_id={project_id}",
        "/api/workflows",
        f"/api/workflows/{run_id}/artifacts",
    ]
    run = api.get(paths[0]).json()
    for step in run["steps"]:
        paths += [
            f"/api/workflows/{run_id}/steps/{step['key']}/logs",
            f"/api/workflows/{run_id}/steps/{step['id']}/logs",
        ]
    bodies: dict[str, str] = {}
    for path in paths:
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        bodies[path] = answer.text
    return bodies


def leaks(planted: Planted, places: dict[str, bytes] | dict[str, str]) -> dict[str, list[str]]:
    return {place: found for place, data in places.items() if (found := planted.found_in(data))}


def test_planted_secrets_reach_the_steps_but_no_file_api_answer_websocket_message_or_log(
    secret_server: Server,
    db: Database,
    make_project,
    home: Path,
    tmp_path: Path,
    planted: Planted,
) -> None:
    project: Project = make_project(FLOW)
    api = client_for(secret_server, db)
    token = api.headers["Authorization"].split()[1]
    with connect(f"ws://127.0.0.1:{secret_server.port}/ws?token={token}") as ws:
        ws.send(json.dumps({"type": "subscribe", "channels": [f"project:{project.id}"]}))
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        created = api.post(
            "/api/workflows",
            json={
                "project_id": project.id,
                "workflow": "secretive",
                "args": {"deploy_token": planted.arg, "target": "staging"},
            },
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        ws.send(json.dumps({"type": "subscribe", "channels": [f"run:{run_id}"]}))
        messages = receive_until_done(ws, run_id)
    bodies = {"POST /api/workflows": created.text, **api_bodies(api, run_id, project.id)}
    api.close()

    run = json.loads(bodies[f"/api/workflows/{run_id}"])
    assert run["status"] == "completed", run["error_message"]
    # The steps worked with the real values: the function step, the command and the agent.
    assert json.loads((project.root / "received.json").read_text()) == planted.values
    assert (project.root / "cli-received.txt").read_text().split() == [
        planted.api_key,
        planted.arg,
        planted.github_token,
    ]
    calls = (tmp_path / "fake-agents" / "calls.jsonl").read_text()
    assert sorted(planted.found_in(calls)) == ["arg", "key", "ref"]
    # The secret arg is in the database only sealed, under the home's key.
    with db.read() as conn:
        [sealed] = conn.execute(select(run_secret_args.c.sealed)).scalars()
    opened = Fernet((home / KEY_FILE).read_bytes()).decrypt(sealed)
    assert planted.found_in(opened) == ["arg"]
    assert not (home / "run-secrets").exists()

    # What is kept and shown has the secrets replaced.
    assert created.json()["args"] == {"deploy_token": REDACTED, "target": "staging"}
    assert run["result"]["arg"] == REDACTED
    assert run["result"]["answer"] == f"the keys are {REDACTED} {REDACTED} {REDACTED}"
    api_text = "\n".join(bodies.values())
    ws_text = "\n".join(messages)
    assert REDACTED in api_text
    assert REDACTED in ws_text, "nothing redacted was streamed: the check would prove nothing"
    assert any('"stream": "agent"' in m or '"stream":"agent"' in m for m in messages)
    while_serving = kept_by_the_server(db, home)
    assert "stepstone.db" in while_serving or "table workflow_runs" in while_serving
    assert REDACTED.encode() in b"".join(while_serving.values())

    assert leaks(planted, bodies) == {}, "secrets in API answers"
    assert leaks(planted, {f"message {i}": m for i, m in enumerate(messages)}) == {}, (
        "secrets in WebSocket messages"
    )
    assert leaks(planted, while_serving) == {}, "secrets in files under the home (server up)"

    assert secret_server.stop() in (0, -signal.SIGTERM)
    stopped = kept_by_the_server(db, home)
    assert leaks(planted, stopped) == {}, "secrets in what the server keeps (stopped)"
    server_log = (tmp_path / "server.log").read_bytes()
    assert leaks(planted, {"server.log": server_log}) == {}, "secrets in the server's output"


RECEIVES = """
@workflow(
    id="receives",
    args_schema={"type": "object", "properties": {"token": {"type": "string", "writeOnly": True}}},
)
async def receives(ctx: Context) -> None:
    await ctx.step.run("keep", lambda: (PROJECT / "received.txt").write_text(ctx.args["token"]))
"""


def test_processes_with_their_own_homes_and_the_shared_secrets_serve_and_execute_one_run(
    db: Database,
    database_url: str,
    make_project,
    tmp_path: Path,
    planted: Planted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two API processes and a worker, each with a home of its own (three machines), set
    with the same STEPSTONE_JWT_SECRET and STEPSTONE_SECRET_KEY: a token from one API process
    works on the other, and the worker opens the secret arg of a run started through the
    API."""
    shared = {
        "STEPSTONE_DATABASE_URL": database_url,
        "STEPSTONE_JWT_SECRET": secrets.token_urlsafe(32),
        "STEPSTONE_SECRET_KEY": Fernet.generate_key().decode(),
    }
    homes = {name: tmp_path / name for name in ("api-1", "api-2", "worker")}
    first = Server(homes["api-1"], env=shared, args=("--no-worker",)).start()
    second = Server(homes["api-2"], env=shared, args=("--no-worker",)).start()
    project: Project = make_project(RECEIVES)
    for name, value in {**shared, "STEPSTONE_HOME": str(homes["worker"])}.items():
        monkeypatch.setenv(name, value)
    spawn_cli("worker")
    try:
        api = client_for(first, db)
        created = api.post(
            "/api/workflows",
            json={"project_id": project.id, "workflow": "receives", "args": {"token": planted.arg}},
        )
        assert created.status_code == 201, created.text
        api.base_url = httpx.URL(second.url)  # the same token, another API process
        run = wait_for_status(api, created.json()["id"], "completed")
        api.close()
    finally:
        first.stop()
        second.stop()

    assert run["args"] == {"token": REDACTED}
    assert (project.root / "received.txt").read_text() == planted.arg
    for home in homes.values():
        assert leaks(planted, home_files(home)) == {}
        assert not (home / KEY_FILE).exists(), "the key is the setting's: no key file"
        assert not (home / "jwt-secret").exists(), "the signing secret is the setting's"
    assert leaks(planted, kept_by_the_server(db, db.files_dir)) == {}, "the database"
