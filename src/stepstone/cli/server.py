"""``stepstone serve`` and ``stepstone demo``: the HTTP server in the foreground."""

from __future__ import annotations

import secrets

import uvicorn
from rich.console import Console

from stepstone.api.app import create_app
from stepstone.cli.demo import ensure_sample_project
from stepstone.services.users import set_password
from stepstone.settings import Settings
from stepstone.store.database import Database

DEMO_EMAIL = "demo@stepstone.local"


def serve_forever(settings: Settings, console: Console, *, db: Database | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; running steps are then ended and their runs left
    resumable."""
    app = create_app(settings, db=db)
    console.print(
        f"Stepstone on [bold]http://{settings.host}:{settings.port}[/]  (API docs: /api/docs)\n"
        f"data: {settings.home}"
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def serve_demo(settings: Settings, console: Console) -> None:
    """Serve with the sample project and a demo user whose new password is printed once."""
    db = Database.open(settings.resolved_database_url())
    ensure_sample_project(db)
    password = secrets.token_urlsafe(12)
    set_password(db, DEMO_EMAIL, password)
    console.print(
        "[bold]Stepstone demo[/]: the sample project is registered.\n"
        f"  login:    {DEMO_EMAIL}\n"
        f"  password: {password}   (new on every start; shown only now)\n"
        "Start a run: `stepstone run stepstone-sample slow-release` (or the API).\n"
        "Kill the server with kill -9 while it runs, start it again, resume the run."
    )
    serve_forever(settings, console, db=db)
