"""``stepstone db copy``: move an embedded SQLite home to PostgreSQL (SPEC 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from stepstone.cli.common import console, err_console, settings
from stepstone.errors import Conflict
from stepstone.settings import Settings
from stepstone.store import copy
from stepstone.store.database import Database

INTERRUPTED_EXIT_CODE = 130
"""What a shell reports for a command stopped by Ctrl-C (128 + SIGINT)."""

HOME_FILES = {
    "jwt-secret": "signs login tokens: every API process needs this same file (without it,"
    " users log in again)",
    "secret-key": "opens the secret args of runs, sealed in the database: every process needs"
    " this same key (or the same STEPSTONE_SECRET_KEY)",
    "run-secrets/": "the secret args of runs started before they were sealed in the database",
    "artifacts/": "the files runs saved",
}
"""What a home holds beside its database, which a copy of the database does not carry."""


def db_copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The PostgreSQL database to copy into (postgresql://USER@HOST/NAME);"
            " it must hold no users, projects or runs.",
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="The SQLite database to copy (sqlite:///PATH); default: the home's.",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Delete what the target holds first (in the same transaction)."
        ),
    ] = False,
) -> None:
    """Copy the embedded SQLite database into PostgreSQL.

    All or nothing: stopped part-way (Ctrl-C, an error), the target is unchanged. Stop the
    server and workers first: what they write after the copy starts is not in it."""
    configured = settings()
    source_url = source or _home_database_url(configured)
    copy.check_sqlite_to_postgresql(source_url, to)
    try:
        # The home's files are the ones beside the configured database; --from names a file
        # whose folder is its home.
        source_db = copy.open_database(
            source_url, role="source", files_dir=None if source else configured.home
        )
        try:
            target_db = copy.open_database(to, role="target", files_dir=configured.home)
            try:
                counts = _copy_with_progress(source_db, target_db, replace=replace)
            finally:
                target_db.dispose()
        finally:
            source_db.dispose()
    except KeyboardInterrupt:
        err_console.print("stopped: the target database is unchanged", highlight=False)
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    _print_summary(counts, to, source_db.files_dir)


def _home_database_url(configured: Settings) -> str:
    """The configured database when it is SQLite, else the home's embedded file (the one
    left behind when ``STEPSTONE_DATABASE_URL`` already names the PostgreSQL target)."""
    url = configured.resolved_database_url()
    if copy.url_kind(url) == "sqlite":
        return url
    return f"sqlite:///{configured.home / 'stepstone.db'}"


def _copy_with_progress(source: Database, target: Database, *, replace: bool) -> dict[str, int]:
    totals = copy.row_counts(source)
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn())
    # Bars on a terminal only: a script reading the output gets the summary alone.
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bars:
        tasks = {name: bars.add_task(name, total=total) for name, total in totals.items()}

        def show(table_name: str, rows_copied: int) -> None:
            bars.update(tasks[table_name], completed=rows_copied)

        try:
            return copy.copy_database(source, target, replace=replace, progress=show)
        except Conflict as exc:
            raise Conflict(f"{exc.message} (--replace)") from exc


def _print_summary(counts: dict[str, int], target_url: str, home: Path) -> None:
    _say(f"copied into {copy.shown_url(target_url)}")
    table = Table("table", "rows", box=None)
    for table_name, rows in counts.items():
        table.add_row(table_name, str(rows))
    console.print(table)
    _say(
        f"Not in the database: copy these from {home} to the home of every process that uses"
        " PostgreSQL:"
    )
    for name, what in HOME_FILES.items():
        present = "" if (home / name.rstrip("/")).exists() else " (none here)"
        _say(f"  {name:<13} {what}{present}")
    _say(f"Then point them at it: STEPSTONE_DATABASE_URL={copy.shown_url(target_url)}")


def _say(line: str) -> None:
    """One line as it is: never wrapped, no markup read in paths or URLs."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)
