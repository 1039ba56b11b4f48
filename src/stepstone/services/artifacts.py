"""Use cases on the files runs saved: list them, find one to download (SPEC 6, 9)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stepstone.errors import NotFound
from stepstone.services.runs import load_run_txn
from stepstone.steps.artifact import run_folder
from stepstone.store import artifacts as store
from stepstone.store.database import Database
from stepstone.store.records import Artifact, artifact_record


@dataclass(frozen=True)
class ArtifactFile:
    """An artifact's bytes on disk, and how to present them."""

    path: Path
    name: str
    content_type: str


def list_artifacts(db: Database, run_id: str, *, user_id: str | None = None) -> list[Artifact]:
    """The files the run saved, by name; access as for the run itself."""
    with db.read() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id)
        return [artifact_record(row) for row in store.artifacts_of_run_txn(conn, run["id"])]


def artifact_file(
    db: Database,
    run_id: str,
    artifact_id: str,
    *,
    artifacts_dir: Path,
    user_id: str | None = None,
) -> ArtifactFile:
    """The file of the run's artifact ``artifact_id``: NotFound for an id that names no
    artifact of this run (another run's included) or whose file is gone."""
    with db.read() as conn:
        run = load_run_txn(conn, run_id, user_id=user_id)
        row = store.get_artifact_txn(conn, run["id"], artifact_id)
    if row is None:
        raise NotFound(f"run {run['id']} has no artifact {artifact_id!r}")
    # The stored name is a hash the journal wrote, but the path is still checked.
    folder = run_folder(artifacts_dir, run["id"])
    path = folder / row["file_name"]
    if path.parent != folder or not path.is_file():
        raise NotFound(
            f"the file of artifact {row['name']!r} is missing here: it may have been saved on"
            " another machine (every process needs STEPSTONE_ARTIFACTS_DIR on a folder all"
            " of them mount)"
        )
    return ArtifactFile(path=path, name=row["name"], content_type=row["content_type"])
