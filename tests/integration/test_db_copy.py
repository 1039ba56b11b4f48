"""``stepstone db copy`` (SPEC 4): an embedded SQLite home moved, whole, into PostgreSQL; all
or nothing, and the PostgreSQL database goes on working afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select, update

from stepstone.errors import Conflict
from stepstone.services.projects import add_project
from stepstone.services.runs import get_run, start_run
from stepstone.services.users import create_user
from stepstone.services.waits import send_event
from stepstone.store.copy import copy_database, row_counts
from stepstone.store.database import Database
from stepstone.store.schema import metadata, step_logs
from tests.helpers import Project, execute_inline, run_cli

pytestmark = pytest.mark.postgresql_only

EVERYTHING = """
def flaky_once() -> str:
    if not flag("tried"):
        touch("tried")
        raise RuntimeError("the first attempt fails")
    return "second attempt"


@workflow(
    id="everything",
    args_schema={"type": "object", "properties": {"token": {"type": "string", "writeOnly": True}}},
)
async def everything(ctx: Context) -> dict:
    await ctx.step.cli("say", "echo hello; echo careful >&2")
    ctx.log.info("logged %s", "line")
    await ctx.annotate("said hello")
    await ctx.step.artifact("save", name="notes.md", content="# notes\\n")
    flaky = await ctx.step.run("flaky", flaky_once, retries=1, retry_backoff=0)
    report = await ctx.step.wait_for_event("ci", event="ci-passed")  # sent before: no park
    return {"flaky": flaky, "report": report}
"""

STAMPED_BY_TARGET = {"change_tx"}
"""Set by PostgreSQL's triggers to the transaction that wrote the row (migration 0008): the
copy's own there, empty on SQLite."""


@pytest.fixture
def source(home: Path) -> Iterator[Database]:
    """The embedded database of the test's home."""
    database = Database.open(f"sqlite:///{home / 'stepstone.db'}", files_dir=home)
    yield database
    database.dispose()


@pytest.fixture
def target(database_url: str, home: Path) -> Iterator[Database]:
    """A fresh PostgreSQL database, migrated and empty."""
    database = Database.open(database_url, files_dir=home)
    yield database
    database.dispose()


async def fill(db: Database, home: Path, root: Path) -> dict[str, Any]:
    """A user, a project (with a file that fails to load) and a completed run that left
    steps, a retried attempt, events, log lines, an artifact, sealed secret args and an
    event in its inbox; the run."""
    user = create_user(db, "ada@example.com", "correct horse battery")
    project = Project(root, {"id": "", "name": ""})
    project.write_workflow(EVERYTHING)
    (root / ".stepstone" / "workflows" / "broken.py").write_text("this is not python\n")
    project_id = add_project(db, root, name="copied", user_id=user["id"])["id"]
    secret = {"token": "sealed-in-the-copy-4410"}  # a row of run_secret_args
    return await run_everything(db, home, project_id, args=secret, user_id=user["id"])


async def run_everything(db: Database, home: Path, project_id: str, **start: Any) -> dict[str, Any]:
    """Start and execute the ``everything`` workflow, its event sent first (a row of
    run_inbox); the completed run."""
    run_id = start_run(db, project_id, "everything", **start)["id"]
    send_event(db, run_id, "ci-passed", {"green": True}, event_id="ci-1")
    await execute_inline(db, run_id, artifacts_dir=home / "artifacts")
    run = get_run(db, run_id)
    assert run["status"] == "completed", run["error_message"]
    return dict(run)


def rows_of(db: Database, table: Table, *, stamps: bool = False) -> list[dict[str, Any]]:
    """The table's rows in key order; without the columns the target stamps itself, unless
    ``stamps``."""
    with db.read() as conn:
        rows = [dict(row) for row in conn.execute(select(table)).mappings()]
    keys = [column.name for column in table.primary_key.columns]
    rows.sort(key=lambda row: tuple(str(row[key]) for key in keys))
    hidden = set() if stamps else STAMPED_BY_TARGET
    return [{k: v for k, v in row.items() if k not in hidden} for row in rows]


def everything_in(db: Database, *, stamps: bool = False) -> dict[str, list[dict[str, Any]]]:
    return {table.name: rows_of(db, table, stamps=stamps) for table in metadata.sorted_tables}


def counted_tables() -> list[Table]:
    """The tables whose ids PostgreSQL's sequences hand out."""
    return [table for table in metadata.sorted_tables if table.autoincrement_column is not None]


def largest_id(db: Database, table: Table) -> int:
    column = table.autoincrement_column
    assert column is not None
    with db.read() as conn:
        return int(conn.execute(select(func.max(column))).scalar_one())


async def test_every_row_of_every_table_arrives_unchanged_batch_by_batch(
    source: Database, target: Database, home: Path, tmp_path: Path
) -> None:
    await fill(source, home, tmp_path / "project")
    held = row_counts(source)
    assert all(held.values()), f"every table has rows to copy, so each is checked: {held}"
    told: dict[str, list[int]] = {}

    counts = copy_database(
        source,
        target,
        batch_rows=2,
        progress=lambda table_name, copied: told.setdefault(table_name, []).append(copied),
    )

    assert counts == held
    assert everything_in(target) == everything_in(source)
    for table_name, rows in held.items():
        expected = [0, *range(2, rows, 2), rows]
        assert told[table_name] == expected, f"progress of {table_name}, two rows at a time"


async def test_runs_steps_and_logs_written_after_the_copy_get_ids_past_the_copied_ones(
    source: Database, target: Database, home: Path, tmp_path: Path
) -> None:
    first = await fill(source, home, tmp_path / "project")
    copy_database(source, target)
    copied = {table.name: largest_id(target, table) for table in counted_tables()}

    workflows = tmp_path / "project" / ".stepstone" / "workflows"
    (workflows / "broken-too.py").write_text("also not python\n")  # imported again: errors
    (tmp_path / "project" / "tried").unlink()  # the flaky step fails once more: attempts
    await run_everything(target, home, first["project_id"])

    for table_name, copied_id in copied.items():
        assert largest_id(target, metadata.tables[table_name]) > copied_id, table_name


async def test_a_copy_into_a_database_holding_users_projects_or_runs_is_refused_unchanged(
    source: Database, target: Database, home: Path, tmp_path: Path
) -> None:
    await fill(source, home, tmp_path / "project")
    copy_database(source, target)
    before = everything_in(target, stamps=True)

    with pytest.raises(Conflict, match="already holds users, projects and runs"):
        copy_database(source, target)

    assert everything_in(target, stamps=True) == before


async def test_replace_deletes_what_the_target_held_and_copies_again(
    source: Database, target: Database, home: Path, tmp_path: Path
) -> None:
    await fill(source, home, tmp_path / "project")
    create_user(target, "someone.else@example.com", "another long password")

    with pytest.raises(Conflict, match="already holds users:"):
        copy_database(source, target)
    copy_database(source, target, replace=True)

    assert everything_in(target) == everything_in(source)


async def test_a_copy_stopped_part_way_leaves_the_target_as_it_was(
    source: Database, target: Database, home: Path, tmp_path: Path
) -> None:
    await fill(source, home, tmp_path / "project")

    def stop_at_runs(table_name: str, _copied: int) -> None:
        if table_name == "workflow_runs":  # users and projects are in by now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_database(source, target, progress=stop_at_runs)

    assert set(row_counts(target).values()) == {0}
    assert copy_database(source, target) == row_counts(source), "a new try starts afresh"


async def test_nul_characters_which_postgresql_text_cannot_hold_arrive_as_replacement_marks(
    source: Database, target: Database, home: Path, tmp_path: Path
) -> None:
    await fill(source, home, tmp_path / "project")
    first_log = select(func.min(step_logs.c.id)).scalar_subquery()
    with source.transaction() as conn:
        conn.execute(update(step_logs).where(step_logs.c.id == first_log).values(line="a\0b"))

    copy_database(source, target)

    lines = [row["line"] for row in rows_of(target, step_logs)]
    assert lines[0] == "a\ufffdb"
    assert lines[1:] == [row["line"] for row in rows_of(source, step_logs)][1:]


async def test_the_command_copies_the_home_and_names_the_files_to_carry_by_hand(
    source: Database, target: Database, database_url: str, home: Path, tmp_path: Path
) -> None:
    await fill(source, home, tmp_path / "project")
    held = row_counts(source)

    # STEPSTONE_DATABASE_URL names the target already (the fixture sets it): the source is
    # still the home's SQLite file.
    done = run_cli("db", "copy", "--to", database_url)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"copied into {database_url}"
    for table_name, rows in held.items():
        assert any(re.fullmatch(rf"\s*{table_name}\s+{rows}\s*", line) for line in lines)
    assert f"copy these from {home} to the home" in done.stdout
    carried = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert "(none here)" in carried["jwt-secret"], "no server ever ran in this home"
    assert "(none here)" in carried["run-secrets/"]
    assert "(none here)" not in carried["artifacts/"]
    assert f"STEPSTONE_DATABASE_URL={database_url}" in lines[-1]
    assert row_counts(target) == held

    again = run_cli("db", "copy", "--to", database_url)
    assert again.returncode == 1
    assert again.stderr.splitlines() == [
        "error: the target database already holds users, projects and runs: copy into an empty"
        " database, or replace its contents (--replace)"
    ]


def test_the_command_refuses_a_target_that_is_not_postgresql_or_a_source_that_is_not_sqlite(
    home: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    Database.open(f"sqlite:///{home / 'stepstone.db'}").dispose()

    to_sqlite = run_cli("db", "copy", "--to", f"sqlite:///{other}")
    from_postgresql = run_cli(
        "db", "copy", "--from", "postgresql://postgres@127.0.0.1/x", "--to", f"sqlite:///{other}"
    )
    from_nowhere = run_cli(
        "db", "copy", "--from", f"sqlite:///{tmp_path / 'missing.db'}", "--to", "postgresql://h/x"
    )

    assert (to_sqlite.returncode, to_sqlite.stderr) == (
        1,
        "error: the target must be a PostgreSQL database (postgresql://USER@HOST/NAME), not"
        " sqlite\n",
    )
    assert (from_postgresql.returncode, from_postgresql.stderr) == (
        1,
        "error: the source must be a SQLite database (sqlite:///PATH), not postgresql\n",
    )
    assert (from_nowhere.returncode, from_nowhere.stderr) == (
        1,
        f"error: no SQLite database at {tmp_path / 'missing.db'}\n",
    )
    assert not other.exists()
    assert not (tmp_path / "missing.db").exists()
