"""From a leased run id to a finished execution whose outcome is written back."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping

from stepstone.engine.context import RunInfo
from stepstone.engine.executor import PARK_AFTER_SECONDS, Outcome, RunExecution
from stepstone.engine.loader import load_definition
from stepstone.steps.processes import ProcessGroup, end_left_over
from stepstone.store import leases, waiting
from stepstone.store import runs as run_store
from stepstone.store.database import Database
from stepstone.store.journal import JournalWriter
from stepstone.store.secret_args import SecretArgs
from stepstone.vocabulary import OUTCOME_EVENTS, AttemptStatus, RunStatus, StepStatus

log = logging.getLogger(__name__)


def prepare_execution(
    db: Database,
    run_id: str,
    journal: JournalWriter,
    lease_token: str,
    artifacts_dir: Path | None = None,
    agent_commands: Mapping[str, Sequence[str]] | None = None,
    park_after_seconds: float = PARK_AFTER_SECONDS,
) -> RunExecution:
    """Read the run and build its execution (saving artifacts under ``artifacts_dir``,
    starting agents with ``agent_commands``, parking sleeps longer than
    ``park_after_seconds``); raises InvalidInput if its secret args cannot
    be opened or its code cannot load."""
    with db.read() as conn:
        run = run_store.get_run_to_execute_txn(conn, run_id)
        assert run is not None, "a leased run exists, of a registered definition"
        cut_off = run_store.cut_off_process_groups_txn(conn, run_id)
    end_left_overs(run_id, cut_off)
    args = _args_of(db, run, run["definition_args_schema"], journal)
    definition = load_definition(run["project_path"], run["definition_file"], run["workflow"])
    info = RunInfo.from_row(run, project_path=run["project_path"])
    return RunExecution(
        run_info=info,
        args=args,
        definition=definition,
        journal=journal,
        lease_token=lease_token,
        artifacts_dir=artifacts_dir,
        agent_commands=agent_commands,
        park_after_seconds=park_after_seconds,
    )


def _args_of(
    db: Database, run: RowMapping, schema_text: str | None, journal: JournalWriter
) -> dict[str, Any]:
    """The run's args with its secret ones opened (and known to the journal's redactor);
    InvalidInput when they cannot be: the run fails rather than hand a step the
    ``[redacted]`` the database holds in their place."""
    stored: dict[str, Any] = json.loads(run["args"])
    schema = json.loads(schema_text) if schema_text else None
    secrets = SecretArgs.beside(db).load(run["id"], stored_args=stored, schema=schema)
    journal.redactor.add(str(value) for value in secrets.values())
    return {**stored, **secrets}


def end_left_overs(run_id: str, groups: Sequence[Mapping[Any, Any]]) -> None:
    """Before a run executes again, end what a crash left running of its cut-off attempts
    (a command's background children, an agent still at work): they would race the step's
    new attempt."""
    for row in groups:
        group = ProcessGroup(row["process_host"], row["process_group"], row["process_start"])
        if end_left_over(group):
            log.warning(
                "run %s: ended process group %d left by a cut-off step", run_id, group.group
            )


def record_outcome(
    db: Database, run_id: str, lease_token: str, outcome: Outcome, now: float
) -> bool:
    """Write how the execution ended and release the lease; False if the lease was lost
    meanwhile (then nothing is written: the new holder owns the run)."""
    if outcome.status == "lease_lost":
        log.warning("run %s: %s", run_id, outcome.error)
        return False
    status = outcome.status
    values: dict[str, Any] = {"status": status, "current_phase": None}
    if status == RunStatus.COMPLETED:
        values.update(result=outcome.result, completed_at=now, error_message=None)
    elif status == RunStatus.FAILED:
        values.update(error_message=outcome.error, completed_at=now)
    elif status == RunStatus.PAUSED:
        values.update(paused_at=now)
    elif status == RunStatus.CANCELLED:
        values.update(cancelled_at=now, completed_at=now)
    with db.transaction() as conn:
        if not leases.release_run_txn(conn, run_id, lease_token, **values):
            return False
        if status == RunStatus.WAITING:
            assert outcome.waiting_for is not None
            # Steps of other branches that were running start again when it wakes.
            run_store.reset_running_steps_txn(conn, run_id)
            waiting.park_txn(conn, run_id, outcome.waiting_for)
            return True
        if status == RunStatus.CANCELLED:
            run_store.cancel_unfinished_steps_txn(conn, run_id)
        elif status == RunStatus.PAUSED:
            run_store.reset_running_steps_txn(conn, run_id)
        elif status == RunStatus.FAILED:
            # A step cut short by the run's end (the run timeout, an error outside steps).
            run_store.settle_running_steps_txn(
                conn,
                run_id,
                step_status=StepStatus.FAILED,
                attempt_status=AttemptStatus.FAILED,
                message=outcome.error,
            )
        run_store.add_event_txn(conn, run_id, OUTCOME_EVENTS[status], outcome.error)
    return True


def release_interrupted(db: Database, run_id: str, lease_token: str) -> None:
    """Shutdown: drop the lease and leave the run ``running``, so it shows as interrupted
    and can be resumed."""
    with db.transaction() as conn:
        leases.release_run_txn(conn, run_id, lease_token)
