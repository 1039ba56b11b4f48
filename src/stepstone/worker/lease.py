"""This process as a holder of leases (the protocol itself is in ``store/leases.py``)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker process: its host, pid and a ``worker_id`` unique across restarts."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    worker_id: str = ""

    def __post_init__(self) -> None:
        if not self.worker_id:
            worker_id = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
            object.__setattr__(self, "worker_id", worker_id)
