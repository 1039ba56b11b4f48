"""``stepstone demo``: the sample project, registered once, and a slow run to kill and resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from stepstone.cli.inline import Interrupts, execute_here
from stepstone.errors import NotFound
from stepstone.services import projects as project_services
from stepstone.services import runs as run_services
from stepstone.store.database import Database
from stepstone.worker.worker import Worker

SAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "sample"
SAMPLE_NAME = "stepstone-sample"
DEMO_WORKFLOW = "slow-release"


def ensure_sample_project(db: Database) -> str:
    """The sample project's id, registering it on first use."""
    try:
        project = project_services.get_project(db, SAMPLE_NAME)
    except NotFound:
        project = project_services.add_project(db, SAMPLE_PROJECT, name=SAMPLE_NAME)
    return str(project["id"])


def run_demo(
    db: Database, new_worker: Callable[[], Worker], console: Console, err_console: Console
) -> None:
    project_id = ensure_sample_project(db)
    console.print(
        f"[bold]Stepstone demo[/]: running [bold]{DEMO_WORKFLOW}[/] from {SAMPLE_PROJECT}\n"
        "Kill this process while it runs (Ctrl-C, or `kill -9` from another terminal), then:\n"
        "  [bold]stepstone resume <the run id printed below> --inline --follow[/]\n"
        "Completed steps are not executed again; a durable sleep sleeps only what is left.\n"
    )
    with Interrupts() as interrupts:
        execute_here(
            db,
            new_worker,
            interrupts,
            lambda holder: run_services.start_run(db, project_id, DEMO_WORKFLOW, claim_for=holder),
            console=console,
            err_console=err_console,
            follow=True,
        )
