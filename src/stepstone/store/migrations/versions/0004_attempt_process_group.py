"""the process group of a step attempt

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("step_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("process_group", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("process_start", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("step_attempts", schema=None) as batch_op:
        batch_op.drop_column("process_start")
        batch_op.drop_column("process_group")
        batch_op.drop_column("process_host")
