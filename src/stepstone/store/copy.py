"""Copying every row of one database into another (``stepstone db copy``): an embedded
SQLite home moved to PostgreSQL.

The copy follows the tables as ``schema.metadata`` declares them, so a column a migration
adds comes along without a change here. Both databases must be at the same migration
(``Database.open`` migrates each); Alembic's own version table is not copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Table,
    delete,
    exists,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from stepstone.errors import Conflict, InvalidInput, StepstoneError
from stepstone.store.database import Database, engine_url
from stepstone.store.schema import metadata, projects, users, workflow_runs

BATCH_ROWS = 1000
"""Rows read and written at a time: a large home never sits in memory whole."""

Progress = Callable[[str, int], None]
"""Told ``(table name, rows of it copied so far)``: once with 0 when the table starts, then
after every batch."""

OCCUPYING = {users.name: "users", projects.name: "projects", workflow_runs.name: "runs"}
"""What makes a target database someone's data: a copy into it is refused unless asked to
replace it."""

NUL = "\x00"
NUL_STAND_IN = "\ufffd"


def url_kind(url: str) -> str:
    """The database ``url`` names: ``sqlite``, ``postgresql`` or another backend's name."""
    try:
        return make_url(engine_url(url)).get_backend_name()
    except ArgumentError as exc:
        raise InvalidInput(f"{url!r} is not a database URL") from exc


def shown_url(url: str) -> str:
    """``url`` as it may be printed: its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def check_sqlite_to_postgresql(source_url: str, target_url: str) -> None:
    """Refuse (:class:`InvalidInput`) a source that is not an existing SQLite file, or a
    target that is not PostgreSQL; before anything is opened, so no file is created."""
    source_kind = url_kind(source_url)
    if source_kind != "sqlite":
        raise InvalidInput(
            f"the source must be a SQLite database (sqlite:///PATH), not {source_kind}"
        )
    path = make_url(source_url).database
    if not path or path == ":memory:" or not Path(path).is_file():
        raise InvalidInput(f"no SQLite database at {path or shown_url(source_url)}")
    target_kind = url_kind(target_url)
    if target_kind != "postgresql":
        raise InvalidInput(
            "the target must be a PostgreSQL database (postgresql://USER@HOST/NAME),"
            f" not {target_kind}"
        )


def open_database(url: str, *, role: str, files_dir: Path | None = None) -> Database:
    """``Database.open(url)``; a database that cannot be reached or migrated is one line
    naming the ``role`` it plays (``source``, ``target``)."""
    try:
        return Database.open(url, files_dir=files_dir)
    except DBAPIError as exc:
        raise InvalidInput(
            f"cannot open the {role} database {shown_url(url)}: {_one_line(exc)}"
        ) from exc


def _one_line(exc: DBAPIError) -> str:
    return " ".join(str(exc.orig).split())


def row_counts(db: Database) -> dict[str, int]:
    """The rows each table holds, in the order a copy goes through them."""
    with db.read() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def copy_database(
    source: Database,
    target: Database,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` with its ids unchanged; return the rows
    copied per table.

    All of it happens in one transaction on ``target``: an error or Ctrl-C part-way leaves
    ``target`` as it was. ``source`` is read from one snapshot, so a process writing to it
    meanwhile cannot tear the copy (its later writes are simply not in it). A ``target`` that
    holds any user, project or run is refused (:class:`Conflict`) unless ``replace``: then its
    rows are deleted first, in the same transaction. On PostgreSQL the id sequences are moved
    past the copied ids, and NUL characters, which its text cannot hold, become U+FFFD.
    """
    tables = metadata.sorted_tables
    counts: dict[str, int] = {}
    with source.read() as reading, target.transaction() as writing:
        if target.kind == "postgresql":
            _lock_tables_txn(writing, tables)
        if replace:
            for table in reversed(tables):
                writing.execute(delete(table))
        else:
            _refuse_occupied_txn(writing)
        for table in tables:
            try:
                counts[table.name] = _copy_table_txn(
                    reading,
                    writing,
                    table,
                    progress=progress,
                    batch_rows=batch_rows,
                    strip_nul=target.kind == "postgresql",
                )
            except DBAPIError as exc:
                raise StepstoneError(
                    f"copying {table.name} failed, the target is unchanged: {_one_line(exc)}"
                ) from exc
        if target.kind == "postgresql":
            _move_sequences_txn(writing, tables)
    return counts


def _lock_tables_txn(writing: Connection, tables: Iterable[Table]) -> None:
    """Hold off other writers (a server started too early) until the copy commits, so the
    check that the target is empty still holds when the rows land."""
    quote = writing.dialect.identifier_preparer.format_table
    names = ", ".join(quote(table) for table in tables)
    writing.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))


def _refuse_occupied_txn(writing: Connection) -> None:
    held = [
        what
        for table_name, what in OCCUPYING.items()
        if writing.execute(select(exists().select_from(metadata.tables[table_name]))).scalar()
    ]
    if held:
        listed = " and ".join([", ".join(held[:-1]), held[-1]] if len(held) > 1 else held)
        raise Conflict(
            f"the target database already holds {listed}: copy into an empty"
            " database, or replace its contents"
        )


def _copy_table_txn(
    reading: Connection,
    writing: Connection,
    table: Table,
    *,
    progress: Progress | None,
    batch_rows: int,
    strip_nul: bool,
) -> int:
    copied = 0
    if progress is not None:
        progress(table.name, copied)
    # In id order: integer ids land ascending, as they were first written.
    query = select(table).order_by(*table.primary_key.columns)
    result = reading.execution_options(yield_per=batch_rows).execute(query)
    for batch in result.mappings().partitions():
        rows = [_without_nul(row) if strip_nul else dict(row) for row in batch]
        writing.execute(insert(table), rows)
        copied += len(rows)
        if progress is not None:
            progress(table.name, copied)
    return copied


def _without_nul(row: RowMapping) -> dict[str, Any]:
    return {
        column: value.replace(NUL, NUL_STAND_IN)
        if isinstance(value, str) and NUL in value
        else value
        for column, value in row.items()
    }


def _move_sequences_txn(writing: Connection, tables: Iterable[Table]) -> None:
    """Rows were inserted with their ids, which PostgreSQL's sequences did not see: move each
    past the largest copied id, or the next insert would take an id already used."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        next_id = func.coalesce(func.max(column), 0) + 1
        writing.execute(select(func.setval(sequence, next_id, False)).select_from(table))
