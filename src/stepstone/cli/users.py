"""``stepstone user``: create, list, disable, enable and delete users."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from stepstone.cli.common import JsonOption, console, database, print_json
from stepstone.errors import InvalidInput
from stepstone.services import users as services

PASSWORD_VARIABLE = "STEPSTONE_PASSWORD"
UserArg = Annotated[str, typer.Argument(help="The user's email or id.")]


def _new_password() -> str:
    """From ``$STEPSTONE_PASSWORD``, or typed twice at a prompt: never a command-line
    argument, which other local users see in ``ps`` and which stays in shell history."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(f"type the password at a terminal, or set {PASSWORD_VARIABLE}")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def user_create(
    email: Annotated[str, typer.Option(help="The user's email (their login).")],
    admin: Annotated[
        bool, typer.Option("--admin", help="May manage projects and see every run.")
    ] = False,
) -> None:
    """Create a user; the password is prompted (or read from STEPSTONE_PASSWORD). The first
    user is an admin."""
    password = _new_password()
    with database() as db:
        user = services.create_user(db, email, password, admin=admin)
    role = "admin" if user["is_admin"] else "member"
    console.print(f"created {role} {user['email']} ({user['id']})", highlight=False)


def user_list(as_json: JsonOption = False) -> None:
    """List the users with their roles."""
    with database() as db:
        users = services.list_users(db)
    if as_json:
        print_json(users)
        return
    table = Table("email", "role", "state", "created", "id", box=None)
    for user in users:
        created = datetime.fromtimestamp(user["created_at"], UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            user["email"],
            "admin" if user["is_admin"] else "member",
            "disabled" if user["disabled"] else "active",
            created,
            user["id"],
        )
    console.print(table)


def user_disable(user: UserArg) -> None:
    """Stop a user from logging in; their tokens stop working at once."""
    with database() as db:
        account = services.disable_user(db, user)
    console.print(f"disabled {account['email']}", highlight=False)


def user_enable(user: UserArg) -> None:
    """Let a disabled user log in again (with a new login: old tokens stay void)."""
    with database() as db:
        account = services.enable_user(db, user)
    console.print(f"enabled {account['email']}", highlight=False)


def user_delete(user: UserArg) -> None:
    """Delete a user; their tokens stop working, their runs stay (for admins to see)."""
    with database() as db:
        deleted = services.delete_user(db, user)
    console.print(f"deleted {deleted['email']}", highlight=False)
