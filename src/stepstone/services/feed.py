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
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from stepstone.live.bus import EventBus
from stepstone.services.views import event_view, log_view, run_summary_view, step_view
from stepstone.store import changes
from stepstone.store.database import Database
from stepstone.worker.lease import is_live

log = logging.getLogger(__name__)

# Rows are stamped before their transaction commits, so a row may become visible with a
# stamp a little older than the newest one seen: every look re-reads this much of the past
# and publishes only what differs from what was sent.
OVERLAP_SECONDS = 1.0
RETAIN_SECONDS = 3600.0
LIVENESS_SECONDS = 1.0
STATUS_BY_EVENT = {
    "workflow_created": "pending",
    "workflow_resumed": "pending",
    "workflow_started": "running",
    "workflow_completed": "completed",
    "workflow_failed": "failed",
    "workflow_paused": "paused",
    "workflow_cancelled": "cancelled",
}
"""The events written in the same transaction as a run's status change."""
Rows = Sequence[RowMapping]
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
        self._run_stamps: dict[str, float] = {}
        self._forgotten_at = 0.0
        self._liveness_at = 0.0
        self._steps: dict[int, tuple[float, dict[str, Any]]] = {}
        self._seen_steps: dict[int, float] = {}
        """Steps announced as created (by id), with when they last changed."""

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
                rows = await asyncio.to_thread(self._read)
                messages = self._messages(*rows)
                if time.monotonic() - self._liveness_at >= LIVENESS_SECONDS:
                    self._liveness_at = time.monotonic()
                    messages += self._liveness_messages(await asyncio.to_thread(self._running))
            except Exception:
                log.exception("reading journal changes failed; trying again")
                continue
            self._publish(messages)

    def observe_run(self, run: dict[str, Any]) -> None:
        """A run as a use case of this process just left it (a run object of SPEC 6):
        publish its change now, since the next look could find it changed again (a resumed
        run is claimed at once, and ``pending`` would never be seen). Call on the loop."""
        summary = {k: v for k, v in run.items() if k not in ("steps", "events")}
        stamp = datetime.fromisoformat(summary.pop("updated_at").replace("Z", "+00:00"))
        message = self._run_message(summary, stamp.timestamp(), status_known=True)
        self._publish([message] if message else [])

    def _publish(self, messages: list[Published]) -> None:
        for channels, type, data, owner in messages:
            self._bus.publish(channels, type, data, owner=owner)

    def _latest(self) -> tuple[float, float, int, int]:
        with self._db.transaction() as conn:
            return changes.latest_cursors_txn(conn)

    def _read(self) -> tuple[Rows, Rows, Rows, Rows]:
        """What changed since the cursors (in a thread; touches no state)."""
        assert self._cursors is not None
        runs_since, steps_since, event_id, log_id = self._cursors
        with self._db.read() as conn:
            return (
                changes.runs_updated_since_txn(conn, runs_since - OVERLAP_SECONDS),
                changes.steps_updated_since_txn(conn, steps_since - OVERLAP_SECONDS),
                changes.events_after_txn(conn, event_id),
                changes.logs_after_txn(conn, log_id),
            )

    def _running(self) -> Rows:
        with self._db.read() as conn:
            return changes.running_runs_txn(conn)

    def _liveness_messages(self, running: Rows) -> list[Published]:
        """``is_live`` of running runs already sent whole, when it turned: a worker that
        died (or whose lease ran out) changes no row, yet its runs are now interrupted."""
        messages: list[Published] = []
        for run in running:
            known = self._runs.get(run["id"])
            live = is_live(run)
            if known is None or "is_live" not in known or known["is_live"] == live:
                continue
            known["is_live"] = live
            messages.append(
                (
                    _channels(run["id"], run["project_id"]),
                    "workflow.run.updated",
                    {
                        "run_id": run["id"],
                        "project_id": run["project_id"],
                        "changes": {"is_live": live},
                    },
                    run["user_id"],
                )
            )
        return messages

    def _messages(self, runs: Rows, steps: Rows, events: Rows, logs: Rows) -> list[Published]:
        """The messages for rows just read, and the cursors moved past them (on the loop)."""
        assert self._cursors is not None
        runs_since, steps_since, event_id, log_id = self._cursors
        # Output, then steps, then events, then the run: a step's lines arrive before its
        # completion, and the steps before the run's own end.
        messages = self._log_messages(logs)
        messages += self._step_messages(steps)
        for event in events:
            messages += self._event_messages(event)
        messages += self._run_messages(runs)
        self._cursors = (
            max([runs_since, *(r["updated_at"] for r in runs)]),
            max([steps_since, *(s["updated_at"] or 0.0 for s in steps)]),
            events[-1]["id"] if events else event_id,
            logs[-1]["id"] if logs else log_id,
        )
        self._forget(steps_horizon=self._cursors[1] - OVERLAP_SECONDS)
        return messages

    def _event_messages(self, event: RowMapping) -> list[Published]:
        """The event, and the run status it records: every status change writes an event in
        its transaction, so statuses are sent in order even when a run moves on faster than
        the feed looks (pending, running, completed within milliseconds)."""
        run_id, channels = event["run_id"], _channels(event["run_id"], event["project_id"])
        messages: list[Published] = [
            (
                channels,
                "workflow.run.event.created",
                {"run_id": run_id, "event": event_view(event)},
                event["user_id"],
            )
        ]
        status = STATUS_BY_EVENT.get(event["type"])
        known = self._runs.setdefault(run_id, {})
        if status is not None and known.get("status") != status:
            known["status"] = status
            messages.append(
                (
                    channels,
                    "workflow.run.updated",
                    {
                        "run_id": run_id,
                        "project_id": event["project_id"],
                        "changes": {"status": status},
                    },
                    event["user_id"],
                )
            )
        return messages

    def _run_messages(self, runs: Rows) -> list[Published]:
        messages = []
        for run in sorted(runs, key=lambda r: r["updated_at"]):
            view = run_summary_view(run)
            view.pop("updated_at")
            message = self._run_message(view, run["updated_at"])
            if message is not None:
                messages.append(message)
        return messages

    def _run_message(
        self, view: dict[str, Any], stamp: float, *, status_known: bool = False
    ) -> Published | None:
        """``workflow.run.updated`` with what differs from the last state sent, unless a
        newer state of the run was sent already. A status read from a row is held back
        (its event sends it, in order) unless ``status_known``: a use case just set it."""
        run_id = view["id"]
        if self._run_stamps.get(run_id, -1.0) >= stamp:
            return None
        changed = _diff(self._runs.get(run_id), view)
        known_status = self._runs.get(run_id, {}).get("status")
        if "status" in changed and known_status is not None and not status_known:
            # Statuses go out with the events that record them, in order; a row seen
            # between a status change and its event's turn must not send it early.
            changed.pop("status")
            view["status"] = known_status
        self._runs[run_id] = view
        self._run_stamps[run_id] = stamp
        if not changed:
            return None
        return (
            _channels(run_id, view["project_id"]),
            "workflow.run.updated",
            {"run_id": run_id, "project_id": view["project_id"], "changes": changed},
            view["user_id"],
        )

    def _step_messages(self, steps: Rows) -> list[Published]:
        """Created and updated steps. Every attempt of a step starts as ``running``; when
        the feed first sees an attempt already finished, it sends that start first, so a
        listener always sees each attempt run, then end."""
        messages: list[Published] = []
        for step in steps:
            view = step_view(step, [])
            view.pop("attempts")
            known = self._steps.get(step["id"])
            self._steps[step["id"]] = (step["updated_at"] or 0.0, view)
            run_id, owner = step["run_id"], step["user_id"]
            channels = _channels(run_id, step["project_id"])
            started = {
                **view,
                "status": "running",
                "output": None,
                "error_message": None,
                "completed_at": None,
            }
            seen_before = step["id"] in self._seen_steps
            self._seen_steps[step["id"]] = step["updated_at"] or 0.0
            if known is None and not seen_before:
                created = {"run_id": run_id, "step": started}
                messages.append((channels, "workflow.run.step.created", created, owner))
                before: dict[str, Any] | None = started
            else:
                # Forgotten (quiet for a while) steps are not known to have run this attempt.
                before = None if known is None else known[1]
                new_attempt = before is not None and view["attempt"] > before["attempt"]
                ended_unseen = before is None and view["status"] in ("completed", "failed")
                if new_attempt or ended_unseen:
                    messages.append(self._step_update(channels, step, _diff(before, started)))
                    before = started
            changed = _diff(before, view)
            if changed:
                messages.append(self._step_update(channels, step, changed))
        return messages

    @staticmethod
    def _step_update(channels: list[str], step: RowMapping, changes: dict[str, Any]) -> Published:
        data = {"run_id": step["run_id"], "step_id": step["id"], "changes": changes}
        return (channels, "workflow.run.step.updated", data, step["user_id"])

    def _log_messages(self, logs: Rows) -> list[Published]:
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

    def _forget(self, *, steps_horizon: float) -> None:
        """Drop what the feed remembers of steps quiet since ``steps_horizon`` (they are not
        read again), and of runs and announced steps quiet for ``RETAIN_SECONDS``: the next
        change of one of those is sent whole."""
        for step_id in [i for i, (stamp, _) in self._steps.items() if stamp < steps_horizon]:
            del self._steps[step_id]
        now = time.time()
        if now - self._forgotten_at < RETAIN_SECONDS / 10:
            return
        self._forgotten_at, horizon = now, now - RETAIN_SECONDS
        quiet = [r for r in self._runs if self._run_stamps.get(r, 0.0) < horizon]
        for run_id in quiet:
            self._run_stamps.pop(run_id, None)
            self._runs.pop(run_id)
        for step_id in [i for i, stamp in self._seen_steps.items() if stamp < horizon]:
            del self._seen_steps[step_id]
