"""Args the workflow's schema marks secret (``"writeOnly": true`` or ``"format": "password"``)
are never readable in the database (SPEC 9): the run's row holds ``[redacted]`` in their
place, and their values are sealed (``sealing.py``) into a row of their own, inserted with
the run's and deleted with it. Any process given the secret key, on any machine, opens them
whenever the run executes, so the step still gets them after a restart or on another worker.

Runs started before the values were sealed kept them in a file under the home of the process
that started them (folder 0700, file 0600): those are still read, and deleted with their run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from stepstone.errors import InvalidInput
from stepstone.store.database import Database
from stepstone.store.private_files import child
from stepstone.store.redaction import REDACTED
from stepstone.store.schema import run_secret_args
from stepstone.store.sealing import Sealer, WrongKey

FOLDER_NAME = "run-secrets"
"""Under the home: where runs started before the values were sealed keep them."""


def secret_keys(schema: dict[str, Any] | None) -> set[str]:
    """The top-level args the schema marks secret."""
    properties = (schema or {}).get("properties", {})
    return {
        key
        for key, spec in properties.items()
        if isinstance(spec, dict) and (spec.get("writeOnly") or spec.get("format") == "password")
    }


def split(
    args: dict[str, Any], schema: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(args as the database holds them, the secret values)``."""
    keys = secret_keys(schema) & args.keys()
    stored = {key: (REDACTED if key in keys else value) for key, value in args.items()}
    return stored, {key: args[key] for key in keys}


class SecretArgs:
    """The secret args of runs, sealed in ``db`` under ``db.sealer``'s key."""

    def __init__(self, db: Database, sealer: Sealer, old_folder: Path) -> None:
        self._db = db
        self._sealer = sealer
        self._old_folder = old_folder

    @classmethod
    def beside(cls, db: Database) -> SecretArgs:
        return cls(db, db.sealer, db.files_dir / FOLDER_NAME)

    def save_txn(self, conn: Connection, run_id: str, values: dict[str, Any]) -> None:
        """Seal ``values`` beside the run's row, in the transaction that inserts the row (so
        neither is ever committed without the other); nothing for no values."""
        if values:
            # The run's id is sealed with the values: a row copied onto another run does not open.
            sealed = self._sealer.seal(json.dumps({"run_id": run_id, "args": values}))
            conn.execute(insert(run_secret_args).values(run_id=run_id, sealed=sealed))

    def load(
        self, run_id: str, *, stored_args: dict[str, Any], schema: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The run's secret values, for the args its ``schema`` marks secret and its
        ``stored_args`` hold as ``[redacted]``. InvalidInput, naming what to set, when they
        cannot be had (sealed under another key, or kept in a file on another machine): a
        step is never handed the placeholder."""
        wanted = secret_keys(schema) & stored_args.keys()
        if not any(stored_args[key] == REDACTED for key in wanted):
            return {}  # the run has no secret arg: nothing was sealed for it
        with self._db.read() as conn:
            sealed = conn.execute(
                select(run_secret_args.c.sealed).where(run_secret_args.c.run_id == run_id)
            ).scalar_one_or_none()
        values = self._opened(run_id, sealed) if sealed is not None else self._old_file(run_id)
        missing = sorted(key for key in wanted - values.keys() if stored_args[key] == REDACTED)
        if missing:
            names = ", ".join(missing)
            if sealed is not None:
                raise InvalidInput(f"run {run_id}: its sealed secret args lack {names}")
            raise InvalidInput(
                f"run {run_id}: its secret args ({names}) are not in the database, nor in"
                f" {self._path(run_id)}: it was started before they were sealed there, by a"
                f" process with another STEPSTONE_HOME; execute it there, or copy that"
                f" home's {FOLDER_NAME}/{run_id}.json into this one's {FOLDER_NAME}/"
            )
        return values

    def _opened(self, run_id: str, sealed: str) -> dict[str, Any]:
        try:
            opened = json.loads(self._sealer.unseal(sealed))
        except WrongKey as exc:
            raise InvalidInput(f"run {run_id}: its secret args were {exc.message}") from exc
        if opened.get("run_id") != run_id:
            raise InvalidInput(f"run {run_id}: its sealed secret args belong to another run")
        values: dict[str, Any] = opened["args"]
        return values

    def _path(self, run_id: str) -> Path:
        return child(self._old_folder, f"{run_id}.json")

    def _old_file(self, run_id: str) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self._path(run_id).read_text())
        except FileNotFoundError:
            return {}
        return loaded

    def remove(self, run_id: str) -> None:
        """Delete the run's file of secret args, if it has one (its sealed row goes with the
        run's)."""
        self._path(run_id).unlink(missing_ok=True)
