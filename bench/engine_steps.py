"""Per-step overhead: no-op steps through the real engine, worker and journal."""

from __future__ import annotations

from bench.harness import bench_home, execute


def measure_noop_step_ms(steps: int, database_url: str | None = None) -> float:
    """Milliseconds per step of one run of ``steps`` no-op steps, executed by a real worker
    on a fresh home (SQLite, or the empty PostgreSQL database ``database_url``): the wall
    time of ``Worker.execute_inline`` divided by ``steps``. It includes the run's fixed
    costs (claim, loading the definition, recording the outcome), which ``steps`` large
    enough makes negligible."""
    with bench_home(database_url) as home:
        run_id = home.start("bench-noop", {"steps": steps})
        execution = execute(home.db, run_id)
    if execution.outcome is None or execution.outcome.status != "completed":
        raise RuntimeError(f"the no-op run did not complete: {execution.outcome}")
    return execution.seconds * 1000 / steps
