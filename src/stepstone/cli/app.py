"""The ``stepstone`` command (SPEC 5): its table of contents. Commands parse, call a use
case, print; no SQL here."""

from __future__ import annotations

import sys

import typer

from stepstone.cli import db, processes, projects, runs, users, waits
from stepstone.cli.common import err_console
from stepstone.errors import StepstoneError

app = typer.Typer(
    name="stepstone",
    help="Durable workflows for developers: every step checkpointed, every run resumable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
project_app = typer.Typer(help="Register, list and set up projects.", no_args_is_help=True)
db_app = typer.Typer(help="Move the database (SQLite to PostgreSQL).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(project_app, name="project")
app.add_typer(db_app, name="db")

for user_command in (
    users.user_create,
    users.user_list,
    users.user_disable,
    users.user_enable,
    users.user_delete,
):
    user_app.command(user_command.__name__.removeprefix("user_"))(user_command)
project_app.command("add")(projects.project_add)
project_app.command("list")(projects.project_list)
project_app.command("set")(projects.project_set)
app.command("workflows")(projects.workflows)
db_app.command("copy")(db.db_copy)

for command in (
    runs.run,
    runs.runs,
    runs.show,
    runs.resume,
    runs.retry,
    runs.fork,
    runs.pause,
    runs.cancel,
    waits.send,
    waits.approve,
    runs.logs,
):
    app.command(command.__name__)(command)

app.command("worker")(processes.worker)
app.command("serve")(processes.serve)
app.command("demo")(processes.demo)


def main() -> None:
    """Entry point: errors print one line to stderr and exit non-zero."""
    try:
        app()
    except StepstoneError as exc:
        err_console.print(f"error: {exc.message}", style="red", highlight=False)
        sys.exit(1)
