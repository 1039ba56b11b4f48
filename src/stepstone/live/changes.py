"""From journal rows that changed to the live messages that tell it, in order: the feed's
pure part (no I/O; ``feed.py`` reads the rows and publishes what this returns).

It remembers what it last sent of each run and step, so it sends only what differs, and
orders messages as a listener needs them: a step's output before its completion, every
attempt ``running`` before its end, a run's steps before the run's own end, and run statuses
in the order their events record them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from stepstone.live.messages import (
    LogChunk,
    MessageType,
    Outgoing,
    RunUpdated,
    StepCreated,
    StepUpdated,
    channels_of,
)
from stepstone.store.leases import is_live
from stepstone.store.records import (
    LogLine,
    Row,
    RunSummary,
    StepSummary,
    event_record,
    log_record,
    run_summary_record,
    step_summary_record,
)
from stepstone.vocabulary import RUN_STATUS_BY_EVENT, RunStatus, StepStatus

Rows = Sequence[Row]

STEP_MEMORY_SECONDS = 60.0
"""What was sent of a step is kept this long after its last change, to send its next change
as a difference (a step quiet longer is sent whole)."""
RETAIN_SECONDS = 3600.0
"""Runs (but running ones) and announced steps quiet this long are forgotten; their next
change is sent whole."""


def _diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    if before is None:
        return dict(after)
    return {key: value for key, value in after.items() if before.get(key) != value}


def _read_again(known: tuple[float, dict[str, Any]], step: Row) -> bool:
    """``step`` is the version of it last sent (a stamp alone could repeat across clocks)."""
    stamp, view = known
    return bool(
        stamp == step["updated_at"]
        and view["status"] == step["status"]
        and view["attempt"] == step["attempt"]
    )


class FeedState:
    """What was sent so far, and the messages for what changed since."""

    def __init__(self) -> None:
        self._runs: dict[str, dict[str, Any]] = {}
        self._run_stamps: dict[str, float] = {}
        self._steps: dict[int, tuple[float, dict[str, Any]]] = {}
        self._seen_steps: dict[int, float] = {}
        """Steps announced as created (by id), with when they last changed."""
        self._forgotten_at = 0.0
        self._steps_forgotten_at = 0.0

    def messages(
        self, runs: Rows, steps: Rows, events: Rows, logs: Rows, *, now: float | None = None
    ) -> list[Outgoing]:
        """The messages for rows just read."""
        # Output, then steps, then events, then the run: a step's lines arrive before its
        # completion, and the steps before the run's own end.
        messages = self._log_messages(logs)
        messages += self._step_messages(steps)
        for event in events:
            messages += self._event_messages(event)
        messages += self._run_messages(runs)
        self._forget(now=time.time() if now is None else now)
        return messages

    def observed(self, run: RunSummary) -> list[Outgoing]:
        """A run as a use case of this process just left it: its change, sent now, since
        the next look could find it changed again (a resumed run is claimed at once, and
        ``pending`` would never be seen)."""
        summary = {k: v for k, v in run.items() if k not in ("steps", "events")}
        updated_at = summary.pop("updated_at")
        stamp = datetime.fromisoformat(str(updated_at).replace("Z", "+00:00")).timestamp()
        message = self._run_message(summary, stamp, status_known=True)
        return [message] if message else []

    def liveness_messages(self, running: Rows, *, now: float | None = None) -> list[Outgoing]:
        """``is_live`` of running runs already sent whole, when it turned: a worker that
        died (or whose lease ran out) changes no row, yet its runs are now interrupted."""
        messages: list[Outgoing] = []
        for run in running:
            known = self._runs.get(run["id"])
            live = is_live(run, now=now)
            if known is None or "is_live" not in known or known["is_live"] == live:
                continue
            known["is_live"] = live
            messages.append(self._run_update(run["id"], run["project_id"], {"is_live": live}, run))
        return messages

    # -- runs and events -------------------------------------------------------------------

    @staticmethod
    def _run_update(run_id: str, project_id: str, changes: dict[str, Any], row: Row) -> Outgoing:
        data: RunUpdated = {"run_id": run_id, "project_id": project_id, "changes": changes}
        return Outgoing(
            channels_of(run_id, project_id), MessageType.RUN_UPDATED, data, row["user_id"]
        )

    def _event_messages(self, event: Row) -> list[Outgoing]:
        """The event, and the run status it records: every status change writes an event in
        its transaction, so statuses are sent in order even when a run moves on faster than
        the feed looks (pending, running, completed within milliseconds)."""
        run_id, project_id = event["run_id"], event["project_id"]
        messages = [
            Outgoing(
                channels_of(run_id, project_id),
                MessageType.EVENT_CREATED,
                {"run_id": run_id, "event": event_record(event)},
                event["user_id"],
            )
        ]
        status = RUN_STATUS_BY_EVENT.get(event["type"])
        known = self._runs.setdefault(run_id, {})
        if status is not None and known.get("status") != status:
            known["status"] = status
            messages.append(self._run_update(run_id, project_id, {"status": status}, event))
        return messages

    def _run_messages(self, runs: Rows) -> list[Outgoing]:
        messages = []
        for run in sorted(runs, key=lambda r: r["updated_at"]):
            if self._run_stamps.get(run["id"], -1.0) >= run["updated_at"]:
                continue  # read again (the reader's looks overlap): sent already
            summary = {k: v for k, v in run_summary_record(run).items() if k != "updated_at"}
            message = self._run_message(summary, run["updated_at"])
            if message is not None:
                messages.append(message)
        return messages

    def _run_message(
        self, summary: dict[str, Any], stamp: float, *, status_known: bool = False
    ) -> Outgoing | None:
        """``workflow.run.updated`` with what differs from the last state sent, unless a
        newer state of the run was sent already. A status read from a row is held back
        (its event sends it, in order) unless ``status_known``: a use case just set it."""
        run_id = summary["id"]
        if self._run_stamps.get(run_id, -1.0) >= stamp:
            return None
        changed = _diff(self._runs.get(run_id), summary)
        known_status = self._runs.get(run_id, {}).get("status")
        if "status" in changed and known_status is not None and not status_known:
            # Statuses go out with the events that record them, in order; a row seen
            # between a status change and its event's turn must not send it early.
            changed.pop("status")
            summary["status"] = known_status
        self._runs[run_id] = summary
        self._run_stamps[run_id] = stamp
        if not changed:
            return None
        return self._run_update(run_id, summary["project_id"], changed, summary)

    # -- steps and output ------------------------------------------------------------------

    def _step_messages(self, steps: Rows) -> list[Outgoing]:
        """Created and updated steps. Every attempt of a step starts as ``running``; when
        the feed first sees an attempt already finished, it sends that start first, so a
        listener always sees each attempt run, then end."""
        messages: list[Outgoing] = []
        for step in steps:
            known = self._steps.get(step["id"])
            if known is not None and _read_again(known, step):
                continue  # the reader's looks overlap: this version was sent already
            summary = step_summary_record(step)
            view: dict[str, Any] = dict(summary)
            self._steps[step["id"]] = (step["updated_at"] or 0.0, view)
            started: StepSummary = {
                **summary,
                "status": StepStatus.RUNNING,
                "output": None,
                "error_message": None,
                "completed_at": None,
            }
            seen_before = step["id"] in self._seen_steps
            self._seen_steps[step["id"]] = step["updated_at"] or 0.0
            before: dict[str, Any] | None
            if known is None and not seen_before:
                messages.append(self._step_created(step, started))
                before = dict(started)
            else:
                # Forgotten (quiet for a while) steps are not known to have run this attempt.
                before = None if known is None else known[1]
                new_attempt = before is not None and view["attempt"] > before["attempt"]
                ended = (StepStatus.COMPLETED, StepStatus.FAILED)
                ended_unseen = before is None and view["status"] in ended
                if new_attempt or ended_unseen:
                    messages.append(self._step_update(step, _diff(before, started)))
                    before = dict(started)
            changed = _diff(before, view)
            if changed:
                messages.append(self._step_update(step, changed))
        return messages

    @staticmethod
    def _step_created(step: Row, started: StepSummary) -> Outgoing:
        data: StepCreated = {"run_id": step["run_id"], "step": started}
        return Outgoing(
            channels_of(step["run_id"], step["project_id"]),
            MessageType.STEP_CREATED,
            data,
            step["user_id"],
        )

    @staticmethod
    def _step_update(step: Row, changes: dict[str, Any]) -> Outgoing:
        data: StepUpdated = {"run_id": step["run_id"], "step_id": step["id"], "changes": changes}
        return Outgoing(
            channels_of(step["run_id"], step["project_id"]),
            MessageType.STEP_UPDATED,
            data,
            step["user_id"],
        )

    @staticmethod
    def _log_messages(logs: Rows) -> list[Outgoing]:
        chunks: dict[tuple[str, str, str | None, str | None], list[LogLine]] = defaultdict(list)
        for line in logs:
            key = (line["run_id"], line["project_id"], line["user_id"], line["step_key"])
            chunks[key].append(log_record(line))
        messages = []
        for (run_id, project_id, user_id, step_key), lines in chunks.items():
            data: LogChunk = {"run_id": run_id, "step_key": step_key, "lines": lines}
            messages.append(
                Outgoing(channels_of(run_id, project_id), MessageType.LOG_CHUNK, data, user_id)
            )
        return messages

    def _forget(self, *, now: float) -> None:
        """Drop what is remembered of steps quiet for ``STEP_MEMORY_SECONDS``, and of runs
        and announced steps quiet for ``RETAIN_SECONDS``: the next change of one of those is
        sent whole."""
        if now - self._steps_forgotten_at >= STEP_MEMORY_SECONDS / 60:
            self._steps_forgotten_at, steps_horizon = now, now - STEP_MEMORY_SECONDS
            quiet_steps = [i for i, (stamp, _) in self._steps.items() if stamp < steps_horizon]
            for step_id in quiet_steps:
                del self._steps[step_id]
        if now - self._forgotten_at < RETAIN_SECONDS / 10:
            return
        self._forgotten_at, horizon = now, now - RETAIN_SECONDS
        # A running run changes no row while its step or sleep lasts (heartbeats touch only
        # the lease), yet it must still be told when its holder dies: never forgotten.
        quiet = [
            run_id
            for run_id, known in self._runs.items()
            if self._run_stamps.get(run_id, 0.0) < horizon
            and known.get("status") != RunStatus.RUNNING
        ]
        for run_id in quiet:
            self._run_stamps.pop(run_id, None)
            self._runs.pop(run_id)
        for step_id in [i for i, stamp in self._seen_steps.items() if stamp < horizon]:
            del self._seen_steps[step_id]
