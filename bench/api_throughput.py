"""Small runs through the HTTP API against the same runs drained in-process (issue 12).

- *In-process drain*: ``RUNS`` runs of ``bench-noop`` with ``STEPS_PER_RUN`` steps queued
  through ``services.runs.start_run`` into a fresh SQLite home, then executed by one
  ``Worker(db, concurrency=WORKER_CONCURRENCY)`` serving in this process until all are
  completed; timed from the first run's ``started_at`` (its claim) to the last one's
  ``completed_at``. The same drain with the code of ``BASELINE_COMMIT`` (``git archive`` of
  its ``src/`` into a temporary folder, run as ``python -m bench.api_throughput
  --in-process-json`` with that folder first on ``PYTHONPATH``) is the baseline that the
  issue's "2x today's" is read against, in the same run on the same machine.
- *Through the API*: a fresh ``stepstone serve`` (``api_server.py``, default settings: its
  worker has concurrency 8) and ``SUBMITTERS`` clients sending ``POST /api/workflows`` for
  the same runs in a closed loop; timed from just before the first ``POST`` to the last
  run's ``completed_at`` (the server's ``time.time()``, the same clock). The clients are
  asyncio tasks of the lean client (``http_client.py``), one connection each, not threads
  with ``httpx.Client``: what the issue asks for is eight concurrent submitters, threads in
  one process would share the GIL anyway, and httpx's few ms of CPU per request would be
  taken from the two cores the server's worker drains on.
- *``POST /api/workflows`` under 50 clients*: on the last API round's server,
  ``POST_REQUESTS`` requests from ``POST_CLIENTS`` closed-loop clients, each starting a run
  that the server's worker executes while the requests arrive; then every run is waited for.

The completions are polled read-only from the home's database every ``POLL_SECONDS``.
Rounds alternate: in-process, then through the API. Run alone with
``.venv/bin/python -m bench.api_throughput`` (it adds one resume batch of ``api_latency.py``
at 50 clients on the last server, which ``make bench`` measures in its API part). The
issue's per-step overhead is the engine's no-op step / floor row of ``make bench``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from sqlalchemy import text

from bench.api_latency import (
    ResumeResults,
    measure_resume_requests,
    process_cpu_seconds,
    server_load,
)
from bench.api_server import ApiServer, api_server
from bench.api_throughput_report import (
    ApiDrain,
    ApiThroughputResults,
    Drain,
    PostBatch,
    section,
    summary_rows,
)
from bench.harness import bench_home
from stepstone.store.database import Database
from stepstone.worker.worker import Worker

RUNS = 600
STEPS_PER_RUN = 3
SUBMITTERS = 8
WORKER_CONCURRENCY = 8
"""The server's default (``Settings.worker_concurrency``), used for the in-process worker."""
ROUNDS = 2
POST_CLIENTS = 50
POST_REQUESTS = 1000
RESUME_ROUNDS = 1
RESUME_RUNS = 400
BATCH_MAX_SECONDS = 60.0
DRAIN_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.25
BASELINE_COMMIT = "3e723c0"
"""The code before the issue-12 work."""
REPO_ROOT = Path(__file__).resolve().parent.parent


def _runs_by_status(db: Database) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM workflow_runs GROUP BY status"))
        return {str(status): int(count) for status, count in rows}


async def _until_completed(db: Database, runs: int, since: float = 0.0) -> None:
    """Poll until ``runs`` runs created at or after ``since`` are completed; RuntimeError on
    a run that ended otherwise, or after ``DRAIN_TIMEOUT_SECONDS``."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    sql = text(
        "SELECT sum(status = 'completed'), sum(status IN ('failed', 'cancelled', 'paused'))"
        " FROM workflow_runs WHERE created_at >= :since"
    )

    def counts() -> tuple[int, int]:
        with db.read() as conn:
            completed, ended = conn.execute(sql, {"since": since}).one()
            return int(completed or 0), int(ended or 0)

    while True:
        completed, ended = await asyncio.to_thread(counts)
        if ended:
            raise RuntimeError(f"{ended} runs did not complete: {_runs_by_status(db)}")
        if completed >= runs:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs not completed in time: {_runs_by_status(db)}")
        await asyncio.sleep(POLL_SECONDS)


def _stamps(db: Database, since: float = 0.0) -> tuple[float, float]:
    """The first ``started_at`` and the last ``completed_at`` of the runs created at or
    after ``since``."""
    with db.read() as conn:
        first, last = conn.execute(
            text(
                "SELECT min(started_at), max(completed_at) FROM workflow_runs"
                " WHERE created_at >= :since"
            ),
            {"since": since},
        ).one()
    return float(first), float(last)


def measure_in_process_drain(runs: int = RUNS, concurrency: int = WORKER_CONCURRENCY) -> Drain:
    """Queue ``runs`` runs into a fresh home, then drain them with one in-process worker."""
    with bench_home() as home:
        for _ in range(runs):
            home.start("bench-noop", {"steps": STEPS_PER_RUN})

        async def drain() -> float:
            worker = Worker(home.db, concurrency=concurrency)
            stop = asyncio.Event()
            cpu_before, wall_before = time.process_time(), time.perf_counter()
            serving = asyncio.create_task(worker.serve(stop))
            try:
                await _until_completed(home.db, runs)
                return (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
            finally:
                stop.set()
                await serving
                worker.close()

        cores = asyncio.run(drain())
        first, last = _stamps(home.db)
        writer = getattr(home.db, "writer", None)  # the baseline's code has none
    return Drain(runs, first, last, cores, None if writer is None else writer.waited_seconds)


async def _api_drain(server: ApiServer, runs: int, submitters: int) -> ApiDrain:
    """Submit ``runs`` runs to a fresh server from ``submitters`` clients and wait until its
    worker has completed them all."""
    pid = server.process.pid
    cpu_before, wall_before = process_cpu_seconds(pid), time.perf_counter()
    started_at = time.time()
    requests = [("POST", "/api/workflows")] * runs
    submit = await server_load(server, requests, submitters, BATCH_MAX_SECONDS, _start_body(server))
    if submit.count(201) != runs:
        raise RuntimeError(f"starting {runs} runs answered {submit.statuses}")
    await _until_completed(server.db, runs)
    cpu_after, wall = process_cpu_seconds(pid), time.perf_counter() - wall_before
    cores = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / wall
    first, last = _stamps(server.db)
    return ApiDrain(runs, started_at, last, cores, None, submit, first - started_at)


def _start_body(server: ApiServer) -> bytes:
    args = {"steps": STEPS_PER_RUN}
    return json.dumps(
        {"project_id": server.project_id, "workflow": "bench-noop", "args": args}
    ).encode()


async def _post_batch(server: ApiServer, requests: int, clients: int) -> PostBatch:
    """``requests`` run starts from ``clients`` clients while the worker executes them."""
    since = time.time()
    load = await server_load(
        server,
        [("POST", "/api/workflows")] * requests,
        clients,
        BATCH_MAX_SECONDS,
        _start_body(server),
    )
    answered = time.time()
    await _until_completed(server.db, load.count(201), since)
    with server.db.read() as conn:
        started, completed = conn.execute(
            text(
                "SELECT sum(started_at <= :answered), sum(completed_at <= :answered)"
                " FROM workflow_runs WHERE created_at >= :since"
            ),
            {"since": since, "answered": answered},
        ).one()
    _first, last = _stamps(server.db, since)
    return PostBatch(load, int(started), int(completed), last - since)


def measure_baseline_drain(commit: str = BASELINE_COMMIT) -> Drain | str:
    """The in-process drain with ``commit``'s ``src/`` in a child process, or why not."""
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "src"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"`git archive {commit}` failed ({exc})"
    with tempfile.TemporaryDirectory(prefix="stepstone-bench-baseline-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        child = subprocess.run(
            [sys.executable, "-m", "bench.api_throughput", "--in-process-json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if child.returncode != 0:
        last_line = (child.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the child process failed: {last_line}"
    return Drain(**json.loads(child.stdout))


def _post_and_resume(
    server: ApiServer, resume_rounds: int
) -> tuple[PostBatch, list[ResumeResults]]:
    """The ``POST`` batch, then ``resume_rounds`` resume batches, on ``server``."""
    post = asyncio.run(_post_batch(server, POST_REQUESTS, POST_CLIENTS))
    _progress(f"POST /api/workflows, {POST_CLIENTS} clients: p99 {post.load.p99_ms:.1f} ms")
    resumes = []
    for _ in range(resume_rounds):
        resume = measure_resume_requests(
            server, runs=RESUME_RUNS, concurrency=POST_CLIENTS, max_seconds=BATCH_MAX_SECONDS
        )
        resumes.append(resume)
        _progress(f"resume, {POST_CLIENTS} clients: p99 {resume.load.p99_ms:.1f} ms")
    return post, resumes


def measure_api_throughput(*, rounds: int = ROUNDS, resume_rounds: int = 0) -> ApiThroughputResults:
    """The baseline, then ``rounds`` of (in-process drain, API drain on a fresh server);
    on the last round's server the ``POST`` batch, then ``resume_rounds`` resume batches."""
    started = time.perf_counter()
    baseline = measure_baseline_drain()
    _progress(
        f"baseline ({BASELINE_COMMIT}), in-process: "
        + (baseline if isinstance(baseline, str) else f"{baseline.runs_per_second:.0f} runs/s")
        + f" [{time.perf_counter() - started:.0f} s]"
    )
    in_process: list[Drain] = []
    api: list[ApiDrain] = []
    for number in range(1, rounds + 1):
        in_process.append(measure_in_process_drain())
        with api_server() as server:
            api.append(asyncio.run(_api_drain(server, RUNS, SUBMITTERS)))
            _progress(
                f"round {number}/{rounds}: in-process {in_process[-1].runs_per_second:.0f} "
                f"runs/s, through the API {api[-1].runs_per_second:.0f} runs/s "
                f"[{time.perf_counter() - started:.0f} s]"
            )
            if number == rounds:
                post, resumes = _post_and_resume(server, resume_rounds)
    return ApiThroughputResults(
        runs=RUNS,
        steps_per_run=STEPS_PER_RUN,
        submitters=SUBMITTERS,
        worker_concurrency=WORKER_CONCURRENCY,
        in_process=in_process,
        api=api,
        baseline=baseline,
        baseline_commit=BASELINE_COMMIT,
        post=post,
        resume_rounds=resumes,
        seconds=time.perf_counter() - started,
    )


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    """Measure and print the rows and the section (with the load average before and after);
    ``--in-process-json``: one in-process drain, printed as JSON (the baseline's child)."""
    if sys.argv[1:] == ["--in-process-json"]:
        print(json.dumps(dataclasses.asdict(measure_in_process_drain())))
        return
    load_before = _load_average()
    results = measure_api_throughput(resume_rounds=RESUME_ROUNDS)
    load_after = _load_average()
    print("| measure | value | target | verdict |")
    print("|---|---|---|---|")
    print("\n".join(summary_rows(results)))
    print()
    print("\n".join(section(results)))
    print(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}.")


if __name__ == "__main__":
    main()
