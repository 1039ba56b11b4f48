"""Chaos: runs killed with SIGKILL at random moments, recovered by every path a user has.

A trial starts a run of the ``chaos`` workflow (function, ``cli`` and durable-sleep steps in
two phases) either inline (``stepstone run --inline``) or queued for a worker (``stepstone
run``, then ``stepstone worker``), and kills the process executing it at a random moment:
at a random time after it started, or right after an inline command printed the run's id.
It then recovers the run as a user would: ``stepstone resume --inline``, or ``stepstone
resume`` and a worker (a run still queued only needs a worker). Some recoveries are killed
too, and recovered again. Every execution of a step's function appends a line to the run's
effects file. After each trial the run must have:

- nothing **lost**: it completed with the right result, and every step seen completed after
  a kill is still that same completion (same output, same completion time);
- nothing **doubled**: each step has one completed attempt, no more executions than attempts,
  and no execution that began after the step's completion was recorded;
- nothing **stuck**: it completed within ``STUCK_SECONDS`` of its last recovery.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepstone.services.projects import add_project
from stepstone.services.runs import get_run, list_runs
from stepstone.store import runs as run_store
from stepstone.store.database import Database

STUCK_SECONDS = 20.0
"""A run takes about a second; a lease or reservation left by a dead process takes 30 s."""
KILL_WINDOW_SECONDS = 2.2
"""Kills land uniformly in this long after a process starts: a CLI process takes about half a
second to start and a run of the workflow about one second, so some kills land before the
run exists, some during its steps and some after it ended."""
SECOND_KILL_CHANCE = 0.3
MAX_RECOVERIES = 3
STEP_SECONDS = (0.02, 0.2)

WORKFLOW = textwrap.dedent(
    '''
    from __future__ import annotations

    import asyncio
    import pathlib
    import random
    import shlex
    import time

    from stepstone import Context, workflow

    EFFECTS = pathlib.Path(__file__).resolve().parents[2] / "effects"


    def record(run_id: str, key: str) -> None:
        """One line per execution of a step's function."""
        with (EFFECTS / f"{run_id}.log").open("a") as log:
            log.write(f"{key} {time.time():.6f}\\n")


    def build(run_id: str, key: str, seconds: float, value: str) -> str:
        record(run_id, key)
        time.sleep(seconds)
        return value


    async def part(run_id: str, key: str, seconds: float, value: str) -> str:
        record(run_id, key)
        await asyncio.sleep(seconds)
        return value


    @workflow(id="chaos", phases=["build", "ship"])
    async def chaos(ctx: Context) -> dict:
        seed = int(ctx.args["seed"])
        rnd = random.Random(seed)
        seconds = [round(rnd.uniform(LOW, HIGH), 3) for _ in range(6)]
        run_id = ctx.run.id
        log = shlex.quote(str(EFFECTS / f"{run_id}.log"))
        outputs = []
        async with ctx.phase("build"):
            prepared = await ctx.step.run(
                "prepare", build, run_id, "build-prepare", seconds[0], f"prepared-{seed}"
            )
            outputs.append(prepared)
            compiled = await ctx.step.cli(
                "compile",
                f"echo build-compile $(date +%s.%N) >> {log}; sleep {seconds[1]};"
                f" echo compiled-{seed}",
            )
            outputs.append(compiled.stdout.strip())
            await ctx.step.sleep("settle", seconds[2])
        async with ctx.phase("ship"):
            for i in range(3):
                key = "ship-part" if i == 0 else f"ship-part#{i + 1}"
                outputs.append(
                    await ctx.step.run("part", part, run_id, key, seconds[3 + i], f"part{i}-{seed}")
                )
        return {"seed": seed, "outputs": outputs}
    '''
).replace("LOW, HIGH", f"{STEP_SECONDS[0]}, {STEP_SECONDS[1]}")

SLEEP_STEPS = {"build-settle"}


def expected_result(seed: int) -> dict[str, Any]:
    outputs = [f"prepared-{seed}", f"compiled-{seed}"] + [f"part{i}-{seed}" for i in range(3)]
    return {"seed": seed, "outputs": outputs}


@dataclass
class Tally:
    """What the trials did and found."""

    trials: int = 0
    lost: int = 0
    doubled: int = 0
    stuck: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    starts_killed_before_the_run_existed: int = 0
    recoveries: Counter[str] = field(default_factory=Counter)
    states_after_kill: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return self.lost == self.doubled == self.stuck == 0

    def summary(self) -> str:
        return (
            f"{self.trials} trials in {self.seconds:.0f} s: {self.lost} lost, "
            f"{self.doubled} doubled, {self.stuck} stuck"
        )


class Chaos:
    """A Stepstone home with one project holding the chaos workflow."""

    def __init__(
        self, root: Path, rng: random.Random, tally: Tally, database_url: str | None = None
    ) -> None:
        self.root = root
        self.rng = rng
        self.tally = tally
        self.home = root / "home"
        self.project = root / "project"
        self.effects = self.project / "effects"
        self.logs = root / "logs"
        for folder in (self.effects, self.logs, self.project / ".stepstone" / "workflows"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.project / ".stepstone" / "workflows" / "chaos.py").write_text(WORKFLOW)
        self.env = {
            **os.environ,
            "STEPSTONE_HOME": str(self.home),
            "STEPSTONE_POLL_SECONDS": "0.05",
            "COLUMNS": "200",
        }
        if database_url is None:
            self.env.pop("STEPSTONE_DATABASE_URL", None)
        else:
            self.env["STEPSTONE_DATABASE_URL"] = database_url
        self.db = Database.open(
            database_url or f"sqlite:///{self.home / 'stepstone.db'}", files_dir=self.home
        )
        self.project_id = add_project(self.db, self.project, name="chaos")["id"]
        self._spawned = 0

    def close(self) -> None:
        self.db.dispose()

    # -- processes -------------------------------------------------------------------------

    def spawn(self, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        self._spawned += 1
        log_path = self.logs / f"{self._spawned:05d}-{args[0]}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "stepstone", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.root,
            )
        return proc, log_path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "stepstone", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )

    def kill_at_random(
        self, proc: subprocess.Popen[bytes], log_path: Path, *, inline: bool, what: str
    ) -> None:
        """SIGKILL ``proc`` at a random moment (unless it ended first); for an inline command,
        often right after it printed the run's id, where a reservation used to live."""
        if inline and self.rng.random() < 0.4:
            deadline = time.monotonic() + KILL_WINDOW_SECONDS * 4
            while proc.poll() is None and time.monotonic() < deadline:
                if "run " in log_path.read_text(errors="replace"):
                    break
                time.sleep(0.005)
            time.sleep(self.rng.uniform(0, 0.1))
            moment = "after-id"
        else:
            time.sleep(self.rng.uniform(0, KILL_WINDOW_SECONDS))
            moment = "random"
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            self.tally.kills[f"{what} ({moment})"] += 1
        proc.wait(timeout=30)

    # -- journal ---------------------------------------------------------------------------

    def find_run(self, name: str) -> dict[str, Any] | None:
        runs, _ = list_runs(self.db, search=name, limit=5)
        matching = [run for run in runs if run["name"] == name]
        return get_run(self.db, matching[0]["id"]) if matching else None

    def completed_steps(self, run_id: str) -> dict[str, tuple[str | None, float]]:
        """Each completed step's output and when its completion was recorded."""
        with self.db.read() as conn:
            steps = {s["id"]: s for s in run_store.steps_of_run_txn(conn, run_id)}
            attempts = run_store.attempts_of_run_txn(conn, run_id)
        return {
            steps[a["step_id"]]["key"]: (steps[a["step_id"]]["output"], a["completed_at"])
            for a in attempts
            if a["status"] == "completed"
        }

    def executions(self, run_id: str) -> dict[str, list[float]]:
        path = self.effects / f"{run_id}.log"
        found: dict[str, list[float]] = {}
        for line in path.read_text().splitlines() if path.exists() else []:
            key, at = line.split()
            found.setdefault(key, []).append(float(at))
        return found


def run_trials(
    root: Path,
    trials: int,
    *,
    seed: int = 0,
    database_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Tally:
    """``trials`` chaos trials in a fresh home under ``root``, on its embedded SQLite file
    or on the (empty) database at ``database_url``."""
    tally = Tally()
    chaos = Chaos(root, random.Random(seed), tally, database_url)
    began = time.monotonic()
    try:
        for number in range(1, trials + 1):
            _trial(chaos, tally, number)
            tally.trials = number
            tally.seconds = time.monotonic() - began
            if progress is not None and (number % 10 == 0 or number == trials):
                progress(f"{tally.summary()}  (kills: {sum(tally.kills.values())})")
    finally:
        tally.seconds = time.monotonic() - began
        chaos.close()
    return tally


def _trial(chaos: Chaos, tally: Tally, number: int) -> None:
    name = f"chaos-{number:05d}"
    seed = chaos.rng.randrange(1_000_000)
    run = _start_and_kill(chaos, name, seed)
    seen: dict[str, tuple[str | None, float]] = {}
    for recovery in range(MAX_RECOVERIES):
        tally.states_after_kill[_state(run)] += 1
        for key, completion in chaos.completed_steps(run["id"]).items():
            seen.setdefault(key, completion)
        if run["status"] == "completed":
            break
        last = recovery == MAX_RECOVERIES - 1
        killed = not last and chaos.rng.random() < SECOND_KILL_CHANCE
        path = _recover(chaos, run, kill=killed)
        tally.recoveries[path] += 1
        run = get_run(chaos.db, run["id"])
        if not killed:
            break
    _check(chaos, tally, name, seed, run, seen)


def _start_and_kill(chaos: Chaos, name: str, seed: int) -> dict[str, Any]:
    """Start the trial's run and kill what executes it; a start killed before it created the
    run is started again, as a user would."""
    while True:
        args = ("run", "chaos", "chaos", "--arg", f"seed={seed}", "--name", name)
        if chaos.rng.random() < 0.5:
            proc, log_path = chaos.spawn(*args, "--inline")
            chaos.kill_at_random(proc, log_path, inline=True, what="run --inline")
        else:
            queued = chaos.cli(*args)
            assert queued.returncode == 0, queued.stderr
            proc, log_path = chaos.spawn("worker", "--concurrency", "1")
            chaos.kill_at_random(proc, log_path, inline=False, what="worker")
        run = chaos.find_run(name)
        if run is not None:
            return run
        chaos.tally.starts_killed_before_the_run_existed += 1


def _state(run: dict[str, Any]) -> str:
    if run["status"] == "running":
        return "running (live)" if run["is_live"] else "running (interrupted)"
    return str(run["status"])


def _recover(chaos: Chaos, run: dict[str, Any], *, kill: bool) -> str:
    """Recover the run by a random path a user has (``resume --inline``, or ``resume`` and a
    worker; a worker alone when resume refuses a run that is still queued); kill the
    recovering process if asked. Returns the path taken."""
    run_id = run["id"]
    if chaos.rng.random() < 0.5:
        proc, log_path = chaos.spawn("resume", run_id, "--inline")
        if kill:
            chaos.kill_at_random(proc, log_path, inline=True, what="resume --inline")
            return "resume --inline (killed)"
        _wait_for_exit(proc)
        if get_run(chaos.db, run_id)["status"] != "pending":
            return "resume --inline"
        path = "resume --inline refused (queued), then a worker"
    elif chaos.cli("resume", run_id).returncode == 0:
        path = "resume + worker"
    else:
        path = "resume refused (queued), then a worker"
    proc, log_path = chaos.spawn("worker", "--concurrency", "1")
    if kill:
        chaos.kill_at_random(proc, log_path, inline=False, what="worker (recovering)")
        return path + " (killed)"
    deadline = time.monotonic() + STUCK_SECONDS
    while time.monotonic() < deadline:
        if get_run(chaos.db, run_id)["status"] not in ("pending", "running"):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _wait_for_exit(proc)
    return path


def _wait_for_exit(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=STUCK_SECONDS)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def _check(
    chaos: Chaos,
    tally: Tally,
    name: str,
    seed: int,
    run: dict[str, Any],
    seen: dict[str, tuple[str | None, float]],
) -> None:
    problems: dict[str, list[str]] = {"lost": [], "doubled": [], "stuck": []}
    if run["status"] != "completed":
        problems["stuck"].append(f"{_state(run)}: {run['error_message']}")
    elif run["result"] != expected_result(seed):
        problems["lost"].append(f"result {run['result']!r}")
    completions = chaos.completed_steps(run["id"])
    for key, completion in seen.items():
        if completions.get(key) != completion:
            problems["lost"].append(f"{key} was {completion}, now {completions.get(key)}")
    executions = chaos.executions(run["id"])
    for step in run["steps"]:
        key = step["key"]
        attempts = step["attempts"]
        if sum(a["status"] == "completed" for a in attempts) > 1:
            problems["doubled"].append(f"{key} completed more than once")
        ran = executions.get(key, [])
        if len(ran) > len(attempts):
            problems["doubled"].append(f"{key}: {len(ran)} executions, {len(attempts)} attempts")
        done_at = completions.get(key, (None, None))[1]
        if done_at is not None and any(at > done_at for at in ran):
            problems["doubled"].append(f"{key} executed after its completion was recorded")
        if key not in SLEEP_STEPS and step["status"] == "completed" and not ran:
            problems["lost"].append(f"{key} completed without executing")
    for kind, found in problems.items():
        if found:
            setattr(tally, kind, getattr(tally, kind) + 1)
            tally.failures.append(f"{name} ({run['id']}) {kind}: {'; '.join(found)}")


def report(tally: Tally) -> str:
    """The counts as a few readable lines."""
    lines = [tally.summary(), "", "kills:"]
    lines += [f"  {count:4d}  {what}" for what, count in sorted(tally.kills.items())]
    lines += [
        f"  ({tally.starts_killed_before_the_run_existed} of them before the run existed:"
        " started again)",
        "state of the run after each kill:",
    ]
    lines += [f"  {count:4d}  {what}" for what, count in sorted(tally.states_after_kill.items())]
    lines += ["recoveries:"]
    lines += [f"  {count:4d}  {what}" for what, count in sorted(tally.recoveries.items())]
    if tally.failures:
        lines += ["failures:"] + [f"  {failure}" for failure in tally.failures]
    return "\n".join(lines)
