"""The process groups steps start, recognised again after a crash and ended.

A step's command (or agent) runs in a process group of its own. When the worker that
started it dies, the group's members may live on (a command's background children, an agent
still editing files); before that step runs again, what is left of its earlier attempt is
ended. A group is known by its id and by its leader's start (boot id and start time), so a
group id the system gave to someone else since is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

END_GRACE_SECONDS = 3.0
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ProcessGroup:
    host: str
    group: int
    start: str | None
    """``<boot id>:<start time in clock ticks>`` of the group's leader (None: unknown)."""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def _stat_fields(pid: int | str) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces):
    state first; None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].split()


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, as a token that differs for any other process that had
    the same pid; None when there is no such process (or no /proc to ask)."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return f"{_boot_id()}:{int(fields[19])}"  # field 22 of stat: the start time


def live_members(group: int) -> list[int]:
    """The processes of ``group`` that still run (zombies, dead but not yet reaped, do not)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)
        if fields is not None and int(fields[2]) == group and fields[0] != b"Z":
            members.append(int(entry.name))
    return members


def group_of(pid: int) -> ProcessGroup:
    """The process group that ``pid`` (a new group's leader) stands for."""
    return ProcessGroup(socket.gethostname(), pid, process_start(pid))


def is_left_over(group: ProcessGroup) -> bool:
    """Whether members of ``group`` still run on this host. A group id is not given out
    again while any member lives, so a group without its leader is still the same group; a
    living leader must be the one that started."""
    if group.host != socket.gethostname() or not live_members(group.group):
        return False
    leader = process_start(group.group)
    return leader is None or group.start is None or leader == group.start


def end_left_over(group: ProcessGroup, grace_seconds: float = END_GRACE_SECONDS) -> bool:
    """End what is left of ``group``: SIGTERM, then SIGKILL after ``grace_seconds``. True
    when there was something to end."""
    if not is_left_over(group):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group.group, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while live_members(group.group) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group.group, signal.SIGKILL)
    return True
