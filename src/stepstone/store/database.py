"""Opening the database: engine, SQLite pragmas, migrations applied on open."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from stepstone.errors import InvalidInput
from stepstone.store.private_files import private_folder
from stepstone.store.sealing import Sealer
from stepstone.store.writer import BUSY_TIMEOUT_MS, SqliteWriter

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY_OPTION = "stepstone_read_only"


def configure_sqlite_connection(conn: sqlite3.Connection) -> None:
    """The pragmas a durable journal needs, on every SQLite connection we open."""
    # WAL: readers (the UI, `stepstone show`) never block the writer, and a commit appends to
    # the log instead of rewriting pages, which keeps a step's checkpoint cheap.
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before it returns, so a completed step survives a power loss.
    # The journal lowers this for running-markers only (see journal.py for why that is safe).
    conn.execute("PRAGMA synchronous=FULL")
    # Several processes (server, workers, CLI) share the file: wait for the write lock
    # instead of failing at once.
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Steps, attempts, events and logs go with their run.
    conn.execute("PRAGMA foreign_keys=ON")


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below decide how transactions start.
        dbapi_conn.isolation_level = None
        configure_sqlite_connection(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction (resume,
        # claim) can then never fail half-way with SQLITE_BUSY, it waits its turn instead.
        # Reads take no lock at all: WAL gives them a snapshot beside the writer.
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _private_database_file(path: Path) -> None:
    """The database file readable by the server's user only (SPEC 9: it holds password
    hashes and every run's args and outputs). SQLite gives the WAL and shared-memory files
    it creates later the mode of the database file, so they are private too; a folder
    created for it is private as well."""
    if not path.parent.exists():
        private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            file.chmod(0o600)


NUL_STAND_IN = "\ufffd"


def text_without_nul(adapters: Any) -> None:
    """PostgreSQL text cannot hold NUL characters (a command may well print one): on a
    psycopg connection with these ``adapters``, every string sent has its NULs replaced by
    U+FFFD instead of failing the write (SQLite keeps them)."""
    from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

    class Text(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\0", NUL_STAND_IN) if "\0" in obj else obj)

    class BinaryText(StrBinaryDumper):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\0", NUL_STAND_IN) if "\0" in obj else obj)

    adapters.register_dumper(str, Text)
    adapters.register_dumper(str, BinaryText)


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_database_file(Path(parsed.database))
        # Room for every request thread of the server (40) plus the worker's and the
        # feed's, so no caller waits for a connection.
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=20, max_overflow=60
        )
        _install_sqlite_hooks(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=60)
    event.listen(
        engine, "connect", lambda dbapi_conn, _record: text_without_nul(dbapi_conn.adapters)
    )
    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def engine_url(url: str) -> str:
    """``url`` as SQLAlchemy takes it: PostgreSQL through psycopg 3."""
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if scheme in POSTGRES_SCHEMES else url


class Database:
    """The opened database: an engine for the app, and what the lean journal connects to.
    ``files_dir`` is where files that go with the database live (the secret key's file,
    and the secret args of runs started before they were sealed): the SQLite file's folder,
    or the given folder (the home) for PostgreSQL. ``sealer`` seals and opens what the
    database holds sealed (secret args), under ``secret_key`` (``STEPSTONE_SECRET_KEY``) or
    else the key file in ``files_dir``; a ``secret_key`` that is no key is refused here."""

    def __init__(
        self, url: str, *, files_dir: Path | None = None, secret_key: str | None = None
    ) -> None:
        self.url = engine_url(url)
        parsed = make_url(self.url)
        self.kind = parsed.get_backend_name()
        self.sqlite_path: str | None = None
        if self.kind == "sqlite" and parsed.database and parsed.database != ":memory:":
            self.sqlite_path = parsed.database
        elif self.kind != "postgresql":
            raise InvalidInput(
                f"database {parsed.render_as_string()}: use a SQLite file (sqlite:///PATH) or"
                " PostgreSQL (postgresql://USER@HOST/NAME)"
            )
        default_files = Path(self.sqlite_path).parent if self.sqlite_path else None
        self.files_dir = files_dir or default_files or Path.home() / ".stepstone"
        self.sealer = Sealer(self.files_dir, secret_key)
        self.engine = create_db_engine(self.url)
        self.driver_url = (
            parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            if self.kind == "postgresql"
            else self.url
        )
        """For PostgreSQL, the URL as its own driver (psycopg) takes it."""
        self.writer = (
            SqliteWriter(self.engine, busy_timeout_ms=BUSY_TIMEOUT_MS)
            if self.sqlite_path is not None
            else None
        )
        """SQLite: the connection every write of this process goes through (writer.py)."""

    @classmethod
    def open(
        cls, url: str, *, files_dir: Path | None = None, secret_key: str | None = None
    ) -> Database:
        """Open ``url`` and apply pending migrations."""
        db = cls(url, files_dir=files_dir, secret_key=secret_key)
        migrate(db.engine)
        return db

    def transaction(self) -> AbstractContextManager[Connection]:
        """``with db.transaction() as conn:`` commits on success, rolls back on error (on
        SQLite, the block's writes are committed with those of other callers of this
        process that write at the same time; an error undoes this block's only)."""
        if self.writer is not None:
            return self.writer.transaction()
        return self.engine.begin()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent snapshot for reading, which never waits for writers."""
        with self.engine.connect() as conn:
            options: dict[str, Any] = {READ_ONLY_OPTION: True}
            if self.kind == "postgresql":
                options["isolation_level"] = "REPEATABLE READ"
            reader = conn.execution_options(**options)
            with reader.begin():
                yield reader

    def dispose(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.engine.dispose()
