"""``stepstone serve`` and ``stepstone demo``: the HTTP server in the foreground."""

from __future__ import annotations

import os
import secrets

import uvicorn
from rich.console import Console

from stepstone.api.app import create_app
from stepstone.cli.demo import choose_demo_agents, ensure_sample_project
from stepstone.services.users import set_password
from stepstone.settings import Settings
from stepstone.store.database import Database

DEMO_EMAIL = "demo@stepstone.local"
IMPLEMENT_REVIEW_COMMAND = (
    "stepstone run stepstone-sample implement-review --mode worktree --branch demo/greeting"
)


def serve_forever(
    settings: Settings, console: Console, *, db: Database | None = None, with_worker: bool = True
) -> None:
    """Serve until Ctrl-C or SIGTERM; running steps are then ended and their runs left
    resumable."""
    app = create_app(settings, db=db, with_worker=with_worker)
    workers = "" if with_worker else "; API only: runs are executed by `stepstone worker`"
    console.print(
        f"Stepstone on [bold]http://{settings.host}:{settings.port}[/]  (API docs: /api/docs)\n"
        f"data: {settings.home}{workers}"
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def serve_demo(settings: Settings, console: Console) -> None:
    """Serve with the sample project, the coding agents found on PATH (fakes for the others)
    and a demo user whose new password is printed once."""
    agents = choose_demo_agents(settings, os.environ)
    db = settings.open_database()
    sample = ensure_sample_project(db, settings.home)
    password = secrets.token_urlsafe(12)
    set_password(db, DEMO_EMAIL, password)
    console.print(
        f"[bold]Stepstone demo[/]: the sample project is registered ({sample.path}).\n"
        f"  login:    {DEMO_EMAIL}\n"
        f"  password: {password}   (new on every start; shown only now)\n"
        "Start a run: `stepstone run stepstone-sample slow-release` (or the API).\n"
        "Kill the server with kill -9 while it runs, start it again, resume the run.\n"
        "\n"
        "[bold]Implement and review[/]: an agent implements specs/greeting.md in a worktree, "
        "pytest runs, a second agent reviews the change, and the work is committed:\n"
        f"  [bold]{IMPLEMENT_REVIEW_COMMAND}[/]\n"
        "The run's page shows each agent's transcript as it streams.\n"
        "Agents:",
        highlight=False,
        soft_wrap=True,  # a command cut in two cannot be pasted
    )
    for line in agents:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    for note in sample.notes:
        console.print(f"Note: {note}", style="yellow", highlight=False, soft_wrap=True)
    serve_forever(settings, console, db=db)
