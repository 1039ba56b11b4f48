"""``--inline``: executing a run in the command's own process, and what Ctrl-C does to it.

The run is taken by this process in the same transaction that creates or resumes it, so
there is no moment at which it waits for this process alone: killed at any point after
that, it is an interrupted run (SPEC 3.6) that any path resumes at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, NoReturn

import typer
from rich.console import Console

from stepstone.cli.follow import follow_run
from stepstone.services import runs as run_services
from stepstone.store.database import Database
from stepstone.store.leases import LeaseHolder
from stepstone.store.records import Run
from stepstone.vocabulary import RunStatus
from stepstone.worker.worker import Worker

INTERRUPTED_EXIT_CODE = 130
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Ctrl-C and SIGTERM while a command executes a run here. The first asks the command
    to stop at its next safe point: the task it :meth:`watch`-es is cancelled (the running
    step's processes end, the lease is released) and synchronous code checks
    :attr:`requested`. A second one ends the process at once, leaving the run as ``kill -9``
    would: interrupted, and resumable. Once the command has said how it ended, any further
    signal only hurries its exit."""

    def __init__(self) -> None:
        self.requested = False
        self.run_id: str | None = None
        self._task: asyncio.Task[Any] | None = None
        self._previous: dict[int, Any] = {}
        self._leaving = False

    def __enter__(self) -> Interrupts:
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._leaving:
            return  # the quiet exit stays until the process ends
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def message(self) -> str:
        if self.run_id is None:
            return "interrupted; no run was started"
        return f"interrupted; the run is resumable: stepstone resume {self.run_id} --inline"

    def watch(self, task: asyncio.Task[Any]) -> None:
        """Cancel ``task`` on the first interrupt (at once if one came already)."""
        self._task = task
        if self.requested:
            task.cancel()

    def leave(self, err_console: Console) -> NoReturn:
        """Print the one line that says how to resume, and exit 130."""
        self._exit_quietly_on_signals()
        err_console.print(self.message(), style="yellow", highlight=False)
        raise typer.Exit(INTERRUPTED_EXIT_CODE)

    def _exit_quietly_on_signals(self) -> None:
        self._leaving = True
        for sig in _SIGNALS:
            signal.signal(sig, _exit_now)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self._exit_quietly_on_signals()
            os.write(2, (self.message() + "\n").encode())
            _exit_now(signum, frame)
        self.requested = True
        task = self._task
        if task is not None and not task.done():
            # As asyncio.run does for Ctrl-C: this handler runs on the loop's thread, between
            # two of its steps; the no-op callback wakes a loop that sleeps in select().
            task.cancel()
            task.get_loop().call_soon_threadsafe(lambda: None)


def _exit_now(signum: int, frame: FrameType | None) -> NoReturn:
    if sys.stdout.isatty():
        os.write(1, b"\x1b[?25h")  # --follow's live table hides the cursor; show it again
    os._exit(INTERRUPTED_EXIT_CODE)


def execute_here(
    db: Database,
    new_worker: Callable[[], Worker],
    interrupts: Interrupts,
    begin: Callable[[LeaseHolder], Run],
    *,
    console: Console,
    err_console: Console,
    follow: bool,
) -> Run:
    """Create or resume a run with ``begin`` (which takes it for a new worker of this
    process in the same transaction), execute it here and return the run as it ended. When
    an interrupt left it interrupted, print one line saying how to resume and exit 130."""
    worker = new_worker()
    try:
        if interrupts.requested:
            interrupts.leave(err_console)
        holder = worker.holder()
        run_id = begin(holder)["id"]
        interrupts.run_id = run_id
        err_console.print(f"run {run_id}", style="dim")
        try:
            lease = holder.lease_token
            asyncio.run(_execute(worker, db, run_id, lease, interrupts, follow, console))
        except asyncio.CancelledError:
            # Released already, unless the interrupt came before the execution began.
            worker.release(run_id, holder.lease_token)
        final = run_services.get_run(db, run_id)
    finally:
        worker.close()
    if interrupts.requested and final["status"] == RunStatus.RUNNING and not final["is_live"]:
        interrupts.leave(err_console)
    return final


async def _execute(
    worker: Worker,
    db: Database,
    run_id: str,
    lease_token: str,
    interrupts: Interrupts,
    follow: bool,
    console: Console,
) -> None:
    main = asyncio.current_task()
    assert main is not None
    interrupts.watch(main)
    execution = worker.execute_held(run_id, lease_token)
    if follow:
        await asyncio.gather(execution, follow_run(db, run_id, console))
    else:
        await execution
