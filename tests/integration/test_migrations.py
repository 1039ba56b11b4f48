"""The migration history is a ladder that can be walked both ways, as a developer does with
``alembic`` by hand (no connection handed over: env.py opens the URL itself)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from stepstone.store.database import Database, alembic_config
from stepstone.store.schema import metadata


def test_every_migration_can_be_undone_and_redone_back_to_the_declared_tables(
    db: Database,
) -> None:
    config = alembic_config(db.url)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions("base", "heads"))
    command.downgrade(config, "base")
    assert inspect(db.engine).get_table_names() == ["alembic_version"], "base has no tables"

    for _ in revisions:
        command.upgrade(config, "+1")
        command.downgrade(config, "-1")
        command.upgrade(config, "+1")

    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == revisions[0].revision
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
