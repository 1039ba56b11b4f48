"""agent sessions, token usage and base trees of steps; preserve, budget and PR of runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("usage", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("base_tree", sa.String(length=64), nullable=True))
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("preserve", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("budget_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("pr_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.drop_column("pr_url")
        batch_op.drop_column("budget_tokens")
        batch_op.drop_column("preserve")
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.drop_column("base_tree")
        batch_op.drop_column("usage")
        batch_op.drop_column("session_id")
