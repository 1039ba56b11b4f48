"""A real ``python -m stepstone serve`` process for the API benchmarks: a throwaway home on
disk (its database a SQLite file in it, or a given PostgreSQL database), one user, one project
holding ``bench/workflows.py``, and a logged-in token; optionally API-only, with separate
``python -m stepstone worker`` processes executing the runs."""

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

from bench.harness import WORKFLOWS_FILE, home_database_url
from stepstone.services.projects import add_project
from stepstone.services.users import create_user
from stepstone.store.database import Database

EMAIL = "bench@example.com"
PASSWORD = "correct-horse-battery-staple"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0
WORKER_BANNER = "Ctrl-C to stop"
"""What ``stepstone worker`` prints (to stderr) once it is up and claiming."""


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
    workers: tuple[subprocess.Popen[bytes], ...] = ()
    """The separate ``stepstone worker`` processes, if any."""

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
def prepared_home(database_url: str | None = None) -> Iterator[PreparedHome]:
    """A throwaway folder on disk (like the engine benchmarks): ``home`` with the migrated
    database (a SQLite file in it, or ``database_url``) and the user, ``project`` holding
    ``bench/workflows.py``."""
    with tempfile.TemporaryDirectory(prefix="stepstone-bench-api-") as tmp:
        root = Path(tmp)
        home = root / "home"
        workflows_dir = root / "project" / ".stepstone" / "workflows"
        workflows_dir.mkdir(parents=True)
        shutil.copyfile(WORKFLOWS_FILE, workflows_dir / "bench.py")
        db = Database.open(home_database_url(home, database_url), files_dir=home)
        try:
            user = create_user(db, EMAIL, PASSWORD)
            project = add_project(db, root / "project", name="bench-api", user_id=user["id"])
            yield PreparedHome(root, home, db, str(user["id"]), str(project["id"]))
        finally:
            db.dispose()


def process_env(
    home: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a Stepstone process on this home: ``STEPSTONE_HOME``, and
    ``STEPSTONE_DATABASE_URL`` when the database is not the home's SQLite file (never
    inherited from the caller's environment)."""
    env = {**os.environ, "STEPSTONE_HOME": str(home), **(extra_env or {})}
    env.pop("STEPSTONE_DATABASE_URL", None)
    if database_url is not None:
        env["STEPSTONE_DATABASE_URL"] = database_url
    return env


@contextmanager
def api_server(
    extra_env: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
    with_worker: bool = True,
    worker_processes: int = 0,
) -> Iterator[ApiServer]:
    """Start ``python -m stepstone serve --port <free port>`` (with ``--no-worker`` unless
    ``with_worker``) on a fresh home whose database is its SQLite file or ``database_url``,
    then ``worker_processes`` separate ``python -m stepstone worker`` processes on the same
    home; log in, yield, then stop them all with SIGTERM (SIGKILL if one hangs)."""
    with prepared_home(database_url) as prepared:
        port = free_port()
        env = process_env(prepared.home, database_url, extra_env)
        log_file = prepared.root / "server.log"
        command = [sys.executable, "-m", "stepstone", "serve", "--port", str(port)]
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [*command, *([] if with_worker else ["--no-worker"])],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for_health(url, process, log_file)
            with started_workers(worker_processes, env, prepared.root) as workers:
                yield ApiServer(
                    root=prepared.root,
                    db=prepared.db,
                    url=url,
                    token=login(url),
                    project_id=prepared.project_id,
                    user_id=prepared.user_id,
                    process=process,
                    workers=tuple(workers),
                )
        finally:
            stop_processes([process])


@contextmanager
def started_workers(
    count: int, env: dict[str, str], log_dir: Path, *, concurrency: int | None = None
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``python -m stepstone worker`` processes (``--concurrency`` if given, else
    their default), each up (its banner printed) before this yields; stopped afterwards
    with SIGTERM, by their handles. Their output goes to ``log_dir/worker-N.log``."""
    option = [] if concurrency is None else ["--concurrency", str(concurrency)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        logs = []
        for number in range(1, count + 1):
            log_file = log_dir / f"worker-{number}.log"
            with log_file.open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "stepstone", "worker", *option],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            logs.append(log_file)
        for process, log_file in zip(processes, logs, strict=True):
            _wait_for_banner(process, log_file)
        yield processes
    finally:
        stop_processes(processes)


def _wait_for_banner(process: subprocess.Popen[bytes], log_file: Path) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"a worker exited at start: {log_file.read_text()}")
        return WORKER_BANNER in log_file.read_text()

    wait_until(up, START_TIMEOUT_SECONDS, f"the worker {process.pid} to start", interval=0.02)


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


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process we started (by its handle) that still runs, then wait for each;
    SIGKILL one that does not stop."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
