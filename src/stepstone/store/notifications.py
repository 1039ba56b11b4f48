"""Other processes' commits, told as they happen (PostgreSQL ``LISTEN``).

Every write the live feed reads sends a NOTIFY on ``CHANNEL`` at its commit (migration 0008's
trigger), naming the run and the transaction: a reference, never the data. A listener only
learns *that* something changed and looks (``store.changes`` says what); SQLite, whose
writers share one machine, has no such channel and the feed polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from stepstone.store.database import Database

log = logging.getLogger(__name__)

CHANNEL = "stepstone_changes"
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


async def listen_for_changes(db: Database, on_change: Callable[[], None]) -> None:
    """Call ``on_change`` (on this loop) whenever another process commits a change, until
    cancelled; on a lost connection, connect again (and call it once: what was committed
    meanwhile was not told). Returns at once on SQLite."""
    if db.kind != "postgresql":
        return
    failures = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                db.driver_url, autocommit=True
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                failures = 0
                on_change()
                async for _ in conn.notifies():
                    on_change()
        except Exception as exc:  # the server went away, or refused us: try again
            delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            log.warning("listening for changes failed (%s); again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
