"""``--follow``: the run's steps, redrawn live until the run stops moving."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.live import Live

from stepstone.cli.render import is_interrupted, run_panel
from stepstone.services.runs import get_run
from stepstone.store.database import Database
from stepstone.store.records import Run
from stepstone.vocabulary import SETTLED_RUN_STATUSES

REFRESH_SECONDS = 0.25


async def follow_run(db: Database, run_id: str, console: Console) -> Run:
    """Redraw the run until it completes, fails, is cancelled, paused or interrupted."""
    run = await asyncio.to_thread(get_run, db, run_id)
    with Live(run_panel(run), console=console, refresh_per_second=8, transient=False) as live:
        while run["status"] not in SETTLED_RUN_STATUSES and not is_interrupted(run):
            await asyncio.sleep(REFRESH_SECONDS)
            run = await asyncio.to_thread(get_run, db, run_id)
            live.update(run_panel(run))
    return run
