"""The floor: what one durable commit costs on this machine, with nothing of Stepstone."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

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
