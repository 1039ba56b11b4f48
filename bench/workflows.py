"""The workflows the benchmarks run, copied into a temporary project as its definition file.

``bench-noop`` runs ``steps`` no-op steps. ``bench-resume`` runs ``steps`` no-op steps and then
a sentinel step that writes ``time.perf_counter()`` to ``mark_file`` when its function starts,
and fails while ``fail_flag`` exists, so the run can be failed once and then resumed.
``bench-flaky`` is a single step that fails while ``fail_flag`` exists (runs to resume through
the API). ``bench-ticks`` runs ``steps`` steps that sleep ``pause_seconds`` and return
``time.time()`` (the WebSocket delay). ``bench-wait`` parks until the event ``go`` arrives.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from stepstone import Context, workflow


async def noop() -> None:
    """A step that does nothing: what is left is the engine's own cost."""


def sentinel(mark_file: str, fail_flag: str) -> str:
    """Record when the step's function started; fail while the flag file exists."""
    started = time.perf_counter()
    Path(mark_file).write_text(repr(started))
    if Path(fail_flag).exists():
        raise RuntimeError("planned failure: the benchmark resumes the run past this step")
    return "resumed"


@workflow(id="bench-noop", name="Benchmark: no-op steps")
async def bench_noop(ctx: Context) -> int:
    """``args.steps`` no-op steps, one after another."""
    steps = int(ctx.args["steps"])
    for i in range(steps):
        await ctx.step.run(f"s{i}", noop)
    return steps


@workflow(id="bench-resume", name="Benchmark: resume past completed steps")
async def bench_resume(ctx: Context) -> str:
    """``args.steps`` no-op steps, then the sentinel."""
    for i in range(int(ctx.args["steps"])):
        await ctx.step.run(f"s{i}", noop)
    result: str = await ctx.step.run(
        "sentinel", sentinel, ctx.args["mark_file"], ctx.args["fail_flag"]
    )
    return result


def flaky(fail_flag: str) -> str:
    """Fail while the flag file exists, succeed once it is gone."""
    if Path(fail_flag).exists():
        raise RuntimeError("planned failure: the benchmark resumes this run")
    return "ok"


async def tick(pause_seconds: float) -> float:
    """Sleep a little, then return the wall-clock time (``time.time()``) of returning."""
    await asyncio.sleep(pause_seconds)
    return time.time()


@workflow(id="bench-flaky", name="Benchmark: one step that fails while a flag exists")
async def bench_flaky(ctx: Context) -> str:
    """One step that fails while ``args.fail_flag`` exists: a run to fail once and resume."""
    result: str = await ctx.step.run("flaky", flaky, ctx.args["fail_flag"])
    return result


@workflow(id="bench-ticks", name="Benchmark: steps that return when they end")
async def bench_ticks(ctx: Context) -> int:
    """``args.steps`` steps, each sleeping ``args.pause_seconds`` and returning the moment
    it returns, so a live client can tell how late the step's message reached it."""
    steps, pause = int(ctx.args["steps"]), float(ctx.args["pause_seconds"])
    for i in range(steps):
        await ctx.step.run(f"t{i}", tick, pause)
    return steps


@workflow(id="bench-wait", name="Benchmark: wait for an event")
async def bench_wait(ctx: Context) -> object:
    """Park until the event ``go`` is sent (SPEC 3.12); return its data."""
    return await ctx.step.wait_for_event("wait", event="go")
