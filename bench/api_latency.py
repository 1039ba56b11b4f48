"""HTTP latency under concurrent loopback clients: ``GET /api/workflows/{id}`` of a run with
completed steps, and ``POST /api/workflows/{id}/resume`` of failed runs.

Both are closed loops: ``concurrency`` asyncio tasks, each with its own keep-alive
connection (``http_client.py``), each sending its next request as soon as its previous one is
answered, so ``concurrency`` requests are always in flight. Each request's latency runs from
just before writing the request to its whole body having been read.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.api_server import ApiServer, wait_until
from bench.http_client import HttpConnection
from bench.timing import percentile


@dataclass(frozen=True)
class Load:
    """The answers to one closed-loop batch of requests."""

    concurrency: int
    latencies_ms: tuple[float, ...]
    statuses: dict[int, int]
    wall_seconds: float
    unsent: int = 0
    """Requests left unsent because the time bound ran out."""
    server_cpu_seconds: float | None = None
    """CPU time (user + system) the server process used during the batch (Linux only)."""
    client_cpu_seconds: float | None = None
    """CPU time this process (the clients) used during the batch."""

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99)

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.requests / self.wall_seconds

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_seconds is None:
            return None
        return self.server_cpu_seconds * 1000 / self.requests

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


@dataclass(frozen=True)
class GetRunResults:
    steps: int
    body_bytes: int
    floor_serial: Load
    """``GET /api/health`` (no database rows, a tiny answer) from one client: what any
    request costs through this server and this client."""
    floor: Load
    """``GET /api/health`` from ``concurrency`` clients."""
    serial: Load
    """One client, one request at a time: the service time without queueing."""
    rounds: list[Load]
    """``concurrency`` clients, round by round."""

    @property
    def pooled(self) -> Load:
        return pooled(self.rounds)


@dataclass(frozen=True)
class ResumeResults:
    runs: int
    prepare_seconds: float
    """Starting ``runs`` runs through the API and the server's worker failing them all."""
    load: Load
    drain_seconds: float
    """From the first resume request to every resumed run being ``completed``."""
    completed: int


def pooled(loads: Sequence[Load]) -> Load:
    """Several batches taken as one sample (their latencies and answers together)."""
    statuses: Counter[int] = Counter()
    for load in loads:
        statuses.update(load.statuses)
    return Load(
        concurrency=loads[0].concurrency,
        latencies_ms=tuple(ms for load in loads for ms in load.latencies_ms),
        statuses=dict(statuses),
        wall_seconds=sum(load.wall_seconds for load in loads),
        unsent=sum(load.unsent for load in loads),
        server_cpu_seconds=_sum_or_none(load.server_cpu_seconds for load in loads),
        client_cpu_seconds=_sum_or_none(load.client_cpu_seconds for load in loads),
    )


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    listed = list(values)
    return None if None in listed else sum(v for v in listed if v is not None)


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (None where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def closed_loop(
    url: str,
    headers: dict[str, str],
    requests: Sequence[tuple[str, str]],
    concurrency: int,
    max_seconds: float,
    server_pid: int | None = None,
    body: bytes = b"",
) -> Load:
    """Send ``requests`` (method, path; each with ``body``) with ``concurrency`` clients, each
    taking the next unsent request as soon as its last one is answered; no new request after
    ``max_seconds``. With ``server_pid``, the server's CPU time is measured too."""
    pending = list(reversed(requests))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    connections = [HttpConnection(url, headers) for _ in range(concurrency)]
    server_cpu = None if server_pid is None else process_cpu_seconds(server_pid)
    client_cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + max_seconds

    async def one_client(connection: HttpConnection) -> None:
        while pending and time.perf_counter() < deadline:
            method, path = pending.pop()
            before = time.perf_counter()
            status, _answer = await connection.request(method, path, body)
            latencies.append((time.perf_counter() - before) * 1000)
            statuses[status] += 1

    try:
        await asyncio.gather(*(one_client(c) for c in connections))
    finally:
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        await asyncio.gather(*(c.close() for c in connections))
    if server_cpu is not None and server_pid is not None:
        server_after = process_cpu_seconds(server_pid)
        server_cpu = None if server_after is None else server_after - server_cpu
    return Load(
        concurrency,
        tuple(latencies),
        dict(statuses),
        wall,
        unsent=len(pending),
        server_cpu_seconds=server_cpu,
        client_cpu_seconds=client_cpu,
    )


async def server_load(
    server: ApiServer,
    requests: Sequence[tuple[str, str]],
    concurrency: int,
    max_seconds: float,
    body: bytes = b"",
) -> Load:
    """``closed_loop`` against the benchmark's server, its CPU time measured."""
    return await closed_loop(
        server.url, server.headers, requests, concurrency, max_seconds, server.process.pid, body
    )


def run_statuses(server: ApiServer) -> dict[str, int]:
    """How many of the home's runs are in each status (read directly from the database)."""
    with server.db.read() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM workflow_runs GROUP BY status"))
        return {str(status): int(count) for status, count in rows}


def completed_noop_run(server: ApiServer, steps: int) -> tuple[str, int]:
    """Start ``bench-noop`` with ``steps`` steps through the API and wait until the server's
    worker has completed it; its ``GET /api/workflows/{id}`` path and the answer's size."""
    with server.client() as client:
        run_id = server.start_run(client, "bench-noop", {"steps": steps})
        path = f"/api/workflows/{run_id}"

        def completed() -> dict[str, Any] | None:
            run: dict[str, Any] = client.get(path).json()
            return run if run["status"] == "completed" else None

        run = wait_until(completed, 120, f"the {steps}-step run to complete", interval=0.2)
        if len(run["steps"]) != steps:
            raise RuntimeError(f"the run has {len(run['steps'])} steps, expected {steps}")
        return path, len(client.get(path).content)


def measure_get_run(
    server: ApiServer,
    *,
    steps: int,
    concurrency: int,
    rounds: int,
    requests_per_round: int,
    serial_requests: int,
    floor_requests: int,
    max_seconds: float,
) -> GetRunResults:
    """Run ``bench-noop`` with ``steps`` steps to completion through the server, then fetch
    it: ``serial_requests`` one at a time, then ``rounds`` closed-loop batches. Before that,
    the floor: ``floor_requests`` of ``GET /api/health``, from one client and from
    ``concurrency``."""
    path, body_bytes = completed_noop_run(server, steps)
    requests = [("GET", path)]

    async def measure() -> GetRunResults:
        await server_load(server, requests * concurrency, concurrency, max_seconds)  # warm-up
        health = [("GET", "/api/health")] * floor_requests
        floor_serial = await server_load(server, health, 1, max_seconds)
        floor = await server_load(server, health, concurrency, max_seconds)
        serial = await server_load(server, requests * serial_requests, 1, max_seconds)
        batches = [
            await server_load(server, requests * requests_per_round, concurrency, max_seconds)
            for _ in range(rounds)
        ]
        return GetRunResults(steps, body_bytes, floor_serial, floor, serial, batches)

    return asyncio.run(measure())


def measure_resume_requests(
    server: ApiServer, *, runs: int, concurrency: int, max_seconds: float
) -> ResumeResults:
    """Fail ``runs`` runs of ``bench-flaky`` (started through the API, executed by the
    server's worker while the flag file exists), remove the flag, then resume each run once
    with ``concurrency`` clients and wait for the worker to complete them all."""
    fail_flag = server.root / "fail-flaky"
    fail_flag.touch()
    before = run_statuses(server)
    prepare_started = time.perf_counter()
    run_ids = asyncio.run(_start_runs(server, runs, "bench-flaky", {"fail_flag": str(fail_flag)}))

    def all_failed() -> bool:
        return run_statuses(server).get("failed", 0) >= before.get("failed", 0) + runs

    wait_until(all_failed, 120, f"{runs} runs to fail", interval=0.2)
    prepare_seconds = time.perf_counter() - prepare_started
    fail_flag.unlink()
    resume_started = time.perf_counter()
    requests = [("POST", f"/api/workflows/{run_id}/resume") for run_id in run_ids]
    load = asyncio.run(server_load(server, requests, concurrency, max_seconds))
    completed_before = before.get("completed", 0)

    def all_completed() -> int:
        done = run_statuses(server).get("completed", 0) - completed_before
        return done if done >= load.count(200) else 0

    completed = wait_until(all_completed, 120, "the resumed runs to complete", interval=0.05)
    drain_seconds = time.perf_counter() - resume_started
    return ResumeResults(runs, prepare_seconds, load, drain_seconds, completed)


async def _start_runs(
    server: ApiServer, count: int, workflow: str, args: dict[str, Any], senders: int = 8
) -> list[str]:
    """Start ``count`` runs through the API, ``senders`` at a time."""
    run_ids: list[str] = []
    body = {"project_id": server.project_id, "workflow": workflow, "args": args}
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as client:

        async def starter(share: int) -> None:
            for _ in range(share):
                answer = await client.post("/api/workflows", json=body)
                if answer.status_code != 201:
                    raise RuntimeError(f"starting a run answered {answer.status_code}")
                run_ids.append(str(answer.json()["id"]))

        shares = [count // senders + (i < count % senders) for i in range(senders)]
        await asyncio.gather(*(starter(share) for share in shares))
    return run_ids
