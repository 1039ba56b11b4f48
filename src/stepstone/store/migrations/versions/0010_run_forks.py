"""runs know the run and step they were forked from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:30:00

A fork (SPEC 3.11) is a new run that reuses the steps of another run before a chosen step:
it records that run's id and the step (none: a plain rerun of everything) so each run can
show its origin and list its forks. No foreign key: deleting the origin leaves its forks
as they are, still saying where they came from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forked_from_run_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("forked_from_step", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_workflow_runs_forked_from", ["forked_from_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_runs_forked_from")
        batch_op.drop_column("forked_from_step")
        batch_op.drop_column("forked_from_run_id")
