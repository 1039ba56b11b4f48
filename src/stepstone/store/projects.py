"""Queries on users, projects and workflow definitions."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, delete, select, update

from stepstone.store.schema import definition_errors, projects, users, workflow_definitions


def new_id() -> str:
    return str(uuid.uuid4())


def insert_user_txn(
    conn: Connection, email: str, password_hash: str, *, is_admin: bool = False
) -> str:
    user_id = new_id()
    conn.execute(
        users.insert().values(
            id=user_id,
            email=email,
            password_hash=password_hash,
            created_at=time.time(),
            is_admin=is_admin,
        )
    )
    return user_id


def has_users_txn(conn: Connection) -> bool:
    return conn.execute(select(users.c.id).limit(1)).first() is not None


def list_users_txn(conn: Connection) -> Sequence[RowMapping]:
    return conn.execute(select(users).order_by(users.c.created_at, users.c.id)).mappings().all()


def update_user_txn(conn: Connection, user_id: str, **values: Any) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def delete_user_txn(conn: Connection, user_id: str) -> None:
    conn.execute(delete(users).where(users.c.id == user_id))


def get_user_by_email_txn(conn: Connection, email: str) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.email == email)).mappings().first()


def get_user_txn(conn: Connection, user_id: str) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()


def set_password_hash_txn(conn: Connection, user_id: str, password_hash: str) -> None:
    """A new password; tokens issued under the old one stop working."""
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, token_version=users.c.token_version + 1)
    )


def update_project_txn(conn: Connection, project_id: str, **values: Any) -> None:
    conn.execute(update(projects).where(projects.c.id == project_id).values(**values))


def delete_project_txn(conn: Connection, project_id: str) -> None:
    conn.execute(delete(projects).where(projects.c.id == project_id))


def insert_project_txn(conn: Connection, name: str, path: str, user_id: str | None) -> str:
    project_id = new_id()
    conn.execute(
        projects.insert().values(
            id=project_id, name=name, path=path, user_id=user_id, created_at=time.time()
        )
    )
    return project_id


def list_projects_txn(conn: Connection) -> Sequence[RowMapping]:
    return conn.execute(select(projects).order_by(projects.c.name)).mappings().all()


def find_project_txn(conn: Connection, **where: str) -> RowMapping | None:
    query = _project_where(tuple(sorted(where)))
    parameters = {f"by_{column}": value for column, value in where.items()}
    return conn.execute(query, parameters).mappings().first()


@functools.lru_cache(maxsize=8)
def _project_where(columns: tuple[str, ...]) -> Select[Any]:
    """The project whose ``columns`` equal the parameters ``by_<column>``, built once per set
    of columns (every request that names a project looks it up)."""
    query = select(projects)
    for column in columns:
        query = query.where(projects.c[column] == bindparam(f"by_{column}"))
    return query


_DEFINITIONS_OF_PROJECT = (
    select(workflow_definitions)
    .where(workflow_definitions.c.project_id == bindparam("project_id"))
    .order_by(workflow_definitions.c.workflow)
)
_CURRENT_DEFINITIONS_OF_PROJECT = _DEFINITIONS_OF_PROJECT.where(
    workflow_definitions.c.archived_at.is_(None)
)


def definitions_of_project_txn(
    conn: Connection, project_id: str, *, include_archived: bool = True
) -> Sequence[RowMapping]:
    query = _DEFINITIONS_OF_PROJECT if include_archived else _CURRENT_DEFINITIONS_OF_PROJECT
    return conn.execute(query, {"project_id": project_id}).mappings().all()


def get_definition_txn(conn: Connection, definition_id: str) -> RowMapping | None:
    return (
        conn.execute(select(workflow_definitions).where(workflow_definitions.c.id == definition_id))
        .mappings()
        .first()
    )


def upsert_definition_txn(conn: Connection, project_id: str, values: dict[str, Any]) -> str:
    """Insert or refresh the definition ``values['workflow']`` of the project (un-archiving it)."""
    now = time.time()
    existing = conn.execute(
        select(workflow_definitions.c.id).where(
            workflow_definitions.c.project_id == project_id,
            workflow_definitions.c.workflow == values["workflow"],
        )
    ).first()
    if existing is None:
        definition_id = new_id()
        conn.execute(
            workflow_definitions.insert().values(
                id=definition_id, project_id=project_id, updated_at=now, **values
            )
        )
        return definition_id
    conn.execute(
        update(workflow_definitions)
        .where(workflow_definitions.c.id == existing[0])
        .values(archived_at=None, updated_at=now, **values)
    )
    return str(existing[0])


def archive_definitions_except_txn(conn: Connection, project_id: str, keep_ids: set[str]) -> None:
    conn.execute(
        update(workflow_definitions)
        .where(
            workflow_definitions.c.project_id == project_id,
            workflow_definitions.c.id.not_in(keep_ids),
            workflow_definitions.c.archived_at.is_(None),
        )
        .values(archived_at=time.time())
    )


def replace_definition_errors_txn(
    conn: Connection, project_id: str, errors: dict[str, str]
) -> None:
    conn.execute(delete(definition_errors).where(definition_errors.c.project_id == project_id))
    now = time.time()
    for file_path, error in sorted(errors.items()):
        conn.execute(
            definition_errors.insert().values(
                project_id=project_id, file_path=file_path, error=error, recorded_at=now
            )
        )


def definition_errors_txn(conn: Connection, project_id: str) -> Sequence[RowMapping]:
    return (
        conn.execute(
            select(definition_errors)
            .where(definition_errors.c.project_id == project_id)
            .order_by(definition_errors.c.file_path)
        )
        .mappings()
        .all()
    )
