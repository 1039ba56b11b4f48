"""The worker: claims queued runs, executes many at once, keeps their leases alive, and
obeys pause and cancel requests written by other processes.

Every claim gets its own lease token (``<worker>#<n>``): the journal's fencing, heartbeats
and the final write all name the token, so an execution that lost its run (its lease
expired and the run was resumed, even into this same worker) can never write again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from stepstone.engine.executor import PARK_AFTER_SECONDS, Outcome, RunExecution, describe_exception
from stepstone.errors import DatabaseBusy, InvalidInput
from stepstone.store import leases, recovery, waiting
from stepstone.store.database import Database
from stepstone.store.journal import JournalWriter
from stepstone.store.redaction import Redactor
from stepstone.vocabulary import RunStatus
from stepstone.worker.lease import WorkerIdentity
from stepstone.worker.runner import prepare_execution, record_outcome, release_interrupted

log = logging.getLogger(__name__)
T = TypeVar("T")
CONTROL_THREADS = 2
CLAIM_BATCH = 16
"""At most this many queued runs are taken in one claim transaction (one per free slot)."""
TIMER_SECONDS = 1.0
"""How often a serving worker looks for interrupted runs to resume without a click, and at
most how long it sleeps before it looks for parked runs that are due (it wakes earlier when
the next one is due sooner, or when it parks a run itself)."""
RECOVERY_BATCH = 16
"""At most this many runs are resumed by one look (the rest at the next): the control
threads also renew leases."""
WAKE_BATCH = 64
"""At most this many parked runs are queued again by one look (the rest right after)."""


@dataclass
class _Held:
    """A run this worker holds, under ``lease_token``."""

    run_id: str
    lease_token: str
    execution: RunExecution | None = None
    task: asyncio.Task[Outcome] | None = None


@dataclass
class Worker:
    db: Database
    concurrency: int = 8
    lease_seconds: float = 30.0
    poll_seconds: float = 0.25
    auto_resume: bool = False
    """Resume every interrupted run without a click (else only those of workflows declared
    ``auto_resume``): SPEC 3.13, done by :meth:`serve`."""
    auto_resume_limit: int = recovery.AUTO_RESUME_LIMIT
    """Automatic resumes of a run in a row without a step completing, before giving up."""
    park_after_seconds: float = PARK_AFTER_SECONDS
    """A durable sleep with more than this left parks its run (SPEC 3.12)."""
    identity: WorkerIdentity = field(default_factory=WorkerIdentity)
    on_change: Callable[[], None] | None = None
    """Called in the event loop after this worker wrote to the journal (wakes the feed)."""
    artifacts_dir: Path | None = None
    """Where runs save their artifacts (``<dir>/<run id>/``); None: ``ctx.step.artifact``
    fails. Entry points pass ``Settings.artifacts_dir``."""
    agent_commands: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Each coding agent's command line (``Settings.agent_commands()``); an agent missing
    here is run by its name."""

    def __post_init__(self) -> None:
        # The worker's own secrets (and, as steps name them, theirs) never reach the journal.
        self.redactor = Redactor.from_environment(os.environ)
        self._journal = JournalWriter(self.db, after_write=self.on_change, redactor=self.redactor)
        self._held: dict[str, _Held] = {}
        self._claims = itertools.count(1)
        self._wake = asyncio.Event()
        self._parked = asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)
        # Claims, heartbeats and outcomes get threads of their own: the default pool runs
        # the workflows' sync steps, and a busy one must not starve the heartbeat.
        self._control_pool = ThreadPoolExecutor(CONTROL_THREADS, "stepstone-worker")

    @property
    def worker_id(self) -> str:
        return self.identity.worker_id

    def wake(self) -> None:
        """Look for queued runs now instead of at the next poll."""
        self._wake.set()

    async def serve(self, stop: asyncio.Event) -> None:
        """Claim and execute queued runs until ``stop`` is set; then end running steps and
        leave their runs resumable."""
        control = asyncio.create_task(self._control_loop())
        timers = asyncio.create_task(self._timer_loop())
        executing: set[asyncio.Task[None]] = set()
        try:
            while await self._acquire_slot(stop):
                slots = 1 + await self._free_slots()
                holders = [self.holder() for _ in range(slots)]
                try:
                    taken = await self._in_thread(self._claim_next, holders)
                except (SQLAlchemyError, DatabaseBusy):
                    log.exception("claiming a run failed; trying again")
                    taken = []
                for _ in range(slots - len(taken)):
                    self._slots.release()
                if not taken:
                    await self._wait_for_work(stop)
                    continue
                if self.on_change is not None:
                    self.on_change()
                for held in taken:
                    task = asyncio.create_task(self._execute_then_release_slot(held))
                    executing.add(task)
                    task.add_done_callback(executing.discard)
        finally:
            # First: the runs released below must not be taken for orphans by this worker.
            timers.cancel()
            await asyncio.gather(timers, return_exceptions=True)
            for task in executing:
                task.cancel()
            await asyncio.gather(*executing, return_exceptions=True)
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)

    def holder(self) -> leases.LeaseHolder:
        """A new claim of this worker's: hand it to ``start_run`` or ``resume_run``
        (``claim_for``) to take the run in the transaction that queues it, then execute it
        with :meth:`execute_held`."""
        return leases.LeaseHolder(
            worker_id=self.worker_id,
            lease_token=self._new_lease(),
            host=self.identity.host,
            pid=self.identity.pid,
            lease_seconds=self.lease_seconds,
        )

    async def execute_held(self, run_id: str, lease_token: str) -> Outcome:
        """Execute a run this worker already holds under ``lease_token`` (``--inline``)."""
        control = asyncio.create_task(self._control_loop())
        try:
            return await self._execute(_Held(run_id, lease_token))
        finally:
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)

    def release(self, run_id: str, lease_token: str) -> None:
        """Let go of a run held under ``lease_token`` without executing it further: it is
        left interrupted (resumable). Does nothing once the lease is gone."""
        release_interrupted(self.db, run_id, lease_token)

    async def execute_inline(self, run_id: str) -> Outcome | None:
        """Lease one queued run and execute it in this process; None when the run was not
        queued (another worker took it, or it ended)."""
        holder = self.holder()
        if not await self._in_thread(self._claim, run_id, holder):
            return None
        return await self.execute_held(run_id, holder.lease_token)

    def close(self) -> None:
        self._journal.close()
        self._control_pool.shutdown(wait=True)

    # -- claiming --------------------------------------------------------------------------

    def _new_lease(self) -> str:
        return f"{self.worker_id}#{next(self._claims)}"

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._control_pool, fn, *args)

    async def _in_thread_to_the_end(self, fn: Callable[..., T], *args: Any) -> T:
        """As :meth:`_in_thread`, but when the caller is cancelled meanwhile it first waits
        for ``fn`` to finish: what the caller writes next can never race what ``fn`` writes
        (a run's outcome and the release of an interrupted run)."""
        future = asyncio.ensure_future(self._in_thread(fn, *args))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait({future})
            if future.exception() is not None:
                log.error("%s failed", fn.__name__, exc_info=future.exception())
            raise

    def _claim_next(self, holders: list[leases.LeaseHolder]) -> list[_Held]:
        """Up to one queued run per holder (a free slot each), in one transaction."""
        taken = []
        with self.db.transaction() as conn:
            for holder in holders:
                run_id = leases.claim_next_run_txn(conn, holder)
                if run_id is None:
                    break
                taken.append(_Held(run_id, holder.lease_token))
        return taken

    async def _free_slots(self) -> int:
        """Take every other slot that is free now (up to ``CLAIM_BATCH``), without waiting."""
        taken = 0
        while taken < CLAIM_BATCH - 1 and not self._slots.locked():
            await self._slots.acquire()
            taken += 1
        return taken

    def _claim(self, run_id: str, holder: leases.LeaseHolder) -> bool:
        with self.db.transaction() as conn:
            return leases.claim_run_txn(conn, run_id, holder)

    async def _acquire_slot(self, stop: asyncio.Event) -> bool:
        """Wait for a free slot; False (and no slot held) once ``stop`` is set."""
        acquire = asyncio.create_task(self._slots.acquire())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({acquire, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not acquire.done():
            acquire.cancel()
            return False
        if stop.is_set():
            self._slots.release()
            return False
        return True

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waits:
            waiter.cancel()

    # -- executing -------------------------------------------------------------------------

    async def _execute_then_release_slot(self, held: _Held) -> None:
        try:
            await self._execute(held)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s: unexpected worker error", held.run_id)
        finally:
            self._slots.release()

    async def _execute(self, held: _Held) -> Outcome:
        """Execute a run this worker leased and record how it ended. Cancelling the task
        that runs this (the worker stopping) ends the running step's processes and releases
        the lease, leaving the run resumable; so does an error of the worker itself."""
        self._held[held.lease_token] = held
        try:
            outcome = await self._outcome_of(held)
            await self._in_thread_to_the_end(
                record_outcome,
                self.db,
                held.run_id,
                held.lease_token,
                self._redacted(outcome),
                time.time(),
            )
        except BaseException:
            if held.task is not None:
                held.task.cancel()
                await asyncio.gather(held.task, return_exceptions=True)
            await self._in_thread(release_interrupted, self.db, held.run_id, held.lease_token)
            raise
        finally:
            self._held.pop(held.lease_token, None)
        if outcome.status == RunStatus.WAITING:
            self._parked.set()  # its wake time may come before the timer's next look
        if self.on_change is not None:
            self.on_change()
        return outcome

    def _redacted(self, outcome: Outcome) -> Outcome:
        """The outcome as the journal may hold it (a result or error naming a secret)."""
        redact = self.redactor.maybe
        return dataclasses.replace(
            outcome, result=redact(outcome.result), error=redact(outcome.error)
        )

    async def _outcome_of(self, held: _Held) -> Outcome:
        try:
            execution = await self._in_thread(
                prepare_execution,
                self.db,
                held.run_id,
                self._journal,
                held.lease_token,
                self.artifacts_dir,
                self.agent_commands,
                self.park_after_seconds,
            )
        except InvalidInput as exc:
            return Outcome(RunStatus.FAILED, error=describe_exception(exc))
        held.execution = execution
        held.task = asyncio.create_task(execution.execute())
        try:
            # Shielded: a cancel request cancels only the execution (which then ends as
            # cancelled); cancelling this task means the worker is stopping.
            return await asyncio.shield(held.task)
        except asyncio.CancelledError:
            stopping = asyncio.current_task().cancelling() > 0  # type: ignore[union-attr]
            if held.task.cancelled() and execution.cancel_requested and not stopping:
                return Outcome(RunStatus.CANCELLED)  # cancelled before it reached its first await
            raise

    # -- leases and control ----------------------------------------------------------------

    async def _control_loop(self) -> None:
        renewed_at = -math.inf  # a run held before the loop began may be near its expiry
        while True:
            await asyncio.sleep(self.poll_seconds)
            held_now = dict(self._held)
            if not held_now:
                continue
            # Heartbeat a third of the way into the lease; read pause/cancel on every poll.
            renew = time.monotonic() - renewed_at >= self.lease_seconds / 3
            try:
                flags = await self._in_thread(self._read_control, list(held_now), renew)
            except Exception:
                log.exception("renewing leases failed; retrying")
                continue
            if renew:
                renewed_at = time.monotonic()
            for flag in flags:
                held = held_now.get(flag.lease_token)
                if held is None or held.execution is None:
                    continue
                if flag.pause_requested:
                    held.execution.request_pause()
                if flag.cancel_requested and not held.execution.cancel_requested:
                    held.execution.cancel_requested = True
                    if held.task is not None:
                        held.task.cancel()

    async def _timer_loop(self) -> None:
        """Queue again the parked runs that are due (SPEC 3.12) and resume the interrupted
        runs automatic recovery may (3.13); then wake the claim loop to take them."""
        recovered_at = -math.inf
        while True:
            queued, next_wake_at = 0, None
            try:
                queued, next_wake_at = await self._in_thread(self._wake_due)
                if time.monotonic() - recovered_at >= TIMER_SECONDS:
                    recovered_at = time.monotonic()
                    queued += await self._in_thread(self._recover)
            except Exception:
                log.exception("looking for due or interrupted runs failed; retrying")
            if queued:
                self.wake()
                if self.on_change is not None:
                    self.on_change()
            await self._sleep_until(next_wake_at)

    async def _sleep_until(self, wake_at: float | None) -> None:
        """Until ``wake_at`` (at most ``TIMER_SECONDS``), or until this worker parks a run."""
        seconds = TIMER_SECONDS if wake_at is None else wake_at - time.time()
        self._parked.clear()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for drops a cancellation that
        # comes as the wait ends (a run parked just as the worker stops), and the worker
        # would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, min(seconds, TIMER_SECONDS))):
                await self._parked.wait()

    def _wake_due(self) -> tuple[int, float | None]:
        """Queue the parked runs whose time came; how many, and when the next is due."""
        queued = 0
        while True:
            with self.db.read() as conn:
                next_wake_at = waiting.next_wake_at_txn(conn)
            if next_wake_at is None or next_wake_at > time.time():
                return queued, next_wake_at
            with self.db.transaction() as conn:
                woken = waiting.wake_due_runs_txn(conn, now=time.time(), limit=WAKE_BATCH)
            if not woken:  # another worker is waking them
                return queued, None
            queued += len(woken)

    def _recover(self) -> int:
        with self.db.read() as conn:
            orphans = recovery.orphans_to_recover_txn(
                conn, every_run=self.auto_resume, host=self.identity.host
            )
        resumed = 0
        for run in orphans[:RECOVERY_BATCH]:
            with self.db.transaction() as conn:
                host, limit = self.identity.host, self.auto_resume_limit
                if recovery.recover_txn(conn, run["id"], host=host, limit=limit):
                    log.warning("run %s: interrupted, resumed automatically", run["id"])
                    resumed += 1
        return resumed

    def _read_control(self, lease_tokens: list[str], renew: bool) -> list[leases.ControlFlags]:
        with self.db.transaction() as conn:
            if renew:
                leases.renew_leases_txn(
                    conn, lease_tokens=lease_tokens, lease_seconds=self.lease_seconds
                )
            return leases.control_flags_txn(conn, lease_tokens=lease_tokens)
