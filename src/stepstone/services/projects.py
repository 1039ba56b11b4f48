"""Use cases on projects and their workflow definitions."""

from __future__ import annotations

import contextlib
import json
import stat
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from stepstone.engine.loader import discover, files_signature
from stepstone.errors import Conflict, InvalidInput, NotFound
from stepstone.steps.artifact import remove_run_folder
from stepstone.store import projects as store
from stepstone.store import runs as run_store
from stepstone.store.database import Database
from stepstone.store.leases import is_live
from stepstone.store.records import DefinitionList, Project, definition_record, project_record
from stepstone.store.secret_args import SecretArgs


def add_project(
    db: Database,
    path: str | Path,
    *,
    name: str | None = None,
    user_id: str | None = None,
    max_concurrent_runs: int | None = None,
) -> Project:
    """Register a directory as a project and discover its workflows."""
    directory = resolved_path(path)
    if path_kind(directory) != "directory":
        raise InvalidInput(f"{path} is not a directory")
    project_name = name or directory.name
    with db.transaction() as conn:
        for column, value in (("path", str(directory)), ("name", project_name)):
            existing = store.find_project_txn(conn, **{column: value})
            if existing is not None:
                raise InvalidInput(
                    f"a project with {column} {value!r} is already registered (id {existing['id']})"
                )
        try:
            project_id = store.insert_project_txn(conn, project_name, str(directory), user_id)
            if max_concurrent_runs is not None:
                _check_limit(max_concurrent_runs)
                store.update_project_txn(conn, project_id, max_concurrent_runs=max_concurrent_runs)
        except IntegrityError as exc:
            raise InvalidInput(f"project {project_name!r} is already registered") from exc
        project = store.find_project_txn(conn, id=project_id)
    assert project is not None
    sync_definitions(db, project)
    return project_record(project)


def resolved_path(text: str | Path, *, base: Path | None = None) -> Path:
    """``text`` as an absolute path: ``~`` expanded, taken from ``base`` when relative, its
    symbolic links followed; it need not exist. InvalidInput for text no file system call
    takes: a NUL, the ``~name`` of a user this machine does not know, a loop of links."""
    if "\0" in str(text):
        raise InvalidInput("a path cannot contain a NUL character")
    try:
        path = Path(text).expanduser()
    except RuntimeError as exc:  # ~name of a user this machine does not know
        raise InvalidInput(f"{text}: {exc}") from exc
    try:
        return (path if base is None else base / path).resolve()
    except RuntimeError as exc:  # a loop of links, as Python before 3.13 reports it
        raise InvalidInput(f"{text}: too many levels of symbolic links") from exc
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{text}: {getattr(exc, 'strerror', None) or exc}") from exc


def path_kind(path: Path) -> Literal["directory", "file"] | None:
    """What ``path`` names on disk; None for nothing, something else (a socket…), or when
    the file system cannot tell (a name longer than it takes, a loop of links, a folder it
    may not look in)."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else None


def list_projects(db: Database) -> list[Project]:
    with db.read() as conn:
        return [project_record(p) for p in store.list_projects_txn(conn)]


def resolve_project_txn(conn: Connection, ref: str) -> RowMapping:
    """A project by id, name or path."""
    project = store.find_project_txn(conn, id=ref) or store.find_project_txn(conn, name=ref)
    if project is None:
        with contextlib.suppress(InvalidInput):
            project = store.find_project_txn(conn, path=str(resolved_path(ref)))
    if project is None:
        raise NotFound(f"no project {ref!r} (see `stepstone project list`)")
    return project


def get_project(db: Database, ref: str) -> Project:
    with db.read() as conn:
        return project_record(resolve_project_txn(conn, ref))


def sync_definitions(db: Database, project: RowMapping, *, force: bool = False) -> None:
    """Import the project's definition files and record what they declare: new and changed
    workflows are stored, those whose file is gone are archived, and files that fail to
    import are recorded with their error. Unless ``force``, nothing is imported when no
    file changed since the last import."""
    project_path = Path(project["path"])
    signature = files_signature(project_path)
    if not force and signature == project["definitions_signature"]:
        return
    found = discover(project_path)
    with db.transaction() as conn:
        store.update_project_txn(conn, project["id"], definitions_signature=signature)
        keep: set[str] = set()
        for definition in found.definitions.values():
            assert definition.source_file is not None
            keep.add(
                store.upsert_definition_txn(
                    conn,
                    project["id"],
                    {
                        "workflow": definition.id,
                        "name": definition.name,
                        "description": definition.description,
                        "file_path": str(Path(definition.source_file).relative_to(project_path)),
                        "phases": json.dumps(
                            [{"id": p.id, "label": p.label} for p in definition.phases]
                        ),
                        "args_schema": (
                            None
                            if definition.args_schema is None
                            else json.dumps(definition.args_schema)
                        ),
                        "timeout_seconds": definition.timeout_seconds,
                        "auto_resume": definition.auto_resume,
                    },
                )
            )
        store.archive_definitions_except_txn(conn, project["id"], keep)
        store.replace_definition_errors_txn(conn, project["id"], found.errors)


def sync_all_definitions(db: Database) -> None:
    """Discover every project's workflows (the server does this on start)."""
    with db.read() as conn:
        every_project = store.list_projects_txn(conn)
    for project in every_project:
        sync_definitions(db, project, force=True)


def list_definitions(
    db: Database, project_ref: str, *, sync: Literal["never", "if_changed", "always"]
) -> DefinitionList:
    """The project's workflows and the files that failed to load, after importing the
    definition files again ``always``, ``if_changed`` since the last import, or ``never``."""
    with db.read() as conn:
        project = resolve_project_txn(conn, project_ref)
    if sync != "never":
        sync_definitions(db, project, force=sync == "always")
    with db.read() as conn:
        definitions = store.definitions_of_project_txn(conn, project["id"])
        errors = store.definition_errors_txn(conn, project["id"])
    return {
        "project": project_record(project),
        "definitions": [definition_record(d) for d in definitions],
        "errors": [{"file_path": e["file_path"], "error": e["error"]} for e in errors],
    }


UNCHANGED: Any = object()


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise InvalidInput("max_concurrent_runs must be at least 1 (or none: no limit)")


def update_project(
    db: Database, project_id: str, *, name: str | None = None, max_concurrent_runs: Any = UNCHANGED
) -> Project:
    """Rename the project (``name``) and/or set its limit of runs executing at once
    (``max_concurrent_runs``, None: no limit); what is not given stays."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name.strip()
        if not values["name"]:
            raise InvalidInput("a project needs a name")
    if max_concurrent_runs is not UNCHANGED:
        _check_limit(max_concurrent_runs)
        values["max_concurrent_runs"] = max_concurrent_runs
    with db.transaction() as conn:
        project = _project_by_id_txn(conn, project_id)
        if "name" in values:
            other = store.find_project_txn(conn, name=values["name"])
            if other is not None and other["id"] != project["id"]:
                raise InvalidInput(f"a project named {values['name']!r} exists already")
        if values:
            store.update_project_txn(conn, project["id"], **values)
        return project_record(_project_by_id_txn(conn, project_id))


def delete_project(db: Database, project_id: str, *, artifacts_dir: Path) -> None:
    """Forget a project with its definitions and runs, and the runs' artifacts in
    ``artifacts_dir`` (its directory is left alone); refused while one of its runs is live."""
    with db.transaction() as conn:
        project = _project_by_id_txn(conn, project_id)
        runs = run_store.list_runs_txn(conn, project_id=project["id"], limit=1_000_000)
        if any(is_live(run) for run in runs):
            raise Conflict(f"project {project['name']!r} has a live run; cancel it first")
        for run in runs:
            run_store.delete_run_txn(conn, run["id"])
        store.delete_project_txn(conn, project["id"])
    secrets = SecretArgs.beside(db)
    for run in runs:
        remove_run_folder(artifacts_dir, run["id"])
        secrets.remove(run["id"])


def _project_by_id_txn(conn: Connection, project_id: str) -> RowMapping:
    project = store.find_project_txn(conn, id=project_id)
    if project is None:
        raise NotFound(f"no project {project_id!r}")
    return project


def get_project_by_id(db: Database, project_id: str) -> Project:
    with db.read() as conn:
        return project_record(_project_by_id_txn(conn, project_id))
