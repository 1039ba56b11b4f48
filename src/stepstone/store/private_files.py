"""Files private to the server's user (SPEC 9: folders 0700, files 0600), written whole: a
reader sees the old bytes or the new ones, never a part, and a crash leaves no half file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def private_folder(path: Path) -> Path:
    """``path`` as a folder only the server's user can enter (created when missing)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask, and an existing folder keeps its own.
    path.chmod(0o700)
    return path


def child(folder: Path, name: str) -> Path:
    """``folder / name`` for a ``name`` that is one plain file name (a run id, say)."""
    if not name or os.sep in name or "\0" in name or name in (".", ".."):
        raise ValueError(f"not a plain file name: {name!r}")
    return folder / name


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` (mode 0600) through the file this yields: into a temporary file beside
    it, synced, then renamed into place; nothing is left behind if the writing fails."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def secret_file(path: Path, *, generate: Callable[[], str], usable: Callable[[str], bool]) -> str:
    """The secret kept in ``path`` (its folder made private), made by ``generate`` on first
    use. Written whole (a crash never leaves half a secret) and readable by the owner only.
    Processes and threads that make one at once all end up with the first to land; a
    leftover that is not ``usable`` (empty, say) is replaced."""
    private_folder(path.parent)
    if path.is_file():
        secret = path.read_text().strip()
        if usable(secret):
            return secret
    secret = generate()
    partial = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secret)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(partial, path)  # fails if another process won the race: use its secret
        except FileExistsError:
            theirs = path.read_text().strip()
            if usable(theirs):
                return theirs
            os.replace(partial, path)  # an unusable leftover: ours takes its place
            return secret_file(path, generate=generate, usable=usable)
    finally:
        partial.unlink(missing_ok=True)
    return secret
