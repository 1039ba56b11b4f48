"""The facts that make benchmark numbers comparable: machine, versions, code, date."""

from __future__ import annotations

import datetime
import os
import platform
import sqlite3
import subprocess
import tempfile
from pathlib import Path


def cpu_model() -> str:
    """The first ``model name`` in /proc/cpuinfo (``unknown`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def filesystem_of(path: str) -> str:
    """The mount point and type holding ``path``: on tmpfs a commit never waits for a disk."""
    best = ("?", "unknown")
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    real = os.path.realpath(path)
    for line in mounts:
        _device, mount_point, fs_type, *_ = line.split()
        inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best[0]):
            best = (mount_point, fs_type)
    return f"{best[1]} (mounted at {best[0]})"


def code_version() -> str:
    """The commit the benchmarked code is at, marked ``+ uncommitted changes`` when dirty."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes in src/' if dirty else ''}"


def machine_facts() -> dict[str, str]:
    """Everything RESULTS.md states about where and on what the numbers were made."""
    temp_dir = tempfile.gettempdir()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "load average (1, 5, 15 min) at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "CPU": cpu_model(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "temp dir (the databases)": f"{temp_dir}: {filesystem_of(temp_dir)}",
        "code": code_version(),
    }
