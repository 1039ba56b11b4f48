"""Turning one benchmark run into the markdown printed and written to RESULTS.md (the API
part is rendered by ``api_report.py``, the failed-login storm by ``login_storm.py``, runs
through the API against the in-process drain by ``api_throughput_report.py``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import api_report, api_throughput_report, login_storm, parked, postgres_report
from bench.api_report import ApiResults
from bench.api_throughput_report import ApiThroughputResults
from bench.login_storm import LoginStormResults
from bench.parked import ParkedResults
from bench.postgres_report import PostgresResults, PostgresSkipped
from bench.resume import ResumeTiming, resume_table
from bench.timing import Sample

COMMAND = "make bench"
STEP_TARGET_RATIO = 3.0
RESUME_TARGET_SECONDS = 0.5


@dataclass(frozen=True)
class Round:
    """One floor measurement followed at once by one no-op run: their ratio is the fairest
    comparison this noisy machine allows."""

    floor: Sample
    step_ms: float

    @property
    def ratio_to_mean(self) -> float:
        return self.step_ms / self.floor.mean_ms

    @property
    def ratio_to_median(self) -> float:
        return self.step_ms / self.floor.median_ms


@dataclass(frozen=True)
class Results:
    facts: dict[str, str]
    commits: int
    steps: int
    rounds: list[Round]
    resumes: dict[int, list[ResumeTiming]]
    api: ApiResults
    login_storm: LoginStormResults
    api_throughput: ApiThroughputResults
    parked: ParkedResults
    postgres: PostgresResults | PostgresSkipped
    seconds: float


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _summary(results: Results) -> list[str]:
    rounds = results.rounds
    ratio = statistics.median(r.ratio_to_mean for r in rounds)
    lines = [
        "| measure | value | target | verdict |",
        "|---|---|---|---|",
        f"| floor: one INSERT+COMMIT, WAL, synchronous=FULL, mean | "
        f"{statistics.median(r.floor.mean_ms for r in rounds):.3f} ms | | |",
        f"| floor: same, median | {statistics.median(r.floor.median_ms for r in rounds):.3f} ms"
        " | | |",
        f"| no-op step through the engine ({results.steps} steps, wall / steps) | "
        f"{statistics.median(r.step_ms for r in rounds):.3f} ms | | |",
        f"| no-op step / floor mean | {ratio:.2f}x | ≤ {STEP_TARGET_RATIO:g}x | "
        f"{_verdict(ratio <= STEP_TARGET_RATIO)} |",
        f"| no-op step / floor median | "
        f"{statistics.median(r.ratio_to_median for r in rounds):.2f}x | | |",
    ]
    for completed, timings in results.resumes.items():
        seconds = statistics.median(t.to_first_step_seconds for t in timings)
        target = f"< {RESUME_TARGET_SECONDS:g} s" if completed >= 10_000 else ""
        verdict = _verdict(seconds < RESUME_TARGET_SECONDS) if target else ""
        lines.append(
            f"| resume past {completed:,} completed steps: execute → first new step "
            f"| {seconds:.3f} s | {target} | {verdict} |"
        )
    return (
        lines
        + api_report.summary_rows(results.api)
        + login_storm.summary_rows(results.login_storm)
        + api_throughput_report.summary_rows(results.api_throughput)
        + parked.summary_rows(results.parked)
        + postgres_report.summary_rows(results.postgres)
    )


def _rounds_table(results: Results) -> list[str]:
    lines = [
        "| round | floor mean ms | floor median ms | floor p99 ms | step ms | / mean | / median |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(results.rounds, start=1):
        p99 = sorted(r.floor.values_ms)[int(len(r.floor.values_ms) * 0.99)]
        lines.append(
            f"| {number} | {r.floor.mean_ms:.3f} | {r.floor.median_ms:.3f} | {p99:.3f} "
            f"| {r.step_ms:.3f} | {r.ratio_to_mean:.2f}x | {r.ratio_to_median:.2f}x |"
        )
    return lines


def render(results: Results) -> str:
    """The whole report as markdown: summary, machine, then every round."""
    facts = ["| fact | value |", "|---|---|"]
    facts += [f"| {name} | {value} |" for name, value in results.facts.items()]
    sections = [
        ["# Benchmark results", ""],
        [
            f"Made by `{COMMAND}` (`.venv/bin/python -m bench.run`, from the repository root) "
            f"in {results.seconds:.0f} s. Every number below comes from this one run on this "
            "one machine; the machine is small and noisy, so read the engine's ratios, which "
            "are taken within the run, rather than its absolute times. The API latencies are "
            "absolute: what a client on this machine waits, with the server and the clients "
            "sharing its cores. See `bench/README.md`.",
            "",
        ],
        [
            "## Summary",
            "",
            "Engine rows: the median of the rounds. API rows: every round's requests (or "
            "steps) pooled. PostgreSQL rows: the same engine on PostgreSQL, against "
            "PostgreSQL's own floor (medians of rounds; the WebSocket rows pooled).",
            "",
            *_summary(results),
            "",
        ],
        ["## Machine", "", *facts, ""],
        [
            f"## Floor and no-op steps, round by round ({results.commits} commits, "
            f"{results.steps} steps; each round measures the floor, then the engine)",
            "",
            *_rounds_table(results),
            "",
        ],
        ["## Resume, round by round", "", *resume_table(results.resumes), ""],
        *api_report.sections(results.api),
        login_storm.section(results.login_storm),
        api_throughput_report.section(results.api_throughput),
        parked.section(results.parked),
        postgres_report.section(results.postgres),
    ]
    return "\n".join(line for section in sections for line in section)
