"""Args the workflow's schema marks secret (``"writeOnly": true`` or ``"format": "password"``)
stay out of the database (SPEC 9): the run's row holds ``[redacted]`` in their place, and
their values live in a file of their own beside the database (folder 0700, file 0600), read
back whenever the run executes, so the step still gets them after a restart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stepstone.store.database import Database
from stepstone.store.private_files import child, private_folder, written_whole
from stepstone.store.redaction import REDACTED

FOLDER_NAME = "run-secrets"


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
    """The secret args of runs, one file per run."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @classmethod
    def beside(cls, db: Database) -> SecretArgs:
        return cls(db.files_dir / FOLDER_NAME)

    def _path(self, run_id: str) -> Path:
        return child(self._folder, f"{run_id}.json")

    def save(self, run_id: str, values: dict[str, Any]) -> None:
        """Written whole, before the run's row exists."""
        private_folder(self._folder)
        with written_whole(self._path(run_id)) as out:
            out.write(json.dumps(values).encode())

    def load(self, run_id: str) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self._path(run_id).read_text())
        except FileNotFoundError:
            return {}
        return loaded

    def remove(self, run_id: str) -> None:
        self._path(run_id).unlink(missing_ok=True)
