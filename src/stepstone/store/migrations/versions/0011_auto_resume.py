"""workflows may have their interrupted runs resumed without a click

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:45:00

``@workflow(auto_resume=True)`` is recorded with the definition (SPEC 3.13), so a worker
finds the runs it may resume without importing their files. Every project's definitions
are read again at their next use, so workflows already declaring it are found. Events get a
``reason`` (``automatic`` on a resume by automatic recovery).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_definitions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_resume", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE projects SET definitions_signature = NULL")
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("workflow_definitions", schema=None) as batch_op:
        batch_op.drop_column("auto_resume")
