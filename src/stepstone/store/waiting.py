"""Parked runs (SPEC 3.12): what they wait for, their inbox of events and approval
decisions, and queueing them again when it arrives or their time comes.

A parked run is ``waiting`` with ``waiting_for`` (JSON) and, when it is due at a time (a
sleep's end, a wait's timeout), ``wake_at``: only waiting runs have one, and it is indexed,
so finding the due runs never reads the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from stepstone.store import runs as run_store
from stepstone.store.journal import dumps
from stepstone.store.schema import run_inbox, workflow_runs, workflow_steps
from stepstone.vocabulary import EventType, RunStatus, StepStatus

APPROVAL_PREFIX = "approval:"


class WaitingFor(TypedDict):
    """What a parked run waits for: ``kind`` ``sleep``, ``event`` or ``approval``, on the
    step ``step_key``, until ``until`` (epoch seconds; None: no time limit), for the event
    named ``event``, or the decision asked with ``prompt``."""

    kind: Literal["sleep", "event", "approval"]
    step_key: str
    until: float | None
    event: str | None
    prompt: str | None


def approval_name(step_key: str) -> str:
    """The inbox name of the decision the approval step ``step_key`` waits for."""
    return APPROVAL_PREFIX + step_key


def inbox_name(waiting_for: WaitingFor) -> str | None:
    """The inbox name that ends the wait (None for a sleep: only time does)."""
    if waiting_for["kind"] == "approval":
        return approval_name(waiting_for["step_key"])
    return waiting_for["event"]


def describe(waiting_for: WaitingFor) -> str:
    """A line saying what the run waits for (its ``workflow_waiting`` event's message)."""
    kind, step = waiting_for["kind"], waiting_for["step_key"]
    until = waiting_for["until"]
    if kind == "sleep":
        what = f"step {step} sleeps"
    elif kind == "event":
        what = f"step {step} waits for the event {waiting_for['event']!r}"
    else:
        what = f"step {step} waits for an approval: {waiting_for['prompt']}"
    if until is None:
        return what
    limit = "until" if kind == "sleep" else "at most until"
    return f"{what}, {limit} {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(until))}"


def park_txn(conn: Connection, run_id: str, waiting_for: WaitingFor) -> None:
    """After the run was released as ``waiting``: record what for and the event saying so;
    if what it waits for arrived meanwhile (sent while its execution was ending: a delivery
    locks the run's row, so one of the two transactions sees the other's), queue it again
    at once."""
    run_store.update_run_txn(
        conn, run_id, waiting_for=dumps(waiting_for), wake_at=waiting_for["until"]
    )
    run_store.add_event_txn(
        conn,
        run_id,
        EventType.WORKFLOW_WAITING,
        describe(waiting_for),
        step_key=waiting_for["step_key"],
    )
    name = inbox_name(waiting_for)
    if name is not None and _unconsumed_txn(conn, run_id, name):
        wake_txn(conn, run_id, "what it waits for had arrived")


def _unconsumed_txn(conn: Connection, run_id: str, name: str) -> bool:
    return (
        conn.execute(
            select(run_inbox.c.id)
            .where(
                run_inbox.c.run_id == run_id,
                run_inbox.c.name == name,
                run_inbox.c.consumed_at.is_(None),
            )
            .limit(1)
        ).first()
        is not None
    )


def wake_txn(conn: Connection, run_id: str, message: str) -> None:
    """Queue a parked run again (``workflow_woken`` saying why)."""
    run_store.update_run_txn(conn, run_id, status=RunStatus.PENDING, waiting_for=None, wake_at=None)
    run_store.add_event_txn(conn, run_id, EventType.WORKFLOW_WOKEN, message)


def unpark_txn(conn: Connection, run_id: str) -> None:
    """A parked run paused or cancelled: it waits for nothing any more, and its waiting step
    reads as not started (a resume waits again, keeping a sleep's end and a wait's limit)."""
    run_store.update_run_txn(conn, run_id, waiting_for=None, wake_at=None)
    conn.execute(
        update(workflow_steps)
        .where(workflow_steps.c.run_id == run_id, workflow_steps.c.status == StepStatus.WAITING)
        .values(status=StepStatus.PENDING, updated_at=time.time())
    )


def wake_due_runs_txn(conn: Connection, *, now: float, limit: int) -> list[str]:
    """Queue again the parked runs whose time came (at most ``limit``, the earliest first);
    their ids. Runs another worker is waking are skipped (PostgreSQL)."""
    runs = workflow_runs.c
    due = conn.execute(
        select(runs.id, runs.waiting_for)
        .where(runs.wake_at <= now, runs.status == RunStatus.WAITING)
        .order_by(runs.wake_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for run_id, waiting_for_text in due:
        waiting_for: WaitingFor = json.loads(waiting_for_text)
        ended = "its sleep ended" if waiting_for["kind"] == "sleep" else "its wait timed out"
        wake_txn(conn, run_id, f"{ended} (step {waiting_for['step_key']})")
    return [run_id for run_id, _ in due]


def next_wake_at_txn(conn: Connection) -> float | None:
    """When the next parked run is due (None: none is due at any time)."""
    runs = workflow_runs.c
    return conn.execute(
        select(func.min(runs.wake_at)).where(runs.status == RunStatus.WAITING)
    ).scalar()


def keep_txn(
    conn: Connection, run_id: str, name: str, data: Any, *, event_id: str | None = None
) -> bool:
    """Put an event (or a decision) in the run's inbox; False, and nothing kept, when an
    event with the same ``event_id`` was delivered before."""
    if event_id is not None:
        seen = conn.execute(
            select(run_inbox.c.id).where(
                run_inbox.c.run_id == run_id, run_inbox.c.event_id == event_id
            )
        ).first()
        if seen is not None:
            return False
    conn.execute(
        insert(run_inbox).values(
            run_id=run_id, name=name, data=dumps(data), event_id=event_id, created_at=time.time()
        )
    )
    return True


def wake_for_txn(conn: Connection, run: RowMapping, name: str) -> bool:
    """Queue the run (read for update) again if it is parked waiting for ``name``."""
    waiting = waiting_for_of(run)
    if waiting is None or inbox_name(waiting) != name:
        return False
    wake_txn(conn, run["id"], f"{_arrived(name)} (step {waiting['step_key']})")
    return True


def _arrived(name: str) -> str:
    if name.startswith(APPROVAL_PREFIX):
        return "its approval was decided"
    return f"the event {name!r} arrived"


def waiting_for_of(run: Mapping[Any, Any]) -> WaitingFor | None:
    """What the run waits for (None unless it is parked)."""
    if run["status"] != RunStatus.WAITING or run["waiting_for"] is None:
        return None
    waiting: WaitingFor = json.loads(run["waiting_for"])
    return waiting
