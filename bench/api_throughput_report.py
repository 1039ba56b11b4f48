"""What ``api_throughput.py`` measured, and its rows and section of RESULTS.md."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.api_latency import Load, ResumeResults, pooled
from bench.api_report import RESUME_P99_TARGET_MS

API_TO_IN_PROCESS_TARGET = 0.8
IN_PROCESS_TO_BASELINE_TARGET = 2.0
POST_P99_TARGET_MS = 100.0


@dataclass(frozen=True)
class Drain:
    """``runs`` queued 3-step runs executed to completion, timed by wall-clock stamps
    (``time.time()``, the same clock in every process on the machine)."""

    runs: int
    started_at: float
    """Through the API: just before the first ``POST`` was sent. In-process: the first
    run's ``started_at`` (its claim)."""
    completed_at: float
    """The last run's ``completed_at``."""
    cpu_cores: float | None
    """CPU time of the process that executed the runs (the server, or this one) from the
    start of the drain until every run was seen completed, in cores."""
    turn_wait_seconds: float | None
    """In-process: how long the process's writes waited, in all, for their turn at its one
    writer (``SqliteWriter.waited_seconds``); None for code without one (the baseline)."""

    @property
    def seconds(self) -> float:
        return self.completed_at - self.started_at

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.seconds


@dataclass(frozen=True)
class ApiDrain(Drain):
    submit: Load
    """The submitters' ``POST /api/workflows``."""
    first_claim_seconds: float
    """From the first ``POST`` sent to the first run's claim by the server's worker."""


@dataclass(frozen=True)
class PostBatch:
    """``POST /api/workflows`` from many clients while the server's worker executes what
    they submit."""

    load: Load
    started_during: int
    """How many of the batch's runs the worker claimed before the last answer arrived."""
    completed_during: int
    """How many of them completed before it."""
    completed_seconds: float
    """From the first request to the last of the batch's runs completed."""


@dataclass(frozen=True)
class ApiThroughputResults:
    runs: int
    steps_per_run: int
    submitters: int
    worker_concurrency: int
    in_process: list[Drain]
    api: list[ApiDrain]
    """Round by round, each after the in-process drain of the same round."""
    baseline: Drain | str
    """The in-process drain with the code of ``baseline_commit``, or why it was not measured."""
    baseline_commit: str
    post: PostBatch
    resume_rounds: list[ResumeResults]
    """Resume batches measured here (only when run alone: ``make bench`` has them in its
    API part)."""
    seconds: float

    @property
    def api_runs_per_second(self) -> float:
        return statistics.median(d.runs_per_second for d in self.api)

    @property
    def in_process_runs_per_second(self) -> float:
        return statistics.median(d.runs_per_second for d in self.in_process)

    @property
    def api_ratio(self) -> float:
        """The median of the rounds' API / in-process ratios."""
        return statistics.median(
            a.runs_per_second / i.runs_per_second
            for a, i in zip(self.api, self.in_process, strict=True)
        )


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _answers(load: Load) -> str:
    return ", ".join(f"{status}: {count}" for status, count in sorted(load.statuses.items()))


def _cores(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _baseline_row(r: ApiThroughputResults) -> str:
    name = f"in-process drain / the same with the code of {r.baseline_commit} (this run)"
    target = f"≥ {IN_PROCESS_TO_BASELINE_TARGET:g}x"
    if isinstance(r.baseline, str):
        return f"| {name} | not measured: {r.baseline} | {target} | not measured |"
    ratio = r.in_process_runs_per_second / r.baseline.runs_per_second
    return (
        f"| {name} | {ratio:.2f}x ({r.baseline.runs_per_second:.0f} runs/s then) | {target} "
        f"| {_verdict(ratio >= IN_PROCESS_TO_BASELINE_TARGET)} |"
    )


def summary_rows(r: ApiThroughputResults) -> list[str]:
    """Rows for the summary table (``| measure | value | target | verdict |``)."""
    post = r.post.load
    runs = f"{r.runs} runs of {r.steps_per_run} no-op steps"
    rows = [
        f"| runs/s through the API: {runs}, {r.submitters} clients, first `POST` → last "
        f"completion | {r.api_runs_per_second:.0f} runs/s | | |",
        f"| runs/s drained in-process: the same runs, one `Worker` (concurrency "
        f"{r.worker_concurrency}), first claim → last completion | "
        f"{r.in_process_runs_per_second:.0f} runs/s | | |",
        f"| runs/s through the API / in-process | {r.api_ratio:.2f}x | "
        f"≥ {API_TO_IN_PROCESS_TARGET:g}x | {_verdict(r.api_ratio >= API_TO_IN_PROCESS_TARGET)} |",
        _baseline_row(r),
        f"| `POST /api/workflows` ({r.steps_per_run}-step runs), {post.concurrency} clients, "
        f"while the worker executes them: p50 | {post.p50_ms:.1f} ms | | |",
        f"| same: p99 | {post.p99_ms:.1f} ms | < {POST_P99_TARGET_MS:g} ms "
        f"| {_verdict(post.p99_ms < POST_P99_TARGET_MS)} |",
        f"| same: 201 answers | {post.count(201):,} of {post.requests + post.unsent:,} | all "
        f"| {_verdict(post.count(201) == post.requests and not post.unsent)} |",
    ]
    if r.resume_rounds:
        resume = pooled([b.load for b in r.resume_rounds])
        rows.append(
            f"| `POST /api/workflows/{{id}}/resume` of failed runs, {resume.concurrency} "
            f"clients: p99 | {resume.p99_ms:.1f} ms | < {RESUME_P99_TARGET_MS:g} ms "
            f"| {_verdict(resume.p99_ms < RESUME_P99_TARGET_MS)} |"
        )
    return [*rows, _lock_wait_row(r)]


def _lock_wait_row(r: ApiThroughputResults) -> str:
    """In-process writes queue for the process's one writer instead of sleeping in SQLite's
    busy handler: the time they waited for their turn, summed over the in-process drains."""
    waits = [d.turn_wait_seconds for d in r.in_process if d.turn_wait_seconds is not None]
    if not waits:
        return "| time writes waited for SQLite's lock | not measured | | |"
    seconds = sum(d.seconds for d in r.in_process)
    return (
        "| time writes waited for SQLite's lock in-process: none sleeps in its busy handler "
        f"(one writer per process); waiting for their turn at it, summed over all writes "
        f"| {sum(waits):.1f} s over {seconds:.1f} s of drains | | |"
    )


def _drain_table(r: ApiThroughputResults) -> list[str]:
    lines = [
        "| round | drain | s | runs/s | CPU of the executing process, cores | first claim after "
        "s | submit: s; p50 ms, p99 ms; answers |",
        "|---|---|---|---|---|---|---|",
    ]
    drains: list[tuple[str, str, Drain]] = []
    if not isinstance(r.baseline, str):
        drains.append(("-", f"in-process, code of {r.baseline_commit}", r.baseline))
    for number, (inside, api) in enumerate(zip(r.in_process, r.api, strict=True), start=1):
        drains += [(str(number), "in-process", inside), (str(number), "through the API", api)]
    for round_name, name, drain in drains:
        extra = " | "
        if isinstance(drain, ApiDrain):
            extra = (
                f"{drain.first_claim_seconds:.2f} | {drain.submit.wall_seconds:.1f}; "
                f"{drain.submit.p50_ms:.1f}, {drain.submit.p99_ms:.1f}; {_answers(drain.submit)}"
            )
        lines.append(
            f"| {round_name} | {name} | {drain.seconds:.2f} | {drain.runs_per_second:.0f} "
            f"| {_cores(drain.cpu_cores)} | {extra} |"
        )
    return lines


def section(r: ApiThroughputResults) -> list[str]:
    """The report's section: the drains round by round, then the ``POST`` batch."""
    post = r.post.load
    return [
        "## Runs through the API against the in-process drain",
        "",
        f"{r.runs} runs of `bench-noop` with {r.steps_per_run} steps. *In-process*: queued "
        "through `services.runs.start_run` into a fresh home, then executed by one `Worker` "
        f"(concurrency {r.worker_concurrency}) in the benchmark's process; timed from the "
        "first run's claim to the last one's completion (the runs' own stamps). *Through the "
        f"API*: a fresh server (default settings: its worker has concurrency "
        f"{r.worker_concurrency}); {r.submitters} clients (the lean client, each on its own "
        "connection, in a closed loop) send the `POST /api/workflows`; timed from the first "
        "`POST` sent to the last run's completion. The baseline is the in-process drain with "
        f"the code of {r.baseline_commit} (its `src/` exported by `git archive`, run in a "
        f"child process). Part: {r.seconds:.0f} s.",
        "",
        *_drain_table(r),
        "",
        f"`POST /api/workflows` under {post.concurrency} clients: {post.requests:,} requests "
        f"on the server of the last API round, each starting a {r.steps_per_run}-step run "
        "that the server's worker executes meanwhile.",
        "",
        "| requests | p50 ms | p99 ms | max ms | req/s | server CPU ms / request | answers "
        "| runs claimed, completed before the last answer | first request → all completed s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {post.requests:,} | {post.p50_ms:.1f} | {post.p99_ms:.1f} | {post.max_ms:.1f} "
        f"| {post.per_second:.0f} | {_cpu_per_request(post)} | {_answers(post)} "
        f"| {r.post.started_during:,}, {r.post.completed_during:,} "
        f"| {r.post.completed_seconds:.1f} |",
        "",
        "Waiting for SQLite's write lock: in one process no write sleeps in SQLite's busy "
        "handler (they queue for the process's one writer); the summary gives how long the "
        "in-process drains' writes waited for their turn, summed. The server's own wait is "
        "not read from outside.",
        "",
    ]


def _cpu_per_request(load: Load) -> str:
    ms = load.server_cpu_ms_per_request
    return "?" if ms is None else f"{ms:.2f}"
