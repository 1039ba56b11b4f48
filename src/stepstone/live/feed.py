"""The live feed: publishes the journal's changes as WebSocket messages (SPEC 6).

Every writer (this process's worker, the CLI, other workers) only writes rows; the feed
reads what changed since its last look (``store.changes``) and publishes it, so messages
follow the rows whichever process wrote them. Writes made in this process wake the feed at
once; on PostgreSQL so do other processes' commits (``store.notifications``); the rest are
found by polling. What to send is decided by ``changes.FeedState``. While nobody listens
the feed reads nothing; the first listener to come waits (``following``) until the feed
reads again from where the journal is then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from stepstone.live.bus import EventBus
from stepstone.live.changes import FeedState, Rows
from stepstone.live.messages import Outgoing
from stepstone.store import changes
from stepstone.store.changes import Changes
from stepstone.store.database import Database
from stepstone.store.notifications import listen_for_changes
from stepstone.store.records import RunSummary

log = logging.getLogger(__name__)
LIVENESS_SECONDS = 1.0
LOOK_INTERVAL_SECONDS = 0.01
"""The least time between two looks: a burst of writes (each wakes the feed) is read in a
few looks instead of one after every write."""
FOLLOW_TIMEOUT_SECONDS = 5.0
"""How long a new listener waits for the feed to follow the journal again (a database that
cannot be read answers nobody anyway)."""


class ChangeFeed:
    def __init__(self, db: Database, bus: EventBus, *, poll_seconds: float = 0.25) -> None:
        self._db = db
        self._bus = bus
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._reader = changes.change_reader(db)
        self._state: FeedState | None = None
        self._liveness_at = 0.0
        self._following = asyncio.Event()
        """Set while the reader follows the journal: every change committed since it was set
        is read and published."""

    def wake(self) -> None:
        """Look for changes now (call from the event loop's thread)."""
        self._wake.set()

    async def following(self) -> None:
        """Return once every change committed from now on will be published (a listener
        that just subscribed waits here before it is told it may fetch its snapshot)."""
        if self._state is None:
            return  # not running: there is nothing to wait for
        self.wake()
        with contextlib.suppress(TimeoutError):  # asyncio.timeout: see Worker._sleep_until
            async with asyncio.timeout(FOLLOW_TIMEOUT_SECONDS):
                await self._following.wait()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish changes until ``stop`` is set."""
        self._state = FeedState()
        listener = asyncio.create_task(listen_for_changes(self._db, self.wake))
        try:
            while not stop.is_set():
                if not self._bus.listened:
                    await self._idle()
                    continue
                if not self._following.is_set() and not await self._follow_again():
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await self._wake.wait()
                await asyncio.sleep(LOOK_INTERVAL_SECONDS)  # let a burst of writes gather
                self._wake.clear()
                try:
                    read = await asyncio.to_thread(self._read)
                    state = self._state
                    assert state is not None
                    messages = state.messages(read.runs, read.steps, read.events, read.logs)
                    if time.monotonic() - self._liveness_at >= LIVENESS_SECONDS:
                        self._liveness_at = time.monotonic()
                        running = await asyncio.to_thread(self._running)
                        messages += state.liveness_messages(running)
                except Exception:
                    log.exception("reading journal changes failed; trying again")
                    continue
                self._publish(messages)
        finally:
            self._state = None  # stopped: nobody waits for it to follow the journal
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _idle(self) -> None:
        """Nobody listens: read nothing until woken (by a subscription, a write, the stop)."""
        self._following.clear()
        self._wake.clear()
        await self._wake.wait()

    async def _follow_again(self) -> bool:
        """Take the reader's cursor where the journal is now; False if that failed."""
        try:
            await asyncio.to_thread(self._start)
        except Exception:
            log.exception("reading where the journal is failed; trying again")
            await asyncio.sleep(self._poll_seconds)
            return False
        # What was sent before nobody listened is no listener's state: the newcomer's
        # snapshot is, so everything is told afresh against it.
        self._state = FeedState()
        self._following.set()
        return True

    def observe_run(self, run: RunSummary) -> None:
        """A run as a use case of this process just left it: publish its change now (see
        ``FeedState.observed``). Call on the loop."""
        if self._state is not None:
            self._publish(self._state.observed(run))

    def _publish(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self._bus.publish(message)

    def _start(self) -> None:
        with self._db.read() as conn:
            self._reader.start_txn(conn)

    def _read(self) -> Changes:
        """What changed since the last look (in a thread; the loop touches the reader only
        through here, one look at a time)."""
        with self._db.read() as conn:
            return self._reader.read_txn(conn)

    def _running(self) -> Rows:
        with self._db.read() as conn:
            return changes.running_runs_txn(conn)
