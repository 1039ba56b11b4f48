"""change stamps and notifications for the live feed on PostgreSQL; per-project run limits

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 07:30:00

On PostgreSQL many processes write at once, and a row's id or time stamp is taken before its
transaction commits, so rows appear out of their stamps' order and a reader that moves a
cursor past what it saw can miss a row committed late. Every row the live feed reads is
therefore stamped, by a trigger, with the id of the transaction that wrote it
(``change_tx``): a reader that has seen every row of the transactions older than its
snapshot's oldest running one (``pg_snapshot_xmin``) knows nothing older can still appear
(see ``store/changes.py``). The same trigger sends a NOTIFY naming the run and the
transaction, delivered at commit: other processes' feeds look at once instead of polling.
On SQLite (one writer at a time) the column stays empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHANNEL = "stepstone_changes"
STAMPED = {
    # table: (the column naming its run, whether rows are updated with a new updated_at)
    "workflow_runs": ("id", True),
    "workflow_steps": ("run_id", True),
    "run_events": ("run_id", False),
    "step_logs": ("run_id", False),
}


def _function(table: str, run_column: str) -> str:
    return f"""
CREATE FUNCTION stepstone_stamp_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_tx := pg_current_xact_id()::text::bigint;
    PERFORM pg_notify('{CHANNEL}', NEW.{run_column} || ' ' || NEW.change_tx);
    RETURN NEW;
END
$$"""


def upgrade() -> None:
    for table in STAMPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("change_tx", sa.BigInteger(), nullable=True))
            batch_op.create_index(f"ix_{table}_change_tx", ["change_tx"], unique=False)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_concurrent_runs", sa.Integer(), nullable=True))

    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (run_column, updated) in STAMPED.items():
        op.execute(_function(table, run_column))
        op.execute(
            f"CREATE TRIGGER stepstone_stamp_insert BEFORE INSERT ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION stepstone_stamp_{table}()"
        )
        if updated:
            # Only changes the feed tells (they move updated_at): a heartbeat, which renews
            # a lease and nothing else, wakes no one.
            op.execute(
                f"CREATE TRIGGER stepstone_stamp_update BEFORE UPDATE ON {table} FOR EACH ROW"
                " WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at)"
                f" EXECUTE FUNCTION stepstone_stamp_{table}()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, (_, updated) in STAMPED.items():
            op.execute(f"DROP TRIGGER stepstone_stamp_insert ON {table}")
            if updated:
                op.execute(f"DROP TRIGGER stepstone_stamp_update ON {table}")
            op.execute(f"DROP FUNCTION stepstone_stamp_{table}()")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("max_concurrent_runs")
    for table in STAMPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_change_tx")
            batch_op.drop_column("change_tx")
