"""How runs, steps and listings look in a terminal (rich)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from stepstone.steps.agents.transcript import AGENT_STREAM
from stepstone.store.records import Run, RunSummary, Usage

STATUS_STYLE = {
    "pending": ("○", "dim"),
    "running": ("◐", "yellow"),
    "waiting": ("⧗", "blue"),
    "paused": ("‖", "cyan"),
    "completed": ("✓", "green"),
    "failed": ("✗", "red"),
    "cancelled": ("⊘", "magenta"),
    "skipped": ("-", "dim"),
}


def waiting_text(run: RunSummary) -> str:
    """What a waiting run waits for, and how to end the wait from the command line."""
    waits = run["waiting_for"]
    assert waits is not None
    until = "" if waits["until"] is None else f" until {waits['until']}"
    step, run_id = waits["step_key"], run["id"]
    if waits["kind"] == "sleep":
        return f"waiting: step {step} sleeps{until}"
    if waits["kind"] == "event":
        event = waits["event"]
        return (
            f"waiting: step {step} waits for the event {event!r}{until};"
            f" send it with `stepstone send {run_id} {event}`"
        )
    return (
        f"waiting: step {step} asks {waits['prompt']!r}{until};"
        f" decide with `stepstone approve {run_id} [--reject]`"
    )


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
    if run["usage"] is not None:
        parts.append(Text(f"tokens: {usage_text(run['usage'], run['budget_tokens'])}", style="dim"))
    if run["pr_url"]:
        parts.append(Text(f"pull request: {run['pr_url']}", style="cyan"))
    parts += [
        Text(f"kept: {event['message']}", style="yellow")
        for event in run["events"]
        if event["type"] == "workspace_kept"
    ]
    if run["error_message"]:
        parts.append(Text(f"error: {run['error_message']}", style="red"))
    if run["status"] == "pending":
        parts.append(Text("queued: waiting for a worker (`stepstone worker`)", style="dim"))
    if run["waiting_for"] is not None:
        parts.append(Text(waiting_text(run), style="blue"))
    if is_interrupted(run):
        parts.append(
            Text(f"interrupted: resume with `stepstone resume {run['id']}`", style="yellow")
        )
    return Group(*parts)


def usage_text(usage: Usage, budget: int | None = None) -> str:
    """``12,345 in (10,000 cached) · 678 out · $0.12``, with the budget when there is one."""
    text = f"{usage['input_tokens']:,} in"
    if usage["cached_input_tokens"]:
        text += f" ({usage['cached_input_tokens']:,} cached)"
    text += f" · {usage['output_tokens']:,} out"
    if budget is not None:
        text += f" of a budget of {budget:,}"
    if usage["cost_usd"] is not None:
        text += f" · ${usage['cost_usd']:.2f}"
    return text


def log_text(stream: str, line: str) -> str:
    """A log line as a terminal shows it: an agent's transcript entry in words."""
    if stream != AGENT_STREAM:
        return line
    try:
        entry = json.loads(line)
        kind = entry["type"]
    except (ValueError, TypeError, KeyError):
        return line
    if kind == "tool_call":
        return f"→ {entry.get('name')} {json.dumps(entry.get('input'), ensure_ascii=False)}"
    if kind == "tool_result":
        mark = "✗" if entry.get("is_error") else "←"
        return f"{mark} {entry.get('output', '')}"
    if kind == "usage":
        return f"tokens: {usage_text(entry)}"
    if kind == "session":
        return f"session {entry.get('session_id')} ({entry.get('model') or 'default model'})"
    if kind == "result":
        return f"{'answer' if entry.get('success') else 'failed'}: {entry.get('text', '')}"
    text = entry.get("text") or entry.get("message")
    return f"{kind}: {text}" if text is not None else line


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
