"""Queries on the files runs saved (``run_artifacts``). Writes go through the journal
(``Journal.save_artifact``), fenced like every write of an execution."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, select

from stepstone.store.schema import run_artifacts


def artifacts_of_run_txn(conn: Connection, run_id: str) -> Sequence[RowMapping]:
    """The run's artifacts, by name."""
    query = (
        select(run_artifacts)
        .where(run_artifacts.c.run_id == run_id)
        .order_by(run_artifacts.c.name, run_artifacts.c.id)
    )
    return conn.execute(query).mappings().all()


def get_artifact_txn(conn: Connection, run_id: str, artifact_id: str) -> RowMapping | None:
    """One artifact of the run (None when the id names no artifact of this run)."""
    query = select(run_artifacts).where(
        run_artifacts.c.run_id == run_id, run_artifacts.c.id == artifact_id
    )
    return conn.execute(query).mappings().first()
