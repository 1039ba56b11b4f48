"""Sending a run an event and deciding its approval (SPEC 3.12): both go to the run's
inbox, and a run parked on them is queued again in the same transaction."""

from __future__ import annotations

import time
from typing import Any

from stepstone.errors import InvalidInput, NotResumable
from stepstone.services.runs import load_run_txn, view_run_txn
from stepstone.steps.waits import checked_event_name
from stepstone.store import runs as store
from stepstone.store import waiting
from stepstone.store.database import Database
from stepstone.store.records import EventDelivery, Run, iso
from stepstone.vocabulary import TERMINAL_RUN_STATUSES, EventType

COMMENT_MAX = 10_000


def send_event(
    db: Database,
    run_id: str,
    name: str,
    data: Any = None,
    *,
    event_id: str | None = None,
    user_id: str | None = None,
) -> EventDelivery:
    """Deliver the event ``name`` (with ``data``) to the run; ``event_id`` makes sending it
    again harmless. Refused for a run that ended (completed or cancelled)."""
    checked_event_name(name)
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        if run["status"] in TERMINAL_RUN_STATUSES:
            raise NotResumable(f"run {run['id']} is {run['status']}; it waits for nothing")
        kept = waiting.keep_txn(conn, run["id"], name, data, event_id=event_id)
        woke = False
        if kept:
            said = "" if event_id is None else f" (id {event_id})"
            store.add_event_txn(
                conn, run["id"], EventType.EVENT_RECEIVED, f"event {name!r} received{said}"
            )
            woke = waiting.wake_for_txn(conn, run, name)
    return {"run_id": run["id"], "name": name, "id": event_id, "duplicate": not kept, "woke": woke}


def decide_approval(
    db: Database,
    run_id: str,
    step_key: str | None,
    *,
    approved: bool,
    by: str,
    comment: str | None = None,
    user_id: str | None = None,
) -> Run:
    """Approve or reject the approval the run waits for on ``step_key`` (None: whichever
    it waits for); the run is queued again and the step returns the decision. Refused when
    the run is not waiting for that approval."""
    if comment is not None and len(comment) > COMMENT_MAX:
        raise InvalidInput(f"the comment is longer than {COMMENT_MAX} characters")
    with db.transaction() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id, for_update=True)
        waits = waiting.waiting_for_of(run)
        if waits is None or waits["kind"] != "approval":
            raise NotResumable(f"run {run['id']} is {run['status']}, not waiting for an approval")
        if step_key is not None and step_key != waits["step_key"]:
            raise NotResumable(
                f"run {run['id']} waits for the approval of step {waits['step_key']},"
                f" not {step_key}"
            )
        decision = {
            "approved": approved,
            "by": by,
            "comment": comment or None,
            "at": iso(time.time()),
        }
        key = waits["step_key"]
        waiting.keep_txn(conn, run["id"], waiting.approval_name(key), decision)
        verdict = "approved" if approved else "rejected"
        message = f"{verdict} by {by}" + (f": {comment}" if comment else "")
        store.add_event_txn(conn, run["id"], EventType.APPROVAL_DECIDED, message, step_key=key)
        waiting.wake_for_txn(conn, run, waiting.approval_name(key))
        return view_run_txn(conn, run["id"], user_id=user_id)
