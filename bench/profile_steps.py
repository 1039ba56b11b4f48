"""Where a no-op step's time goes: ``python -m bench.profile_steps [steps]`` profiles one
no-op run with cProfile in both threads that do the work, the event loop (engine, worker)
and the journal thread (SQLite writes). Not part of ``make bench``; for whoever optimises."""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import sys
import time

from bench.harness import bench_home
from stepstone.worker.worker import Worker

TOP_FUNCTIONS = 25


def _stats_text(profile: cProfile.Profile, sort: str) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(TOP_FUNCTIONS)
    return out.getvalue()


def profile_noop_steps(steps: int) -> tuple[float, cProfile.Profile, cProfile.Profile]:
    """Execute ``steps`` no-op steps with one profiler on the loop thread and one on the
    journal thread; returns the wall seconds and both profiles."""
    loop_profile, journal_profile = cProfile.Profile(), cProfile.Profile()
    with bench_home() as home:
        run_id = home.start("bench-noop", {"steps": steps})

        async def main() -> float:
            worker = Worker(home.db, concurrency=1)
            # The journal's single thread is private to the worker; a profiler has to be
            # switched on from inside that thread, which is where call() runs its function.
            await worker._journal.call(lambda _journal: journal_profile.enable())
            try:
                started = time.perf_counter()
                loop_profile.enable()
                await worker.execute_inline(run_id)
                loop_profile.disable()
                return time.perf_counter() - started
            finally:
                await worker._journal.call(lambda _journal: journal_profile.disable())
                worker.close()

        seconds = asyncio.run(main())
    return seconds, loop_profile, journal_profile


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seconds, loop_profile, journal_profile = profile_noop_steps(steps)
    print(f"{steps} steps in {seconds:.3f} s under the profiler: {seconds * 1000 / steps:.3f} ms")
    threads = (("event loop thread", loop_profile), ("journal thread", journal_profile))
    for title, profile in threads:
        for sort in ("tottime", "cumulative"):
            print(f"\n== {title}, by {sort} ==")
            print(_stats_text(profile, sort))


if __name__ == "__main__":
    main()
