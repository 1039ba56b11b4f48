"""Throughput of small runs drained by separate ``stepstone worker`` processes (PostgreSQL).

N runs of ``bench-noop`` with 3 steps are queued through ``services.runs.start_run`` into an
empty PostgreSQL database, then K real ``python -m stepstone worker`` processes start on the
same home. Until every worker is up (its banner printed), the benchmark holds a transaction
that locks every queued run (``SELECT … FOR UPDATE``): the workers' claims skip locked runs
(``FOR UPDATE SKIP LOCKED``), so nobody takes a run while the others are still importing
Python. Then the benchmark commits, which releases them all at once, and waits until every
run is ``completed``. The drain is read from the runs' own stamps: from the first claim
(``started_at``) to the last completion (``completed_at``), both ``time.time()`` in the
workers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.api_server import process_env, started_workers, wait_until
from bench.harness import bench_home

DRAIN_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.02
LOG_TAIL_LINES = 30
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Throughput:
    """One drain of ``runs`` queued runs by ``workers`` worker processes."""

    workers: int
    concurrency: int
    """Runs at once per worker process (its ``--concurrency``)."""
    runs: int
    steps_per_run: int
    queue_seconds: float
    """Queueing the runs through ``start_run``, one after another (before any worker)."""
    startup_seconds: float
    """From spawning the workers to the last of them printing its banner."""
    gate_held: bool
    """No run was taken before the gate opened (the workers' claims skipped the locked
    runs as expected)."""
    first_claim_seconds: float
    """From opening the gate to the first claim: at most one poll of the workers (0.25 s
    by default)."""
    drain_seconds: float
    """From the first claim to the last completion."""
    runs_per_worker: tuple[int, ...]
    """How many runs each worker claimed, most first."""
    worker_cpu_cores: float
    """The worker processes' CPU time over the drain (gate opened → every run seen
    completed), in cores."""
    postgres_cpu_cores: float
    """The CPU time of the PostgreSQL backends serving the workers (those connected to the
    benchmark's database at the end, other than the benchmark's own) over the same window,
    in cores."""
    machine_busy_cores: float
    """Every core's busy time (``/proc/stat``) over the same window, in cores: workers,
    PostgreSQL, this process polling, and whatever else runs on the machine."""

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.drain_seconds

    @property
    def steps_per_second(self) -> float:
        return self.runs * self.steps_per_run / self.drain_seconds


def measure_worker_throughput(
    database_url: str, *, workers: int, runs: int, steps_per_run: int, concurrency: int
) -> Throughput:
    """Queue ``runs`` runs into the empty PostgreSQL database ``database_url``, start
    ``workers`` worker processes, release the runs to them at once and time the drain."""
    with bench_home(database_url) as home:
        started = time.perf_counter()
        for _ in range(runs):
            home.start("bench-noop", {"steps": steps_per_run})
        queue_seconds = time.perf_counter() - started
        env = process_env(home.home, database_url)
        with psycopg.connect(database_url) as gate:
            gate.execute("SELECT id FROM workflow_runs WHERE status = 'pending' FOR UPDATE")
            spawned = time.perf_counter()
            with started_workers(workers, env, home.root, concurrency=concurrency) as processes:
                startup_seconds = time.perf_counter() - spawned
                gate_held = _count(gate, "status = 'pending'") == runs
                workers_before = _cpu_seconds(p.pid for p in processes)
                backends_before = _cpu_seconds(_backend_pids(gate))
                machine_before = _machine_busy_seconds()
                window_started = time.perf_counter()
                opened_at = time.time()
                gate.commit()
                gate.autocommit = True
                try:
                    wait_until(
                        lambda: _all_completed(gate, runs),
                        DRAIN_TIMEOUT_SECONDS,
                        f"{runs} runs to complete",
                        interval=POLL_SECONDS,
                    )
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc}\n{_diagnosis(gate, home.root)}") from exc
                window = time.perf_counter() - window_started
                workers_after = _cpu_seconds(p.pid for p in processes)
                backends_after = _cpu_seconds(_backend_pids(gate))
                machine_after = _machine_busy_seconds()
            first_claim, last_completion = _row(
                gate, "SELECT min(started_at), max(completed_at) FROM workflow_runs"
            )
            per_worker = gate.execute(
                "SELECT count(*) FROM run_events WHERE type = 'workflow_started'"
                " GROUP BY message ORDER BY count(*) DESC"
            ).fetchall()
    return Throughput(
        workers=workers,
        concurrency=concurrency,
        runs=runs,
        steps_per_run=steps_per_run,
        queue_seconds=queue_seconds,
        startup_seconds=startup_seconds,
        gate_held=gate_held,
        first_claim_seconds=first_claim - opened_at,
        drain_seconds=last_completion - first_claim,
        runs_per_worker=tuple(int(count) for (count,) in per_worker),
        worker_cpu_cores=_spent(workers_before, workers_after) / window,
        postgres_cpu_cores=_spent(backends_before, backends_after) / window,
        machine_busy_cores=(machine_after - machine_before) / window,
    )


def _row(conn: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    row = conn.execute(sql).fetchone()
    assert row is not None, "an aggregate returns one row"
    return tuple(row)


def _count(conn: psycopg.Connection[Any], where: str) -> int:
    return int(_row(conn, f"SELECT count(*) FROM workflow_runs WHERE {where}")[0])


def _all_completed(conn: psycopg.Connection[Any], runs: int) -> bool:
    completed, stuck = _row(
        conn,
        "SELECT count(*) FILTER (WHERE status = 'completed'),"
        " count(*) FILTER (WHERE status IN ('failed', 'cancelled', 'paused'))"
        " FROM workflow_runs",
    )
    if stuck:
        raise RuntimeError(f"{stuck} of the benchmark's runs did not complete")
    return int(completed) == runs


def _backend_pids(conn: psycopg.Connection[Any]) -> list[int]:
    """The PostgreSQL backends connected to this database, other than ``conn``'s own."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return [int(pid) for (pid,) in rows]


def _diagnosis(conn: psycopg.Connection[Any], log_dir: Path) -> str:
    """The runs' statuses and the end of every worker's output, for a drain that failed."""
    statuses = conn.execute(
        "SELECT status, count(*) FROM workflow_runs GROUP BY status ORDER BY status"
    ).fetchall()
    lines = [f"runs by status: {dict(statuses)}"]
    for log in sorted(log_dir.glob("worker-*.log")):
        tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        lines += [f"--- {log.name} (last lines):", *tail]
    return "\n".join(lines)


def _cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU time of each of these processes that still runs."""
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return seconds


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between the two readings by the processes of the second (one that
    started meanwhile counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _machine_busy_seconds() -> float:
    """Busy time of every core since boot (all but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS
