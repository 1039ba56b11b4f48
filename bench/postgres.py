"""The PostgreSQL part of ``make bench``: its own commit floor, the no-op step against it,
small-run throughput with 1, 2 and 4 worker processes, resume past long histories, and the
WebSocket delay from a worker process to an API-only process. Every measurement gets a
fresh database on the server (``postgres_db.py``), dropped afterwards.

``python -m bench.postgres`` runs this part alone and prints its section of the report.
"""

from __future__ import annotations

import os
import sys
import time

from bench.api_server import api_server
from bench.engine_steps import measure_noop_step_ms
from bench.journal_floor import measure_postgres_commit_floor
from bench.postgres_db import fresh_postgres_database, postgres_unreachable, server_facts
from bench.postgres_report import PostgresResults, PostgresRound, PostgresSkipped, section
from bench.resume import ResumeTiming, measure_resume
from bench.throughput import Throughput, measure_worker_throughput
from bench.ws_delay import WsDelayResults, measure_ws_delay

FLOOR_COMMITS = 2000
NOOP_STEPS = 2000
STEP_ROUNDS = 5
THROUGHPUT_WORKERS = (1, 2, 4)
THROUGHPUT_ROUNDS = 2
"""Rounds of every worker count, alternated (1, 2, 4, 1, 2, 4)."""
THROUGHPUT_RUNS = 300
THROUGHPUT_STEPS_PER_RUN = 3
WORKER_CONCURRENCY = 8
"""Each worker process's ``--concurrency`` (its default)."""
RESUME_SIZES = (1_000, 10_000)
RESUME_ROUNDS = 3
WS_ROUNDS = 2
WS_STEPS = 200
WS_PAUSE_SECONDS = 0.02


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure_rounds() -> list[PostgresRound]:
    """Alternate the PostgreSQL commit floor and a no-op run on PostgreSQL, each on a fresh
    database, so each ratio compares measurements taken seconds apart."""
    rounds = []
    for number in range(1, STEP_ROUNDS + 1):
        floor = measure_postgres_commit_floor(FLOOR_COMMITS)
        with fresh_postgres_database() as url:
            step_ms = measure_noop_step_ms(NOOP_STEPS, url)
        rounds.append(PostgresRound(floor, step_ms))
        _progress(
            f"PostgreSQL round {number}/{STEP_ROUNDS}: floor {floor.commit.mean_ms:.3f} ms "
            f"mean (round trip {floor.round_trip.mean_ms:.3f} ms), step {step_ms:.3f} ms "
            f"({step_ms / floor.commit.mean_ms:.2f}x)"
        )
    return rounds


def measure_throughput() -> list[Throughput]:
    """Drain small runs with each number of worker processes, rounds alternated."""
    results = []
    for number in range(1, THROUGHPUT_ROUNDS + 1):
        for workers in THROUGHPUT_WORKERS:
            with fresh_postgres_database() as url:
                result = measure_worker_throughput(
                    url,
                    workers=workers,
                    runs=THROUGHPUT_RUNS,
                    steps_per_run=THROUGHPUT_STEPS_PER_RUN,
                    concurrency=WORKER_CONCURRENCY,
                )
            results.append(result)
            _progress(
                f"PostgreSQL throughput, {workers} worker process(es), round {number}/"
                f"{THROUGHPUT_ROUNDS}: {result.runs_per_second:.0f} runs/s "
                f"({result.runs} runs in {result.drain_seconds:.2f} s; workers "
                f"{result.worker_cpu_cores:.2f} cores, machine {result.machine_busy_cores:.2f})"
            )
    return results


def measure_resumes() -> dict[int, list[ResumeTiming]]:
    """Fail-then-resume cycles past each size of completed history, on PostgreSQL."""
    resumes: dict[int, list[ResumeTiming]] = {}
    for completed in RESUME_SIZES:
        for number in range(1, RESUME_ROUNDS + 1):
            with fresh_postgres_database() as url:
                timing = measure_resume(completed, url)
            resumes.setdefault(completed, []).append(timing)
            _progress(
                f"PostgreSQL resume past {completed:,} steps, round {number}/{RESUME_ROUNDS}: "
                f"{timing.to_first_step_seconds:.3f} s to the first new step"
            )
    return resumes


def measure_ws_across_processes() -> list[WsDelayResults]:
    """An API-only server and one worker process on one PostgreSQL database; a client of
    the server times each step's completion message."""
    rounds = []
    with (
        fresh_postgres_database() as url,
        api_server(database_url=url, with_worker=False, worker_processes=1) as server,
    ):
        for number in range(1, WS_ROUNDS + 1):
            ws = measure_ws_delay(server, steps=WS_STEPS, pause_seconds=WS_PAUSE_SECONDS)
            rounds.append(ws)
            _progress(
                f"PostgreSQL WebSocket delay across processes, round {number}/{WS_ROUNDS}: "
                f"p50 {ws.p50_ms:.1f} ms, p99 {ws.p99_ms:.1f} ms over {len(ws.delays_ms)} steps"
            )
    return rounds


def measure_postgres() -> PostgresResults | PostgresSkipped:
    """Every PostgreSQL measurement, or why there are none (the server does not answer)."""
    unreachable = postgres_unreachable()
    if unreachable is not None:
        _progress(f"PostgreSQL part skipped: {unreachable}")
        return PostgresSkipped(unreachable)
    started = time.perf_counter()
    facts = {"load average (1, 5, 15 min) at the start of this part": _load_average()}
    facts.update(server_facts())
    rounds = measure_rounds()
    throughput = measure_throughput()
    resumes = measure_resumes()
    ws_rounds = measure_ws_across_processes()
    facts["load average (1, 5, 15 min) at its end"] = _load_average()
    return PostgresResults(
        facts=facts,
        commits=FLOOR_COMMITS,
        steps=NOOP_STEPS,
        rounds=rounds,
        throughput=throughput,
        resumes=resumes,
        ws_rounds=ws_rounds,
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    """Measure the PostgreSQL part alone and print its section of the report."""
    print("\n".join(section(measure_postgres())))


if __name__ == "__main__":
    main()
