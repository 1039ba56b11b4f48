"""The databases tests run on: a SQLite file in the test's home, or a fresh PostgreSQL
database on the server at ``STEPSTONE_TEST_POSTGRES`` (default: the local one), created for
the test and dropped after it."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg

POSTGRES_SERVER = os.environ.get("STEPSTONE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_SERVER} is unreachable: {exc}".strip()


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped (with its connections) afterwards."""
    name = f"stepstone_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
