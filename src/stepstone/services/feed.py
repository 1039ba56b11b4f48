"""The live feed: turns journal rows that changed into WebSocket messages (SPEC 6).

Every writer (this process's worker, the CLI, other workers) only writes rows; the feed
reads what changed since its last look and publishes it, so messages follow the rows
whichever process wrote them. Writes made in this process wake the feed at once; the rest
are found by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from stepstone.live.bus import EventBus
from stepstone.services.views import event_view, log_view, run_summary_view, step_view
from stepstone.store import changes
from stepstone.store.database import Database

log = logging.getLogger(__name__)

# Rows are stamped before their transaction commits, so a row may become visible with a
# stamp a little older than the newest one seen: every look re-reads this much of the past
# and publishes only what differs from what was sent.
OVERLAP_SECONDS = 1.0
Published = tuple[list[str], str, dict[str, Any], str | None]
"""``(channels, type, data, owner)``: ``owner`` is the run's user."""


def _channels(run_id: str, project_id: str) -> list[str]:
    return [f"run:{run_id}", f"project:{project_id}"]


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    if before is None:
        return dict(after)
    return {key: value for key, value in after.items() if before.get(key) != value}


class ChangeFeed:
    def __init__(self, db: Database, bus: EventBus, *, poll_seconds: float = 0.25) -> None:
        self._db = db
        self._bus = bus
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._cursors: tuple[float, float, int, int] | None = None
        self._runs: dict[str, dict[str, Any]] = {}
        self._steps: dict[int, tuple[float, dict[str, Any]]] = {}
        self._seen_steps: set[int] = set()

    def wake(self) -> None:
        """Look for changes now (call from the event loop's thread)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish changes until ``stop`` is set."""
        self._cursors = await asyncio.to_thread(self._latest)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            try:
                messages = await asyncio.to_thread(self._collect)
            except Exception:
                log.exception("reading journal changes failed; trying again")
                continue
            for channels, type, data, owner in messages:
                self._bus.publish(channels, type, data, owner=owner)

    def _latest(self) -> tuple[float, float, int, int]:
        with self._db.transaction() as conn:
            return changes.latest_cursors_txn(conn)

    def _collect(self) -> list[Published]:
        assert self._cursors is not None
        runs_since, steps_since, event_id, log_id = self._cursors
        with self._db.read() as conn:
            runs = changes.runs_updated_since_txn(conn, runs_since - OVERLAP_SECONDS)
            steps = changes.steps_updated_since_txn(conn, steps_since - OVERLAP_SECONDS)
            events = changes.events_after_txn(conn, event_id)
            logs = changes.logs_after_txn(conn, log_id)
        messages: list[Published] = []
        messages += self._run_messages(runs)
        messages += self._step_messages(steps)
        messages += [
            (
                _channels(event["run_id"], event["project_id"]),
                "workflow.run.event.created",
                {"run_id": event["run_id"], "event": event_view(event)},
                event["user_id"],
            )
            for event in events
        ]
        messages += self._log_messages(logs)
        self._cursors = (
            max([runs_since, *(r["updated_at"] for r in runs)]),
            max([steps_since, *(s["updated_at"] or 0.0 for s in steps)]),
            events[-1]["id"] if events else event_id,
            logs[-1]["id"] if logs else log_id,
        )
        self._forget_steps_older_than(self._cursors[1] - OVERLAP_SECONDS)
        return messages

    def _run_messages(self, runs: Any) -> list[Published]:
        messages: list[Published] = []
        for run in sorted(runs, key=lambda r: r["updated_at"]):
            view = run_summary_view(run)
            view.pop("updated_at")
            changed = _diff(self._runs.get(run["id"]), view)
            self._runs[run["id"]] = view
            if changed:
                messages.append(
                    (
                        _channels(run["id"], run["project_id"]),
                        "workflow.run.updated",
                        {"run_id": run["id"], "project_id": run["project_id"], "changes": changed},
                        run["user_id"],
                    )
                )
        return messages

    def _step_messages(self, steps: Any) -> list[Published]:
        messages: list[Published] = []
        for step in steps:
            view = step_view(step, [])
            view.pop("attempts")
            known = self._steps.get(step["id"])
            self._steps[step["id"]] = (step["updated_at"] or 0.0, view)
            channels = _channels(step["run_id"], step["project_id"])
            if known is None and step["id"] not in self._seen_steps:
                self._seen_steps.add(step["id"])
                messages.append(
                    (
                        channels,
                        "workflow.run.step.created",
                        {"run_id": step["run_id"], "step": view},
                        step["user_id"],
                    )
                )
                continue
            changed = _diff(None if known is None else known[1], view)
            if changed:
                messages.append(
                    (
                        channels,
                        "workflow.run.step.updated",
                        {"run_id": step["run_id"], "step_id": step["id"], "changes": changed},
                        step["user_id"],
                    )
                )
        return messages

    def _log_messages(self, logs: Any) -> list[Published]:
        chunks: dict[tuple[str, str, str | None, str | None], list[dict[str, Any]]]
        chunks = defaultdict(list)
        for line in logs:
            key = (line["run_id"], line["project_id"], line["user_id"], line["step_key"])
            chunks[key].append(log_view(line))
        return [
            (
                _channels(run_id, project_id),
                "workflow.run.step.log_chunk",
                {"run_id": run_id, "step_key": step_key, "lines": lines},
                user_id,
            )
            for (run_id, project_id, user_id, step_key), lines in chunks.items()
        ]

    def _forget_steps_older_than(self, horizon: float) -> None:
        for step_id in [i for i, (stamp, _) in self._steps.items() if stamp < horizon]:
            del self._steps[step_id]
