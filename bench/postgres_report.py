"""The PostgreSQL part of RESULTS.md: summary rows and the section with every round."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.api_report import WS_P99_TARGET_MS, ws_table
from bench.journal_floor import PostgresFloor
from bench.resume import ResumeTiming, resume_table
from bench.throughput import Throughput
from bench.timing import percentile
from bench.ws_delay import WsDelayResults

STEP_TARGET_RATIO = 3.0
RESUME_TARGET_SECONDS = 0.5
WS_PROCESSES = (
    "an API-only `python -m stepstone serve --no-worker --port <free port>` and one "
    "`python -m stepstone worker`, both with `STEPSTONE_DATABASE_URL` set to one fresh "
    "database and their default settings (worker concurrency 8, poll 0.25 s, live feed poll "
    "0.25 s)"
)


@dataclass(frozen=True)
class PostgresRound:
    """The PostgreSQL floor, then at once a no-op run on PostgreSQL."""

    floor: PostgresFloor
    step_ms: float

    @property
    def ratio_to_mean(self) -> float:
        return self.step_ms / self.floor.commit.mean_ms

    @property
    def ratio_to_median(self) -> float:
        return self.step_ms / self.floor.commit.median_ms

    @property
    def in_round_trips(self) -> float:
        """The step's cost counted in bare round trips (``SELECT 1``, mean)."""
        return self.step_ms / self.floor.round_trip.mean_ms


@dataclass(frozen=True)
class PostgresResults:
    facts: dict[str, str]
    commits: int
    steps: int
    rounds: list[PostgresRound]
    throughput: list[Throughput]
    resumes: dict[int, list[ResumeTiming]]
    ws_rounds: list[WsDelayResults]
    seconds: float

    def runs_per_second_by_workers(self) -> dict[int, float]:
        """The median of the rounds' runs/s for each number of worker processes."""
        by_workers: dict[int, list[float]] = {}
        for result in self.throughput:
            by_workers.setdefault(result.workers, []).append(result.runs_per_second)
        return {workers: statistics.median(v) for workers, v in sorted(by_workers.items())}

    @property
    def ws_delays_ms(self) -> tuple[float, ...]:
        return tuple(ms for r in self.ws_rounds for ms in r.delays_ms)


@dataclass(frozen=True)
class PostgresSkipped:
    """The PostgreSQL part did not run."""

    reason: str


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _grows(rates: dict[int, float]) -> bool:
    return 1 in rates and 2 in rates and rates[2] > rates[1]


def summary_rows(pg: PostgresResults | PostgresSkipped) -> list[str]:
    """Rows for the summary table (``| measure | value | target | verdict |``)."""
    if isinstance(pg, PostgresSkipped):
        return [f"| PostgreSQL | skipped: {pg.reason} | | |"]
    rounds = pg.rounds
    ratio = statistics.median(r.ratio_to_mean for r in rounds)
    floor_ms = statistics.median(r.floor.commit.mean_ms for r in rounds)
    round_trip_ms = statistics.median(r.floor.round_trip.mean_ms for r in rounds)
    rates = pg.runs_per_second_by_workers()
    workers = ", ".join(str(k) for k in rates)
    lines = [
        f"| PostgreSQL floor: one INSERT+COMMIT round trip (autocommit, synchronous_commit "
        f"on), mean; a bare round trip (`SELECT 1`), mean | {floor_ms:.3f} ms; "
        f"{round_trip_ms:.3f} ms | | |",
        f"| PostgreSQL: no-op step through the engine ({pg.steps} steps, wall / steps) | "
        f"{statistics.median(r.step_ms for r in rounds):.3f} ms | | |",
        f"| PostgreSQL: no-op step / its floor mean | {ratio:.2f}x | ≤ {STEP_TARGET_RATIO:g}x "
        f"| {_verdict(ratio <= STEP_TARGET_RATIO)} |",
        f"| PostgreSQL: {pg.throughput[0].steps_per_run}-step runs/s drained by {workers} "
        f"worker processes | {' / '.join(f'{rate:.0f}' for rate in rates.values())} runs/s "
        f"| more with 2 than with 1 (2 cores) | {_verdict(_grows(rates))} |",
    ]
    for completed, timings in pg.resumes.items():
        seconds = statistics.median(t.to_first_step_seconds for t in timings)
        target = f"< {RESUME_TARGET_SECONDS:g} s" if completed >= 10_000 else ""
        verdict = _verdict(seconds < RESUME_TARGET_SECONDS) if target else ""
        lines.append(
            f"| PostgreSQL: resume past {completed:,} completed steps: execute → first new "
            f"step | {seconds:.3f} s | {target} | {verdict} |"
        )
    ws = pg.ws_delays_ms
    ws_p99 = percentile(ws, 0.99)
    lines += [
        f"| PostgreSQL: step completion in a worker process → WebSocket message from an "
        f"API-only process ({len(ws)} steps): p50 | {percentile(ws, 0.5):.1f} ms | | |",
        f"| same: p99 | {ws_p99:.1f} ms | < {WS_P99_TARGET_MS:g} ms | "
        f"{_verdict(ws_p99 < WS_P99_TARGET_MS)} |",
    ]
    return lines


def _rounds_table(pg: PostgresResults) -> list[str]:
    lines = [
        "| round | floor mean ms | floor median ms | floor p99 ms | `SELECT 1` mean ms "
        "| step ms | / floor mean | / floor median | step in round trips |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(pg.rounds, start=1):
        commit = r.floor.commit
        lines.append(
            f"| {number} | {commit.mean_ms:.3f} | {commit.median_ms:.3f} "
            f"| {percentile(commit.values_ms, 0.99):.3f} | {r.floor.round_trip.mean_ms:.3f} "
            f"| {r.step_ms:.3f} | {r.ratio_to_mean:.2f}x | {r.ratio_to_median:.2f}x "
            f"| {r.in_round_trips:.1f} |"
        )
    return lines


def _throughput_table(pg: PostgresResults) -> list[str]:
    lines = [
        "| workers | runs | queue s | workers up s | gate → first claim s | first claim → "
        "last completion s | runs/s | steps/s | runs per worker | workers' CPU, cores "
        "| PostgreSQL backends' CPU, cores | machine busy, cores | gate held |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in pg.throughput:
        lines.append(
            f"| {r.workers} | {r.runs} | {r.queue_seconds:.2f} | {r.startup_seconds:.2f} "
            f"| {r.first_claim_seconds:.3f} | {r.drain_seconds:.2f} | {r.runs_per_second:.0f} "
            f"| {r.steps_per_second:.0f} | {' + '.join(str(n) for n in r.runs_per_worker)} "
            f"| {r.worker_cpu_cores:.2f} | {r.postgres_cpu_cores:.2f} "
            f"| {r.machine_busy_cores:.2f} "
            f"| {'yes' if r.gate_held else '**no**'} |"
        )
    rates = pg.runs_per_second_by_workers()
    one = rates.get(1)
    lines += ["", "| workers | runs/s, median of the rounds | relative to one worker |"]
    lines.append("|---|---|---|")
    for workers, rate in rates.items():
        scale = f"{rate / one:.2f}x" if one else "?"
        lines.append(f"| {workers} | {rate:.0f} | {scale} |")
    return lines


def section(pg: PostgresResults | PostgresSkipped) -> list[str]:
    """The PostgreSQL section of the report."""
    if isinstance(pg, PostgresSkipped):
        return ["## PostgreSQL", "", f"Skipped: {pg.reason}.", ""]
    facts = ["| fact | value |", "|---|---|"]
    facts += [f"| {name} | {value} |" for name, value in pg.facts.items()]
    first = pg.throughput[0]
    return [
        "## PostgreSQL",
        "",
        "The same engine on PostgreSQL, read against PostgreSQL's own floor measured in the "
        "same rounds. Every measurement runs on a fresh database, created for it and dropped "
        f"afterwards. PostgreSQL part: {pg.seconds:.0f} s.",
        "",
        *facts,
        "",
        f"### Floor and no-op steps, round by round ({pg.commits} commits, {pg.steps} steps)",
        "",
        "*Floor*: a single-row `INSERT` with plain psycopg 3 in autocommit mode, each timed "
        "on its own: one round trip in which the server commits and waits for its WAL flush. "
        "Then as many `SELECT 1`, a round trip that writes nothing. *Step*: a `bench-noop` run "
        f"of {pg.steps} steps executed by a real worker (`execute_inline`) on a fresh "
        "database; wall time / steps. *Step in round trips* = step ms / `SELECT 1` mean ms.",
        "",
        *_rounds_table(pg),
        "",
        f"### Throughput of {first.steps_per_run}-step runs by worker processes",
        "",
        f"{first.runs} runs of `bench-noop` with {first.steps_per_run} no-op steps are queued "
        "through `start_run` into a fresh database, then K real `python -m stepstone worker "
        f"--concurrency {first.concurrency}` processes start on the same home. Until all are "
        "up, the benchmark holds a transaction that locks every queued run (`FOR UPDATE`), "
        "which the workers' claims skip (`SKIP LOCKED`); it then commits (the *gate* opens) "
        "and every run is released at once. runs/s = runs / (first claim → last completion), "
        "from the runs' own `started_at` and `completed_at`. *Workers' CPU* is theirs over "
        "gate → all completed, *PostgreSQL backends' CPU* that of the backends connected to "
        "the database then (from `/proc`); *machine busy* is every core's busy time over the "
        "same window: the workers, PostgreSQL, this process polling every 20 ms, and anything "
        "else running on the machine (what is left after the first two). Rounds alternate "
        "the worker counts.",
        "",
        *_throughput_table(pg),
        "",
        "### Resume on PostgreSQL, round by round",
        "",
        "As the SQLite resume benchmark (`bench/resume.py`), on a fresh PostgreSQL database "
        "per cycle.",
        "",
        *resume_table(pg.resumes),
        "",
        "### Step completion → WebSocket message across processes",
        "",
        f"Two processes: {WS_PROCESSES}. A client subscribed to `project:ID` on the API "
        "process; the worker process executes a `bench-ticks` run whose steps sleep, then "
        "return `time.time()`. Delay = the message's arrival at the client minus the step's "
        "output. The API process learns of the worker's writes only through the database: "
        "its live feed reads the changed rows when PostgreSQL notifies it of a commit "
        "(`LISTEN/NOTIFY`) or at its next poll. The delay covers the completion's commit, "
        "the notification (or the wait for the poll), the feed's read and the WebSocket hop.",
        "",
        *ws_table(pg.ws_rounds),
        "",
    ]
