"""The database as Stepstone opens it: migrations, pragmas, definitions kept in step."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from stepstone.errors import InvalidInput
from stepstone.services.projects import list_definitions
from stepstone.services.runs import start_run
from stepstone.store.database import Database, alembic_config
from stepstone.store.schema import metadata
from tests.helpers import Project


def test_the_migrations_build_exactly_the_declared_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_opening_twice_applies_nothing_new(db: Database) -> None:
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    again = Database.open(db.url)
    with again.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    again.dispose()


@pytest.mark.sqlite_only
def test_sqlite_connections_are_in_wal_mode_with_full_sync_and_foreign_keys(
    db: Database,
) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    raw = sqlite3.connect(db.sqlite_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "WAL is kept in the file"
    raw.close()


def test_a_definition_whose_file_is_gone_is_archived_and_refuses_new_runs(
    db: Database, make_project
) -> None:
    project: Project = make_project()
    path = project.write_workflow(
        """
@workflow(id="short-lived")
async def short_lived(ctx: Context) -> None:
    pass
""",
        file_name="short.py",
    )
    listing = list_definitions(db, project.id, sync="always")
    assert [(d["workflow"], d["archived"]) for d in listing["definitions"]] == [
        ("short-lived", False)
    ]
    path.unlink()
    listing = list_definitions(db, project.id, sync="always")
    assert [(d["workflow"], d["archived"]) for d in listing["definitions"]] == [
        ("short-lived", True)
    ]
    archived = r"is archived: its file \.stepstone/workflows/short\.py"
    with pytest.raises(InvalidInput, match=archived):
        start_run(db, project.id, "short-lived")


def test_definition_files_are_imported_again_only_when_they_changed(
    db: Database, make_project
) -> None:
    project: Project = make_project()
    path = project.write_workflow(
        """
with (PROJECT / "imports.log").open("a") as imports:
    imports.write("imported\\n")


@workflow(id="counted")
async def counted(ctx: Context) -> None:
    pass
"""
    )
    imports = project.root / "imports.log"
    list_definitions(db, project.id, sync="always")  # an explicit resync imports
    before = imports.read_text().count("imported")
    start_run(db, project.id, "counted")
    start_run(db, project.id, "counted")
    assert imports.read_text().count("imported") == before, "unchanged files: no import"
    path.write_text(path.read_text() + "\n# edited\n")
    start_run(db, project.id, "counted")
    assert imports.read_text().count("imported") == before + 1
