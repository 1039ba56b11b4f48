"""The floor: what one durable commit costs on this machine, with nothing of Stepstone: on a
SQLite file, and on the PostgreSQL server."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.postgres_db import fresh_postgres_database
from bench.timing import Sample


def measure_commit_floor(commits: int) -> Sample:
    """Time ``commits`` single-row INSERT+COMMIT transactions, each measured on its own, on a
    fresh SQLite file in WAL mode with ``synchronous=FULL`` (plain ``sqlite3`` module). Every
    durable step costs at least one such commit, so the engine's per-step cost is read as a
    multiple of this."""
    with tempfile.TemporaryDirectory(prefix="stepstone-floor-") as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            values_ms = []
            for i in range(commits):
                started = time.perf_counter()
                conn.execute("BEGIN")
                conn.execute("INSERT INTO marks (payload) VALUES (?)", (f"row {i}",))
                conn.execute("COMMIT")
                values_ms.append((time.perf_counter() - started) * 1000)
        finally:
            conn.close()
    return Sample(tuple(values_ms))


@dataclass(frozen=True)
class PostgresFloor:
    """What a durable commit and a bare round trip cost on the PostgreSQL server."""

    commit: Sample
    """One single-row ``INSERT`` in autocommit mode: one round trip, in which the server
    commits and waits for its WAL flush (``synchronous_commit`` at its default, on)."""
    round_trip: Sample
    """One ``SELECT 1``: a round trip that commits nothing, to read the engine's cost in
    round trips too."""


def measure_postgres_commit_floor(commits: int) -> PostgresFloor:
    """Time ``commits`` single-row INSERT+COMMIT round trips, then as many ``SELECT 1``, each
    measured on its own, with plain psycopg 3 on a fresh database (dropped afterwards).
    Every durable step on PostgreSQL costs at least one such commit."""
    with (
        fresh_postgres_database() as url,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        conn.execute("CREATE TABLE marks (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)")
        commit_ms = []
        for i in range(commits):
            started = time.perf_counter()
            conn.execute("INSERT INTO marks (payload) VALUES (%s)", (f"row {i}",))
            commit_ms.append((time.perf_counter() - started) * 1000)
        round_trip_ms = []
        for _ in range(commits):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            round_trip_ms.append((time.perf_counter() - started) * 1000)
    return PostgresFloor(Sample(tuple(commit_ms)), Sample(tuple(round_trip_ms)))
