"""Artifacts: files a run saves for people to download (SPEC 8, 9).

Each run's files live in ``<artifacts root>/<run id>/``, a folder private to the server's
user, written whole (``store.private_files``). A file's name on disk is
derived from the artifact's name (a hash), so no name a workflow gives can point outside the
folder, and two names that differ only in case stay two files on any file system.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from stepstone.errors import InvalidInput
from stepstone.store.private_files import child, private_folder, written_whole

MAX_NAME_CHARS = 200
CHUNK_BYTES = 1 << 20
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ArtifactInfo:
    """What ``ctx.step.artifact`` returns: the saved file as the run's artifact list shows it."""

    name: str
    size_bytes: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class StoredFile:
    """A file written into a run's artifacts folder."""

    file_name: str
    size_bytes: int
    sha256: str


def checked_name(name: str) -> str:
    """``name`` if it is a plain file name; InvalidInput saying why not otherwise."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("artifact name must be a non-empty file name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"artifact name is longer than {MAX_NAME_CHARS} characters")
    if "\x00" in name:
        raise InvalidInput("artifact name must not contain a NUL character")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"artifact name {name!r} must be a file name, not a path")
    if name in (".", ".."):
        raise InvalidInput(f"artifact name {name!r} is not a file name")
    return name


def content_type_for(name: str, content_type: str | None) -> str:
    """The given content type, or the one the name's extension suggests."""
    if content_type:
        return content_type
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_CONTENT_TYPE


def run_folder(root: Path, run_id: str) -> Path:
    """The run's artifacts folder (which may not exist yet)."""
    try:
        return child(root, run_id)
    except ValueError as exc:
        raise InvalidInput(f"not a run id: {run_id!r}") from exc


def stored_file_name(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def save(
    root: Path, run_id: str, name: str, *, content: str | bytes | None, source: str | None
) -> StoredFile:
    """Write ``content`` (text as UTF-8) or a copy of ``source`` as the run's artifact
    ``name``, replacing the artifact of that name atomically."""
    if source is not None and not os.path.isfile(source):
        raise InvalidInput(f"artifact path {source!r} is not a file")
    private_folder(root)
    folder = private_folder(run_folder(root, run_id))
    file_name = stored_file_name(checked_name(name))
    digest = hashlib.sha256()
    size = 0
    with written_whole(folder / file_name) as out:
        if source is not None:
            with open(source, "rb") as src:
                while chunk := src.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        else:
            data = content.encode() if isinstance(content, str) else (content or b"")
            digest.update(data)
            size = len(data)
            out.write(data)
    return StoredFile(file_name=file_name, size_bytes=size, sha256=digest.hexdigest())


def remove_run_folder(root: Path, run_id: str) -> None:
    """Delete every file the run saved (nothing happens when it saved none)."""
    shutil.rmtree(run_folder(root, run_id), ignore_errors=True)
