"""The lease protocol (SPEC 3.6, 4): who holds a run, taking it, keeping it, letting go of
it, fencing, and whether its holder is still alive.

Names: a **worker id** (``host:pid:random``) names a worker process; every claim it makes
gets a **lease token** of its own (``<worker id>#<n>``), stored in the run's ``lease_owner``
column; every write an execution makes is fenced by its token, so an execution that lost its
run (its lease expired and the run was taken again, even by the same worker) never writes
again. A run's ``user_id`` is the person who started it, unrelated to leases.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Update, bindparam, func, or_, select, update

from stepstone.store.runs import add_event_txn
from stepstone.store.schema import projects, workflow_runs
from stepstone.vocabulary import EventType, RunStatus

FENCE_SQL = (
    "SELECT pause_requested, cancel_requested FROM workflow_runs WHERE id=? AND lease_owner=?"
)
"""The journal's fence (raw SQL on its lean connection): a row while the token holds the run."""
FENCED_SQL = "EXISTS (SELECT 1 FROM workflow_runs WHERE id=? AND lease_owner=?)"
"""The same test inside another statement's WHERE."""


@dataclass(frozen=True)
class LeaseHolder:
    """Who takes a run: the worker ``worker_id`` (process ``pid`` on ``host``), under a
    lease token of its own for this claim, for ``lease_seconds`` until a heartbeat."""

    worker_id: str
    lease_token: str
    host: str
    pid: int
    lease_seconds: float


_HELD = workflow_runs.alias("held")


def _live_runs_of_project(project_id: Any, now: Any) -> Any:
    """How many runs of the project a worker holds now (a lease that ran out holds none)."""
    held = _HELD
    return (
        select(func.count())
        .select_from(held)
        .where(
            held.c.project_id == project_id,
            held.c.status == RunStatus.RUNNING,
            held.c.lease_expires_at > now,
        )
        .scalar_subquery()
    )


# Built once: a worker runs them for every run it takes.
_RUNS = workflow_runs.c
_PROJECT_LIMIT = projects.c.max_concurrent_runs
_NEXT_CLAIMABLE = (
    select(_RUNS.id, _RUNS.project_id, _PROJECT_LIMIT)
    .join(projects, projects.c.id == _RUNS.project_id)
    .where(
        _RUNS.status == RunStatus.PENDING,
        or_(
            _PROJECT_LIMIT.is_(None),
            _live_runs_of_project(_RUNS.project_id, bindparam("now")) < _PROJECT_LIMIT,
        ),
    )
    .order_by(_RUNS.created_at)
    .limit(1)
    .with_for_update(skip_locked=True, of=workflow_runs)
)
# FOR NO KEY UPDATE: claims of the project wait for each other, not for runs being added to
# it (their foreign key takes a KEY SHARE lock).
_LOCK_PROJECT = (
    select(projects.c.id)
    .where(projects.c.id == bindparam("project_id"))
    .with_for_update(key_share=True)
)
_LIVE_RUNS_OF_PROJECT = select(_live_runs_of_project(bindparam("project_id"), bindparam("now")))
_TAKE = (
    update(workflow_runs)
    .where(_RUNS.id == bindparam("run_id"), _RUNS.status == RunStatus.PENDING)
    .values(
        status=RunStatus.RUNNING,
        lease_owner=bindparam("token"),
        lease_expires_at=bindparam("expires_at"),
        owner_host=bindparam("host"),
        owner_pid=bindparam("pid"),
        started_at=func.coalesce(_RUNS.started_at, bindparam("now")),
        updated_at=bindparam("now"),
    )
    .returning(_RUNS.id)
)


def _take_txn(conn: Connection, run_id: str, holder: LeaseHolder, now: float) -> bool:
    """Lease the queued run ``run_id`` to ``holder``; False when it is not queued any more."""
    taken = conn.execute(
        _TAKE,
        {
            "run_id": run_id,
            "token": holder.lease_token,
            "expires_at": now + holder.lease_seconds,
            "host": holder.host,
            "pid": holder.pid,
            "now": now,
        },
    ).first()
    if taken is None:
        return False
    add_event_txn(conn, run_id, EventType.WORKFLOW_STARTED, holder.worker_id)
    return True


def claim_next_run_txn(conn: Connection, holder: LeaseHolder) -> str | None:
    """Take the oldest queued run for ``holder`` whose project is below its limit of runs
    at once (``projects.max_concurrent_runs``); ``None`` when there is none. The status
    check sits in the UPDATE itself, so two workers can never both take a run; on
    PostgreSQL a run another worker is taking is skipped (``FOR UPDATE SKIP LOCKED``), so
    concurrent workers take different runs instead of waiting for each other (SQLite has one
    writer at a time anyway). A limited project's row is locked while its count is checked
    again: two workers cannot both take its last place."""
    now = time.time()
    candidate = conn.execute(_NEXT_CLAIMABLE, {"now": now}).first()
    if candidate is None:
        return None
    run_id, project_id, project_limit = candidate
    if project_limit is not None:
        conn.execute(_LOCK_PROJECT, {"project_id": project_id})
        held = conn.execute(_LIVE_RUNS_OF_PROJECT, {"project_id": project_id, "now": now})
        if held.scalar_one() >= project_limit:
            return None  # another worker took the last place meanwhile: look again later
    return str(run_id) if _take_txn(conn, str(run_id), holder, now) else None


def claim_run_txn(conn: Connection, run_id: str, holder: LeaseHolder) -> bool:
    """Take one given queued run for ``holder`` (``--inline``, in the transaction that
    queued it); False when it is not queued any more."""
    return _take_txn(conn, run_id, holder, time.time())


def renew_leases_txn(
    conn: Connection, *, lease_tokens: Sequence[str], lease_seconds: float
) -> None:
    """The heartbeat: extend these leases (and no other, so a run this worker gave up on
    expires)."""
    conn.execute(
        update(workflow_runs)
        .where(_held_under(lease_tokens))
        .values(lease_expires_at=time.time() + lease_seconds)
    )


@dataclass(frozen=True)
class ControlFlags:
    """What other processes asked of a run held under ``lease_token``."""

    lease_token: str
    pause_requested: bool
    cancel_requested: bool


def control_flags_txn(conn: Connection, *, lease_tokens: Sequence[str]) -> list[ControlFlags]:
    """Pause and cancel requests for the runs held under these leases."""
    rows = conn.execute(
        select(
            workflow_runs.c.lease_owner,
            workflow_runs.c.pause_requested,
            workflow_runs.c.cancel_requested,
        ).where(_held_under(lease_tokens))
    )
    return [ControlFlags(token, bool(pause), bool(cancel)) for token, pause, cancel in rows]


NO_LEASE: dict[str, Any] = {
    "lease_owner": None,
    "lease_expires_at": None,
    "owner_pid": None,
    "owner_host": None,
    "pause_requested": False,
    "cancel_requested": False,
}
"""The columns that say no worker holds the run."""


def release_run_txn(conn: Connection, run_id: str, lease_token: str, **values: Any) -> bool:
    """Write the run's outcome and drop the lease, only if ``lease_token`` still holds it."""
    values = {"updated_at": time.time(), **NO_LEASE, **values}
    statement = _release_statement(tuple(sorted(values)))
    params = {f"new_{column}": value for column, value in values.items()}
    result = conn.execute(statement, {"run_id": run_id, "token": lease_token, **params})
    return result.rowcount == 1


@functools.lru_cache(maxsize=32)
def _release_statement(columns: tuple[str, ...]) -> Update:
    """The release that sets ``columns`` (each from the parameter ``new_<column>``), built
    once per set of columns: a worker releases every run it executes."""
    return (
        update(workflow_runs)
        .where(_RUNS.id == bindparam("run_id"), _RUNS.lease_owner == bindparam("token"))
        .values({column: bindparam(f"new_{column}") for column in columns})
    )


def _held_under(lease_tokens: Sequence[str]) -> ColumnElement[bool]:
    return (workflow_runs.c.lease_owner.in_(lease_tokens)) & (
        workflow_runs.c.status == RunStatus.RUNNING
    )


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != b"Z"


def is_live(run: Mapping[Any, Any], *, now: float | None = None) -> bool:
    """A ``running`` run is live while its lease is unexpired and, when held on this host,
    its holder process still exists; otherwise it is orphaned (shown as interrupted)."""
    if run["status"] != RunStatus.RUNNING or run["lease_owner"] is None:
        return False
    if (run["lease_expires_at"] or 0.0) < (time.time() if now is None else now):
        return False
    if run["owner_host"] == socket.gethostname() and run["owner_pid"] is not None:
        return process_alive(int(run["owner_pid"]))
    return True
