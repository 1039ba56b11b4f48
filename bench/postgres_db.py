"""The PostgreSQL server the benchmarks use: whether it answers, a fresh database per
measurement (created for it, dropped with its connections afterwards), and the server's
facts that make its numbers comparable.

The server is ``STEPSTONE_BENCH_POSTGRES`` (default: the local one, user ``postgres``)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg

from bench.machine import filesystem_of

POSTGRES_SERVER = os.environ.get(
    "STEPSTONE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"
).rstrip("/")
CONNECT_TIMEOUT_SECONDS = 3
SETTINGS = (
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "full_page_writes",
    "commit_delay",
    "shared_buffers",
)
"""The server settings that decide what a durable commit costs (shown in RESULTS.md)."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(
        f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
    )


def postgres_unreachable() -> str | None:
    """Why the PostgreSQL benchmarks cannot run, or None when they can."""
    try:
        with _admin():
            return None
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {POSTGRES_SERVER} is unreachable ({reason})"


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped (with any connection left to it)
    afterwards."""
    name = f"stepstone_bench_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq_version() -> str:
    number = psycopg.pq.version()  # major * 10000 + minor since PostgreSQL 10
    return f"{number // 10000}.{number % 10000}"


def _show(admin: psycopg.Connection[Any], name: str) -> str:
    row = admin.execute(f"SHOW {name}").fetchone()
    return "?" if row is None else str(row[0])


def server_facts() -> dict[str, str]:
    """The server's version, the settings that decide a commit's cost, and where its data
    lives (with its filesystem when the server runs on this machine)."""
    with _admin() as admin:
        facts = {
            "PostgreSQL server": f"{POSTGRES_SERVER} (a fresh database per measurement)",
            "PostgreSQL version": _show(admin, "server_version"),
            "psycopg, libpq": f"{psycopg.__version__}, {_libpq_version()}",
        }
        facts.update((name, _show(admin, name)) for name in SETTINGS)
        try:
            data_dir = _show(admin, "data_directory")
        except psycopg.Error:  # only superusers and pg_read_all_settings may read it
            data_dir = "unknown"
    local = urlsplit(POSTGRES_SERVER).hostname in LOOPBACK_HOSTS
    where = filesystem_of(data_dir) if local and data_dir != "unknown" else "not on this machine"
    facts["data directory"] = f"{data_dir}: {where}"
    return facts
