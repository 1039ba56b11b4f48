"""Parked runs (SPEC 3.12): what 10,000 runs waiting for events cost a server while nothing
happens, and how soon a run is woken once its event is delivered.

A real ``stepstone serve`` (its in-process worker, default settings but a concurrency of 32).
The runs are queued straight into its database (``services.runs.start_run``, as the CLI
does); its worker executes each up to its wait and parks it. Idle: the server process's CPU
(user + system, /proc) over ``IDLE_SECONDS`` with every run parked. Woken: a sample of the
runs is sent its event one at a time through ``POST /api/workflows/{id}/events``; a run's
delay runs from its ``event_received`` event (written in the delivery's transaction) to its
waiting step's completion (written when the woken execution took the event), both stamped by
the server.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.api_latency import process_cpu_seconds
from bench.api_server import api_server, wait_until
from stepstone.services.runs import start_run
from stepstone.store.database import Database
from stepstone.store.schema import run_events, workflow_runs, workflow_steps

PARKED_RUNS = 10_000
WORKER_CONCURRENCY = 32
IDLE_SECONDS = 10.0
WOKEN_RUNS = 300
SEND_PAUSE_SECONDS = 0.02
PARK_TIMEOUT_SECONDS = 900.0
IDLE_TARGET = 0.02
WAKE_TARGET_MS = 50.0


@dataclass(frozen=True)
class ParkedResults:
    runs: int
    queue_seconds: float
    park_seconds: float
    idle_seconds: float
    idle_cpu_seconds: float
    wake_delays_ms: list[float]

    @property
    def idle_cpu_fraction(self) -> float:
        return self.idle_cpu_seconds / self.idle_seconds

    @property
    def wake_p50_ms(self) -> float:
        return statistics.median(self.wake_delays_ms)

    @property
    def wake_p99_ms(self) -> float:
        ordered = sorted(self.wake_delays_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_parked(runs: int = PARKED_RUNS, woken: int = WOKEN_RUNS) -> ParkedResults:
    extra = {"STEPSTONE_WORKER_CONCURRENCY": str(WORKER_CONCURRENCY)}
    with api_server(extra) as server:
        db = server.db
        started = time.perf_counter()
        run_ids = [
            start_run(db, server.project_id, "bench-wait", user_id=server.user_id)["id"]
            for _ in range(runs)
        ]
        queue_seconds = time.perf_counter() - started

        def parked() -> bool:
            with db.read() as conn:
                count = conn.execute(
                    select(func.count())
                    .select_from(workflow_runs)
                    .where(workflow_runs.c.status == "waiting")
                ).scalar_one()
            return count == runs

        wait_until(parked, PARK_TIMEOUT_SECONDS, f"{runs} runs to park", interval=1.0)
        park_seconds = time.perf_counter() - started
        _progress(
            f"{runs:,} runs queued in {queue_seconds:.0f} s, parked after {park_seconds:.0f} s"
        )

        time.sleep(1.0)  # the last parks' writes and wake-ups settle
        cpu_before = process_cpu_seconds(server.process.pid) or 0.0
        idle_started = time.perf_counter()
        time.sleep(IDLE_SECONDS)
        idle_cpu = (process_cpu_seconds(server.process.pid) or 0.0) - cpu_before
        idle_seconds = time.perf_counter() - idle_started

        sample = run_ids[:: max(1, runs // woken)][:woken]
        with server.client() as client:
            for number, run_id in enumerate(sample):
                answer = client.post(
                    f"/api/workflows/{run_id}/events", json={"name": "go", "data": number}
                )
                if answer.status_code != 202 or not answer.json()["woke"]:
                    raise RuntimeError(f"sending run {run_id} its event: {answer.text}")
                time.sleep(SEND_PAUSE_SECONDS)
        delays = wait_until(
            lambda: _wake_delays_ms(db, sample), 60.0, "the woken runs to take their events"
        )
    return ParkedResults(runs, queue_seconds, park_seconds, idle_seconds, idle_cpu, delays)


def _wake_delays_ms(db: Database, run_ids: list[str]) -> list[float] | None:
    """Each run's delay from delivery to its wait's completion; None until all completed."""
    with db.read() as conn:
        delivered = dict(
            conn.execute(
                select(run_events.c.run_id, run_events.c.created_at).where(
                    run_events.c.run_id.in_(run_ids), run_events.c.type == "event_received"
                )
            ).all()
        )
        taken = dict(
            conn.execute(
                select(workflow_steps.c.run_id, workflow_steps.c.completed_at).where(
                    workflow_steps.c.run_id.in_(run_ids),
                    workflow_steps.c.key == "wait",
                    workflow_steps.c.status == "completed",
                )
            ).all()
        )
    if len(taken) < len(run_ids):
        return None
    return [(taken[run_id] - delivered[run_id]) * 1000 for run_id in run_ids]


def summary_rows(r: ParkedResults) -> list[str]:
    idle = r.idle_cpu_fraction
    return [
        f"| {r.runs:,} parked runs: server CPU while idle ({r.idle_seconds:.0f} s) "
        f"| {idle:.2%} | < {IDLE_TARGET:.0%} | {_verdict(idle < IDLE_TARGET)} |",
        f"| parked run: event delivered → its wait completes, p99 ({len(r.wake_delays_ms)} runs) "
        f"| {r.wake_p99_ms:.1f} ms | < {WAKE_TARGET_MS:g} ms "
        f"| {_verdict(r.wake_p99_ms < WAKE_TARGET_MS)} |",
    ]


def section(r: ParkedResults) -> list[str]:
    ordered = sorted(r.wake_delays_ms)
    return [
        "## Parked runs",
        "",
        __doc__.split("\n\n", 1)[1].strip().replace("\n", " ") if __doc__ else "",
        "",
        "| measure | value |",
        "|---|---|",
        f"| runs queued (`start_run`, this process) | {r.runs:,} in {r.queue_seconds:.1f} s |",
        f"| all parked (from the first queued) | {r.park_seconds:.1f} s |",
        f"| server CPU over {r.idle_seconds:.1f} s idle | {r.idle_cpu_seconds * 1000:.0f} ms "
        f"({r.idle_cpu_fraction:.2%} of one core) |",
        f"| woken runs (one event each, {SEND_PAUSE_SECONDS * 1000:g} ms apart) | {len(ordered)} |",
        f"| delivery → wait completed: p50 / p99 / max | {r.wake_p50_ms:.1f} / "
        f"{r.wake_p99_ms:.1f} / {ordered[-1]:.1f} ms |",
        "",
    ]


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


if __name__ == "__main__":
    results = measure_parked(
        int(sys.argv[1]) if len(sys.argv) > 1 else PARKED_RUNS,
        int(sys.argv[2]) if len(sys.argv) > 2 else WOKEN_RUNS,
    )
    print("\n".join([*summary_rows(results), "", *section(results)]))
