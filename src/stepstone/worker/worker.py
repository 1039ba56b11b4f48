"""The worker: claims queued runs, executes many at once, keeps their leases alive, and
obeys pause and cancel requests written by other processes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from stepstone.engine.executor import Outcome, RunExecution, describe_exception
from stepstone.errors import InvalidInput
from stepstone.store import runs as run_store
from stepstone.store.database import Database
from stepstone.store.journal import JournalWriter
from stepstone.worker.lease import WorkerIdentity
from stepstone.worker.runner import prepare_execution, record_outcome, release_interrupted

log = logging.getLogger(__name__)


@dataclass
class _Held:
    execution: RunExecution | None = None
    task: asyncio.Task[Outcome] | None = None


@dataclass
class Worker:
    db: Database
    concurrency: int = 8
    lease_seconds: float = 30.0
    poll_seconds: float = 0.25
    identity: WorkerIdentity = field(default_factory=WorkerIdentity)
    on_change: Callable[[], None] | None = None
    """Called in the event loop after this worker wrote to the journal (wakes the feed)."""

    def __post_init__(self) -> None:
        self._journal = JournalWriter(self.db.sqlite_path, after_write=self.on_change)
        self._held: dict[str, _Held] = {}
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)

    @property
    def owner(self) -> str:
        return self.identity.owner

    def wake(self) -> None:
        """Look for queued runs now instead of at the next poll."""
        self._wake.set()

    async def serve(self, stop: asyncio.Event) -> None:
        """Claim and execute queued runs until ``stop`` is set; then end running steps and
        leave their runs resumable."""
        control = asyncio.create_task(self._control_loop())
        executing: set[asyncio.Task[None]] = set()
        try:
            while await self._acquire_slot(stop):
                try:
                    run_id = await asyncio.to_thread(self._claim_next)
                except SQLAlchemyError:
                    log.exception("claiming a run failed; trying again")
                    run_id = None
                if run_id is None:
                    self._slots.release()
                    await self._wait_for_work(stop)
                    continue
                if self.on_change is not None:
                    self.on_change()
                task = asyncio.create_task(self._execute_then_release_slot(run_id))
                executing.add(task)
                task.add_done_callback(executing.discard)
        finally:
            for task in executing:
                task.cancel()
            await asyncio.gather(*executing, return_exceptions=True)
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)

    async def execute_inline(self, run_id: str) -> Outcome | None:
        """Lease one queued run and execute it in this process (``--inline``); None when the
        run was not queued (another worker took it)."""
        claimed = await asyncio.to_thread(self._claim, run_id)
        if not claimed:
            return None
        control = asyncio.create_task(self._control_loop())
        try:
            return await self._execute(run_id)
        finally:
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)

    def close(self) -> None:
        self._journal.close()

    # -- claiming --------------------------------------------------------------------------

    def _claim_next(self) -> str | None:
        with self.db.transaction() as conn:
            run_id = run_store.claim_next_run_txn(
                conn,
                owner=self.owner,
                host=self.identity.host,
                pid=self.identity.pid,
                lease_seconds=self.lease_seconds,
            )
            if run_id is not None:
                run_store.add_event_txn(conn, run_id, "workflow_started", self.owner)
        return run_id

    def _claim(self, run_id: str) -> bool:
        with self.db.transaction() as conn:
            claimed = run_store.claim_run_txn(
                conn,
                run_id,
                owner=self.owner,
                host=self.identity.host,
                pid=self.identity.pid,
                lease_seconds=self.lease_seconds,
            )
            if claimed:
                run_store.add_event_txn(conn, run_id, "workflow_started", self.owner)
        return claimed

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

    async def _execute_then_release_slot(self, run_id: str) -> None:
        try:
            await self._execute(run_id)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s: unexpected worker error", run_id)
        finally:
            self._slots.release()

    async def _execute(self, run_id: str) -> Outcome:
        """Execute a run this worker leased and record how it ended. Cancelling the task
        that runs this (the worker stopping) ends the running step's processes and releases
        the lease, leaving the run resumable."""
        held = self._held.setdefault(run_id, _Held())
        try:
            outcome = await self._outcome_of(run_id, held)
        except asyncio.CancelledError:
            if held.task is not None:
                held.task.cancel()
                await asyncio.gather(held.task, return_exceptions=True)
            await asyncio.to_thread(release_interrupted, self.db, run_id, self.owner)
            raise
        finally:
            self._held.pop(run_id, None)
        await asyncio.to_thread(record_outcome, self.db, run_id, self.owner, outcome, time.time())
        if self.on_change is not None:
            self.on_change()
        return outcome

    async def _outcome_of(self, run_id: str, held: _Held) -> Outcome:
        try:
            execution = await asyncio.to_thread(
                prepare_execution, self.db, run_id, self._journal, self.owner
            )
        except InvalidInput as exc:
            return Outcome("failed", error=describe_exception(exc))
        held.execution = execution
        held.task = asyncio.create_task(execution.execute())
        try:
            # Shielded: a cancel request cancels only the execution (which then ends as
            # cancelled); cancelling this task means the worker is stopping.
            return await asyncio.shield(held.task)
        except asyncio.CancelledError:
            stopping = asyncio.current_task().cancelling() > 0  # type: ignore[union-attr]
            if held.task.cancelled() and execution.cancel_requested and not stopping:
                return Outcome("cancelled")  # cancelled before it reached its first await
            raise

    # -- leases and control ----------------------------------------------------------------

    async def _control_loop(self) -> None:
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(self.poll_seconds)
            if not self._held:
                continue
            # Heartbeat a third of the way into the lease; read pause/cancel on every poll.
            renew = time.monotonic() - renewed_at >= self.lease_seconds / 3
            try:
                flags = await asyncio.to_thread(self._read_control, renew)
            except Exception:
                log.exception("renewing leases failed; retrying")
                continue
            if renew:
                renewed_at = time.monotonic()
            for row in flags:
                held = self._held.get(row["id"])
                if held is None or held.execution is None:
                    continue
                if row["pause_requested"]:
                    held.execution.request_pause()
                if row["cancel_requested"] and not held.execution.cancel_requested:
                    held.execution.cancel_requested = True
                    if held.task is not None:
                        held.task.cancel()

    def _read_control(self, renew: bool) -> list[dict[str, Any]]:
        with self.db.transaction() as conn:
            if renew:
                run_store.renew_leases_txn(conn, owner=self.owner, lease_seconds=self.lease_seconds)
            rows = run_store.control_flags_txn(conn, owner=self.owner)
        return [dict(row) for row in rows]
