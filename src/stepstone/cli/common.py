"""What every command shares: the consoles, the database, JSON output, a worker."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console

from stepstone.settings import Settings
from stepstone.store.database import Database
from stepstone.store.private_files import private_folder
from stepstone.worker.worker import Worker

console = Console()
# Messages are single lines that scripts read: never wrapped at the terminal's width.
err_console = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RunArg = Annotated[str, typer.Argument(help="Run id (or a unique prefix of it).")]


def settings() -> Settings:
    return Settings()


@contextlib.contextmanager
def database() -> Iterator[Database]:
    configured = settings()
    private_folder(configured.home)
    db = configured.open_database()
    try:
        yield db
    finally:
        db.dispose()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def make_worker(db: Database, concurrency: int | None = None) -> Worker:
    return settings().worker(db, concurrency=concurrency)
