"""runs park while they wait, and keep what is sent to them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:40:00

A run waiting for a long sleep, an event or an approval (SPEC 3.12) holds no lease: it
records what it waits for and when it is due (indexed, so the workers find the due ones
without reading every waiting run). Events and approval decisions sent to a run are kept in
its inbox until a waiting step consumes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_for", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("wake_at", sa.Float(), nullable=True))
        batch_op.create_index("ix_workflow_runs_wake_at", ["wake_at"], unique=False)
    op.create_table(
        "run_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("consumed_step", sa.String(length=200), nullable=True),
        sa.Column("consumed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["workflow_runs.id"],
            name="fk_run_inbox_run_id_workflow_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_run_inbox"),
        sa.UniqueConstraint("run_id", "event_id", name="uq_run_inbox_run_id"),
    )
    op.create_index("ix_run_inbox_run_name", "run_inbox", ["run_id", "name", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_inbox_run_name", table_name="run_inbox")
    op.drop_table("run_inbox")
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_runs_wake_at")
        batch_op.drop_column("wake_at")
        batch_op.drop_column("waiting_for")
