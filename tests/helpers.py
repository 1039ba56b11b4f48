"""What tests share besides fixtures: projects on disk, the real CLI in a child process,
inline execution, and polling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stepstone import fake_agents
from stepstone.engine.executor import Outcome
from stepstone.store.database import Database
from stepstone.worker.worker import Worker

WORKFLOW_PRELUDE = '''
from __future__ import annotations
import asyncio, os, pathlib, time
from stepstone import Context, workflow

PROJECT = pathlib.Path(__file__).resolve().parents[2]


def effect(name: str) -> str:
    """A side effect the test can count: one line per execution in effects.log."""
    with (PROJECT / "effects.log").open("a") as log:
        log.write(name + "\\n")
    return name


def flag(name: str) -> bool:
    return (PROJECT / name).exists()


def touch(name: str) -> None:
    (PROJECT / name).write_text(str(os.getpid()))
'''


class Project:
    """A project directory with definition files, registered in the test database."""

    def __init__(self, root: Path, info: dict[str, Any]) -> None:
        self.root = root
        self.id: str = info["id"]
        self.name: str = info["name"]

    def write_workflow(self, body: str, file_name: str = "flows.py") -> Path:
        path = self.root / ".stepstone" / "workflows" / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(WORKFLOW_PRELUDE + textwrap.dedent(body))
        return path

    def effects(self) -> list[str]:
        log = self.root / "effects.log"
        return log.read_text().split() if log.exists() else []

    def count(self, name: str) -> int:
        return self.effects().count(name)


def git(repo: Path, *args: str) -> str:
    """``git args`` in ``repo``; its output (it must succeed)."""
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repository(project: Project) -> None:
    """Make the project a git repository on ``main`` with one commit of everything."""
    git(project.root, "init", "--quiet", "--initial-branch", "main")
    (project.root / ".gitignore").write_text("effects.log\nfail-after-commits\n")
    git(project.root, "add", "--all")
    git(project.root, "commit", "--quiet", "-m", "initial")


def run_cli(
    *args: str,
    check: bool = False,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    input: str | None = None,  # subprocess.run's own name for it
) -> subprocess.CompletedProcess[str]:
    """The real ``stepstone`` command in a child process (the environment carries the home)."""
    result = subprocess.run(
        [sys.executable, "-m", "stepstone", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        input=input,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"stepstone {' '.join(args)} failed:\n{result.stderr}")
    return result


# The processes spawn_cli started during the current test; tests/conftest.py ends them and
# closes their pipes when the test ends.
SPAWNED: list[subprocess.Popen[str]] = []


def spawn_cli(*args: str, columns: int = 200) -> subprocess.Popen[str]:
    """The real ``stepstone`` command, running in the background until the test ends it (or
    the test ends: then it is killed)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stepstone", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    SPAWNED.append(process)
    return process


def end_spawned() -> None:
    """Kill what :func:`spawn_cli` started and is still running; close every pipe."""
    while SPAWNED:
        process = SPAWNED.pop()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


FAKE_AGENTS = {agent: fake_agents.command(agent) for agent in fake_agents.AGENTS}
"""The fake agent CLIs (``stepstone.fake_agents``) in place of the real ones."""


def fake_agent_calls(home: Path) -> list[dict[str, Any]]:
    """What the fake agents were run with (their argv, session, cwd…), in order; they keep
    their state in ``$STEPSTONE_HOME/fake-agents``."""
    log = home / "fake-agents" / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def fake_agent_environment() -> dict[str, str]:
    """The settings (``STEPSTONE_<AGENT>_COMMAND``) that make a Stepstone process use the
    fake agents."""
    return {
        f"STEPSTONE_{agent.upper()}_COMMAND": shlex.join(command)
        for agent, command in FAKE_AGENTS.items()
    }


async def execute_inline(
    db: Database,
    run_id: str,
    *,
    artifacts_dir: Path | None = None,
    agent_commands: Mapping[str, Sequence[str]] = FAKE_AGENTS,
    **worker_options: float,
) -> Outcome | None:
    """Execute one queued run in this process, as `stepstone run --inline` does, with the
    fake agents unless ``agent_commands`` says otherwise."""
    worker = Worker(
        db,
        concurrency=1,
        artifacts_dir=artifacts_dir,
        agent_commands=agent_commands,
        **worker_options,  # type: ignore[arg-type]
    )
    try:
        return await worker.execute_inline(run_id)
    finally:
        worker.close()


@contextlib.asynccontextmanager
async def serving(db: Database, **worker_options: Any) -> AsyncIterator[Worker]:
    """A worker serving ``db`` in this event loop (claims every 50 ms) until the block ends;
    then it stops as a server's does."""
    worker = Worker(db, poll_seconds=0.05, **worker_options)
    stop = asyncio.Event()
    served = asyncio.create_task(worker.serve(stop))
    try:
        yield worker
    finally:
        stop.set()
        await served
        worker.close()


Description = str | Callable[[], str]


def wait_for(
    condition: Callable[[], bool], timeout: float = 20.0, what: Description = "condition"
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds, saying ``what`` was
    awaited (a callable is asked at that moment, so it can tell the last state seen)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {_describe(what)}")
        time.sleep(0.02)


async def wait_until(
    condition: Callable[[], bool], timeout: float = 20.0, what: Description = "condition"
) -> None:
    """:func:`wait_for` for async tests: the event loop keeps running while it polls."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {_describe(what)}")
        await asyncio.sleep(0.02)


def _describe(what: Description) -> str:
    return what if isinstance(what, str) else what()


def wait_for_file(path: Path, timeout: float = 20.0) -> None:
    wait_for(path.exists, timeout, f"{path.name} to appear")
