"""secret run args sealed in the database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00

Secret run args (schema ``writeOnly`` / ``format: password``) were kept in a file per run
under the home of the process that started the run, which a worker on another machine
cannot read. They are now sealed (encrypted under the secret key, which stays out of the
database) into a row beside the run's. Runs started before keep their files: the worker
still reads those, and deleting the run deletes them. Undoing this migration drops the
sealed values: runs started since then lose their secret args.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_secret_args",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["workflow_runs.id"],
            name=op.f("fk_run_secret_args_run_id_workflow_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_secret_args")),
    )


def downgrade() -> None:
    op.drop_table("run_secret_args")
