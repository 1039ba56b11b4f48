"""How runs, steps and listings look in a terminal (rich)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from stepstone.store.records import Run, RunSummary

STATUS_STYLE = {
    "pending": ("○", "dim"),
    "running": ("◐", "yellow"),
    "paused": ("‖", "cyan"),
    "completed": ("✓", "green"),
    "failed": ("✗", "red"),
    "cancelled": ("⊘", "magenta"),
    "skipped": ("-", "dim"),
}


def status_text(status: str, *, interrupted: bool = False) -> Text:
    if interrupted:
        return Text("◌ interrupted", style="bold red")
    icon, style = STATUS_STYLE.get(status, ("?", ""))
    return Text(f"{icon} {status}", style=style)


def _parse(timestamp: str | None) -> datetime | None:
    return None if timestamp is None else datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def duration(start: str | None, end: str | None) -> str:
    """``1.2s``, ``3m04s``, ``1h02m``; empty before the start."""
    started = _parse(start)
    if started is None:
        return ""
    finished = _parse(end) or datetime.now(started.tzinfo)
    seconds = max(0.0, (finished - started).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def is_interrupted(run: RunSummary) -> bool:
    return run["status"] == "running" and not run["is_live"]


def run_panel(run: Run) -> Group:
    """A run with its steps, as `show` and `--follow` print it."""
    header = Text.assemble(
        (run["name"], "bold"),
        "  ",
        status_text(run["status"], interrupted=is_interrupted(run)),
        (f"  {run['id']}", "dim"),
    )
    if run["resume_count"]:
        resumes = run["resume_count"]
        header.append(f"  resumed {resumes} time{'s' if resumes > 1 else ''}", style="cyan")
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
    table.add_column("step")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("attempts", justify="right")
    table.add_column("detail", overflow="fold")
    for step in run["steps"]:
        table.add_row(
            step["key"],
            status_text(step["status"]),
            duration(step["started_at"], step["completed_at"]),
            str(step["attempt"]),
            Text(step["error_message"] or "", style="red"),
        )
    parts: list[Any] = [header, table]
    if run["error_message"]:
        parts.append(Text(f"error: {run['error_message']}", style="red"))
    if run["status"] == "pending":
        parts.append(Text("queued: waiting for a worker (`stepstone worker`)", style="dim"))
    if is_interrupted(run):
        parts.append(
            Text(f"interrupted: resume with `stepstone resume {run['id']}`", style="yellow")
        )
    return Group(*parts)


def runs_table(runs: list[RunSummary]) -> Table:
    table = Table(box=None, header_style="dim")
    for column in ("id", "workflow", "name", "status", "resumes", "created"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run["id"],
            run["workflow"],
            run["name"],
            status_text(run["status"], interrupted=is_interrupted(run)),
            str(run["resume_count"]),
            (run["created_at"] or "")[:19].replace("T", " "),
        )
    return table
