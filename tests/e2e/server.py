"""A real `stepstone serve` process on a free loopback port, and an HTTP client for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from stepstone.services.users import create_user
from stepstone.store.database import Database
from tests.helpers import wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process on ``home``; ``kill()`` is a real SIGKILL."""

    def __init__(
        self,
        home: Path,
        port: int | None = None,
        *,
        env: dict[str, str] | None = None,
        umask: int = -1,
        args: tuple[str, ...] = (),
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = env or {}
        self.umask = umask
        self.args = args

    def start(self) -> Server:
        env = {
            **os.environ,
            "STEPSTONE_HOME": str(self.home),
            "STEPSTONE_POLL_SECONDS": "0.05",
            **self.env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stepstone", "serve", "--port", str(self.port), *self.args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            umask=self.umask,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not answer in time")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close_pipe()

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        exit_code = self.process.wait(timeout=30)
        self._close_pipe()
        return exit_code

    def _close_pipe(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


PASSWORD = "correct-horse-battery"


def client_for(
    server: Server, db: Database, email: str = "dev@example.com", *, admin: bool = False
) -> httpx.Client:
    """An HTTP client logged in as a (new) user; the first user is an admin."""
    password = PASSWORD
    create_user(db, email, password, admin=admin)
    client = httpx.Client(base_url=server.url, timeout=30)
    answer = client.post("/api/auth/login", json={"email": email, "password": password})
    answer.raise_for_status()
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return client


def wait_for_status(client: httpx.Client, run_id: str, status: str, timeout: float = 30) -> Any:
    """The run, once the API shows it with ``status``."""
    seen: list[Any] = []

    def reached() -> bool:
        seen.append(client.get(f"/api/workflows/{run_id}").json())
        return bool(seen[-1]["status"] == status)

    wait_for(reached, timeout, lambda: f"run to be {status}; it stayed {seen[-1]['status']}")
    return seen[-1]
