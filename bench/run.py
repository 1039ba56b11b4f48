"""``make bench``: every benchmark in one run, printed and written to ``bench/RESULTS.md``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.api_latency import measure_get_run, measure_resume_requests
from bench.api_report import ApiResults
from bench.api_server import api_server
from bench.api_throughput import measure_api_throughput
from bench.api_throughput_report import ApiThroughputResults
from bench.engine_steps import measure_noop_step_ms
from bench.journal_floor import measure_commit_floor
from bench.login_storm import LoginStormResults, measure_login_storm
from bench.machine import machine_facts
from bench.parked import ParkedResults, measure_parked
from bench.postgres import measure_postgres
from bench.report import Results, Round, render
from bench.resume import ResumeTiming, measure_resume
from bench.ws_delay import measure_ws_delay

RESULTS_FILE = Path(__file__).with_name("RESULTS.md")
FLOOR_COMMITS = 2000
NOOP_STEPS = 2000
STEP_ROUNDS = 5
RESUME_SIZES = (1_000, 10_000)
RESUME_ROUNDS = 3
# The HTTP API and WebSocket benchmarks, against one real `stepstone serve` process.
API_CLIENTS = 50
API_BATCH_MAX_SECONDS = 30.0
GET_STEPS = 200
GET_ROUNDS = 4
GET_REQUESTS_PER_ROUND = 500
GET_SERIAL_REQUESTS = 200
HEALTH_FLOOR_REQUESTS = 2000
API_RESUME_SERIAL_RUNS = 100
API_RESUME_ROUNDS = 2
API_RESUME_RUNS = 400
WS_ROUNDS = 2
WS_STEPS = 200
WS_PAUSE_SECONDS = 0.02


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_rounds() -> list[Round]:
    """Alternate the commit floor and a no-op run, so each ratio compares measurements taken
    seconds apart, under the same disk weather."""
    rounds = []
    for number in range(1, STEP_ROUNDS + 1):
        floor = measure_commit_floor(FLOOR_COMMITS)
        step_ms = measure_noop_step_ms(NOOP_STEPS)
        rounds.append(Round(floor, step_ms))
        _progress(
            f"round {number}/{STEP_ROUNDS}: floor {floor.mean_ms:.3f} ms mean, "
            f"step {step_ms:.3f} ms ({step_ms / floor.mean_ms:.2f}x)"
        )
    return rounds


def measure_resumes() -> dict[int, list[ResumeTiming]]:
    """Fail-then-resume cycles past each size of completed history."""
    resumes: dict[int, list[ResumeTiming]] = {}
    for completed in RESUME_SIZES:
        for number in range(1, RESUME_ROUNDS + 1):
            timing = measure_resume(completed)
            resumes.setdefault(completed, []).append(timing)
            _progress(
                f"resume past {completed:,} steps, round {number}/{RESUME_ROUNDS}: "
                f"{timing.to_first_step_seconds:.3f} s to the first new step"
            )
    return resumes


def measure_api() -> ApiResults:
    """Start one server; fetch a long run, resume failed runs, time live step messages."""
    started = time.perf_counter()
    with api_server() as server:
        _progress(f"server up at {server.url}")
        get = measure_get_run(
            server,
            steps=GET_STEPS,
            concurrency=API_CLIENTS,
            rounds=GET_ROUNDS,
            requests_per_round=GET_REQUESTS_PER_ROUND,
            serial_requests=GET_SERIAL_REQUESTS,
            floor_requests=HEALTH_FLOOR_REQUESTS,
            max_seconds=API_BATCH_MAX_SECONDS,
        )
        batches = [
            ("GET /api/health, one client", get.floor_serial),
            (f"GET /api/health, {API_CLIENTS} clients", get.floor),
            (f"GET run ({GET_STEPS} steps), one client", get.serial),
        ]
        batches += [
            (f"GET run ({GET_STEPS} steps), round {n}", load)
            for n, load in enumerate(get.rounds, start=1)
        ]
        for name, load in batches:
            _progress(
                f"{name}: p50 {load.p50_ms:.1f} ms, "
                f"p99 {load.p99_ms:.1f} ms, {load.per_second:.0f} req/s"
            )
        ws_rounds = []
        for number in range(1, WS_ROUNDS + 1):
            ws = measure_ws_delay(server, steps=WS_STEPS, pause_seconds=WS_PAUSE_SECONDS)
            ws_rounds.append(ws)
            _progress(
                f"WebSocket delay, round {number}/{WS_ROUNDS}: p50 {ws.p50_ms:.1f} ms, "
                f"p99 {ws.p99_ms:.1f} ms over {len(ws.delays_ms)} steps"
            )
        resume_batches = [(API_RESUME_SERIAL_RUNS, 1)]
        resume_batches += [(API_RESUME_RUNS, API_CLIENTS)] * API_RESUME_ROUNDS
        resumes = []
        for runs, clients in resume_batches:
            resume = measure_resume_requests(
                server, runs=runs, concurrency=clients, max_seconds=API_BATCH_MAX_SECONDS
            )
            resumes.append(resume)
            _progress(
                f"resume {runs} failed runs, {clients} clients: p50 {resume.load.p50_ms:.1f} ms, "
                f"p99 {resume.load.p99_ms:.1f} ms, {resume.load.count(200)} answered 200"
            )
    return ApiResults(
        clients=API_CLIENTS,
        server_settings="its default settings (worker concurrency 8, poll 0.25 s, live feed "
        "poll 0.25 s)",
        get=get,
        resume_serial=resumes[0],
        resume_rounds=resumes[1:],
        ws_rounds=ws_rounds,
        seconds=time.perf_counter() - started,
    )


def measure_storm() -> LoginStormResults:
    """Other users' GETs while failed logins storm a server of its own (``login_storm.py``:
    clients, durations and login counts are its constants)."""
    storm = measure_login_storm()
    _progress(
        f"GET run ({storm.steps} steps), {storm.clients} clients: p99 {storm.quiet.p99_ms:.1f} ms "
        f"quiet, {storm.storm.p99_ms:.1f} ms during {len(storm.failed)} failed logins "
        f"({storm.p99_ratio:.2f}x); the right password answered {storm.right.status} "
        f"after {storm.right.seconds:.1f} s"
    )
    return storm


def measure_throughput() -> ApiThroughputResults:
    """Runs through the API against the in-process drain, and run starts under load
    (``api_throughput.py``: sizes and rounds are its constants; the resume batches are
    ``measure_api``'s)."""
    throughput = measure_api_throughput()
    _progress(
        f"runs/s: {throughput.api_runs_per_second:.0f} through the API, "
        f"{throughput.in_process_runs_per_second:.0f} in-process ({throughput.api_ratio:.2f}x); "
        f"POST /api/workflows p99 {throughput.post.load.p99_ms:.1f} ms"
    )
    return throughput


def measure_parked_runs() -> ParkedResults:
    """Runs parked waiting for events: idle cost and wake-up delay (``parked.py``)."""
    parked = measure_parked()
    _progress(
        f"{parked.runs:,} parked runs: server CPU {parked.idle_cpu_fraction:.2%} idle; "
        f"woken {parked.wake_p99_ms:.1f} ms p99 after delivery"
    )
    return parked


def main() -> None:
    """Measure everything, print the report and write it to RESULTS.md."""
    started = time.perf_counter()
    facts = machine_facts()
    rounds = measure_rounds()
    resumes = measure_resumes()
    api = measure_api()
    storm = measure_storm()
    throughput = measure_throughput()
    parked = measure_parked_runs()
    postgres = measure_postgres()
    results = Results(
        facts=facts,
        commits=FLOOR_COMMITS,
        steps=NOOP_STEPS,
        rounds=rounds,
        resumes=resumes,
        api=api,
        login_storm=storm,
        api_throughput=throughput,
        parked=parked,
        postgres=postgres,
        seconds=time.perf_counter() - started,
    )
    report = render(results)
    print(report)
    RESULTS_FILE.write_text(report)
    _progress(f"written to {RESULTS_FILE}")


if __name__ == "__main__":
    main()
