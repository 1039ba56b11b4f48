"""``make bench``: every benchmark in one run, printed and written to ``bench/RESULTS.md``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.engine_steps import measure_noop_step_ms
from bench.journal_floor import measure_commit_floor
from bench.machine import machine_facts
from bench.report import Results, Round, render
from bench.resume import ResumeTiming, measure_resume

RESULTS_FILE = Path(__file__).with_name("RESULTS.md")
FLOOR_COMMITS = 2000
NOOP_STEPS = 2000
STEP_ROUNDS = 5
RESUME_SIZES = (1_000, 10_000)
RESUME_ROUNDS = 3


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


def main() -> None:
    """Measure everything, print the report and write it to RESULTS.md."""
    started = time.perf_counter()
    facts = machine_facts()
    rounds = measure_rounds()
    resumes = measure_resumes()
    results = Results(
        facts=facts,
        commits=FLOOR_COMMITS,
        steps=NOOP_STEPS,
        rounds=rounds,
        resumes=resumes,
        seconds=time.perf_counter() - started,
    )
    report = render(results)
    print(report)
    RESULTS_FILE.write_text(report)
    _progress(f"written to {RESULTS_FILE}")


if __name__ == "__main__":
    main()
