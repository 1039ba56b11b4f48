"""Resume time: from executing a resumed run to its first incomplete step starting."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import bench_home, execute
from stepstone.services.runs import resume_run


@dataclass(frozen=True)
class ResumeTiming:
    """Seconds spent by the phases of one fail-then-resume cycle."""

    completed_steps: int
    first_execution_seconds: float
    """Executing the run the first time: ``completed_steps`` steps, then the sentinel fails."""
    resume_call_seconds: float
    """``services.runs.resume_run`` (what the CLI and API call), not part of the target."""
    to_first_step_seconds: float
    """From just before ``execute_inline`` of the resumed run to the sentinel's function
    starting: claim, loading code and journal, replaying every completed step. The target."""


def measure_resume(completed_steps: int, database_url: str | None = None) -> ResumeTiming:
    """Run ``completed_steps`` no-op steps and a sentinel that fails, resume the failed run
    with the flag removed, and time how long the resumed execution takes to reach the
    sentinel, which writes ``time.perf_counter()`` when its function starts. On a fresh
    SQLite home, or on the empty PostgreSQL database ``database_url``."""
    with bench_home(database_url) as home:
        mark_file, fail_flag = home.root / "sentinel-started", home.root / "fail"
        fail_flag.touch()
        run_id = home.start(
            "bench-resume",
            {"steps": completed_steps, "mark_file": str(mark_file), "fail_flag": str(fail_flag)},
        )
        first = execute(home.db, run_id)
        _expect(first.outcome is not None and first.outcome.status == "failed", first)
        fail_flag.unlink()
        mark_file.unlink()
        resume_started = time.perf_counter()
        resume_run(home.db, run_id)
        resume_call_seconds = time.perf_counter() - resume_started
        resumed = execute(home.db, run_id)
        _expect(resumed.outcome is not None and resumed.outcome.status == "completed", resumed)
        sentinel_started = float(Path(mark_file).read_text())
    return ResumeTiming(
        completed_steps=completed_steps,
        first_execution_seconds=first.seconds,
        resume_call_seconds=resume_call_seconds,
        to_first_step_seconds=sentinel_started - resumed.started_at,
    )


def _expect(condition: bool, execution: object) -> None:
    if not condition:
        raise RuntimeError(f"the resume benchmark's run ended unexpectedly: {execution}")


def resume_table(resumes: dict[int, list[ResumeTiming]]) -> list[str]:
    """The markdown table of every fail-then-resume cycle, by size and round."""
    lines = [
        "| completed steps | round | first execution s | resume_run() s | execute → sentinel s |",
        "|---|---|---|---|---|",
    ]
    for completed, timings in resumes.items():
        for number, t in enumerate(timings, start=1):
            lines.append(
                f"| {completed:,} | {number} | {t.first_execution_seconds:.3f} "
                f"| {t.resume_call_seconds:.3f} | {t.to_first_step_seconds:.3f} |"
            )
    return lines
