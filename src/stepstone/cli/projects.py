"""``stepstone project`` and ``workflows``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stepstone.cli.common import JsonOption, console, database, print_json
from stepstone.services import projects as project_services
from stepstone.store.records import DefinitionList


def project_add(
    path: Annotated[Path, typer.Argument(help="The project's directory.")],
    name: Annotated[str | None, typer.Option(help="Defaults to the directory's name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a directory as a project and discover its workflows."""
    with database() as db:
        project = project_services.add_project(db, path, name=name)
        listing = project_services.list_definitions(db, project["id"], sync="never")
    if as_json:
        print_json(project)
        return
    console.print(f"added project [bold]{project['name']}[/] ({project['id']})")
    _print_definitions(listing)


def project_list(as_json: JsonOption = False) -> None:
    """List the registered projects."""
    with database() as db:
        projects = project_services.list_projects(db)
    if as_json:
        print_json(projects)
        return
    if not projects:
        console.print("no projects yet: add one with `stepstone project add PATH`")
    for project in projects:
        console.print(f"{project['id']}  [bold]{project['name']}[/]  {project['path']}")


def workflows(
    project: Annotated[str, typer.Argument(help="Project id, name or path.")],
    as_json: JsonOption = False,
) -> None:
    """List a project's workflows and the files that failed to load."""
    with database() as db:
        listing = project_services.list_definitions(db, project, sync="always")
    if as_json:
        print_json(listing)
        return
    _print_definitions(listing)


def _print_definitions(listing: DefinitionList) -> None:
    active = [d for d in listing["definitions"] if not d["archived"]]
    if not active and not listing["errors"]:
        console.print("no workflows found under .stepstone/workflows/")
    for definition in active:
        phases = ", ".join(p["id"] for p in definition["phases"])
        console.print(
            f"  [bold]{definition['workflow']}[/]  {definition['name']}"
            f"  [dim]{definition['file_path']}{'  phases: ' + phases if phases else ''}[/]"
        )
    for error in listing["errors"]:
        console.print(f"  [red]✗ {error['file_path']}: {error['error']}[/]")
