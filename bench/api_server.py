"""A real ``python -m stepstone serve`` process for the API benchmarks: a throwaway home on
disk, one user, one project holding ``bench/workflows.py``, and a logged-in token."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import WORKFLOWS_FILE
from stepstone.services.projects import add_project
from stepstone.services.users import create_user
from stepstone.store.database import Database

EMAIL = "bench@example.com"
PASSWORD = "correct-horse-battery-staple"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    """A loopback port nobody listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ApiServer:
    """The running server and what the benchmarks need to talk to it."""

    root: Path
    """The temporary folder: ``home`` (STEPSTONE_HOME) and ``project``."""
    db: Database
    """The server's database, opened in this process too (setup and checks only)."""
    url: str
    token: str
    project_id: str
    user_id: str
    process: subprocess.Popen[bytes]

    @property
    def ws_url(self) -> str:
        return f"ws{self.url.removeprefix('http')}/ws?token={self.token}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **options: Any) -> httpx.Client:
        """A blocking client with the token (setup and waiting, not the measurements)."""
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30, **options)

    def start_run(self, client: httpx.Client, workflow: str, args: dict[str, Any]) -> str:
        """``POST /api/workflows``; returns the new run's id."""
        answer = client.post(
            "/api/workflows",
            json={"project_id": self.project_id, "workflow": workflow, "args": args},
        )
        if answer.status_code != 201:
            raise RuntimeError(f"starting {workflow} answered {answer.status_code}: {answer.text}")
        return str(answer.json()["id"])


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Call ``check()`` until it returns something true; RuntimeError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class PreparedHome:
    """A fresh STEPSTONE_HOME with one user and one project, before any server runs."""

    root: Path
    home: Path
    db: Database
    user_id: str
    project_id: str


@contextmanager
def prepared_home() -> Iterator[PreparedHome]:
    """A throwaway folder on disk (like the engine benchmarks): ``home`` with the migrated
    database and the user, ``project`` holding ``bench/workflows.py``."""
    with tempfile.TemporaryDirectory(prefix="stepstone-bench-api-") as tmp:
        root = Path(tmp)
        home = root / "home"
        workflows_dir = root / "project" / ".stepstone" / "workflows"
        workflows_dir.mkdir(parents=True)
        shutil.copyfile(WORKFLOWS_FILE, workflows_dir / "bench.py")
        db = Database.open(f"sqlite:///{home / 'stepstone.db'}")
        try:
            user = create_user(db, EMAIL, PASSWORD)
            project = add_project(db, root / "project", name="bench-api", user_id=user["id"])
            yield PreparedHome(root, home, db, str(user["id"]), str(project["id"]))
        finally:
            db.dispose()


@contextmanager
def api_server(extra_env: dict[str, str] | None = None) -> Iterator[ApiServer]:
    """Start ``python -m stepstone serve --port <free port>`` on a fresh home, log in, yield,
    then stop it with SIGTERM (SIGKILL if it hangs)."""
    with prepared_home() as prepared:
        port = free_port()
        env = {**os.environ, "STEPSTONE_HOME": str(prepared.home), **(extra_env or {})}
        log_file = prepared.root / "server.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "stepstone", "serve", "--port", str(port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for_health(url, process, log_file)
            yield ApiServer(
                root=prepared.root,
                db=prepared.db,
                url=url,
                token=login(url),
                project_id=prepared.project_id,
                user_id=prepared.user_id,
                process=process,
            )
        finally:
            _stop(process)


def wait_for_health(
    url: str, process: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    """Until ``GET /api/health`` answers 200; RuntimeError if ``process`` exits first."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            assert log is not None
            raise RuntimeError(f"the server exited at start: {log.read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_SECONDS:g} s")


def login(url: str) -> str:
    """A bearer token for the benchmark's user."""
    answer = httpx.post(
        f"{url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by its handle), SIGKILL it if it does not stop."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
