"""Who holds a run, and whether that holder is still alive (SPEC 3.6)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WorkerIdentity:
    """This process as a lease holder."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    owner: str = ""

    def __post_init__(self) -> None:
        if not self.owner:
            object.__setattr__(self, "owner", f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}")


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != b"Z"


def is_live(run: Mapping[Any, Any], *, now: float | None = None) -> bool:
    """A ``running`` run is live while its lease is unexpired and, when held on this host,
    its owner process still exists; otherwise it is orphaned (shown as interrupted)."""
    if run["status"] != "running" or run["lease_owner"] is None:
        return False
    if (run["lease_expires_at"] or 0.0) < (time.time() if now is None else now):
        return False
    if run["owner_host"] == socket.gethostname() and run["owner_pid"] is not None:
        return process_alive(int(run["owner_pid"]))
    return True
