"""``stepstone project`` and ``workflows``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from stepstone.cli.common import JsonOption, console, database, print_json
from stepstone.errors import InvalidInput
from stepstone.services import projects as project_services
from stepstone.store.records import DefinitionList

LimitOption = Annotated[
    int | None,
    typer.Option(
        "--max-concurrent-runs",
        min=1,
        help="At most this many of its runs execute at once, across every worker.",
    ),
]


def project_add(
    path: Annotated[Path, typer.Argument(help="The project's directory.")],
    name: Annotated[str | None, typer.Option(help="Defaults to the directory's name.")] = None,
    max_concurrent_runs: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a directory as a project and discover its workflows."""
    with database() as db:
        project = project_services.add_project(
            db, path, name=name, max_concurrent_runs=max_concurrent_runs
        )
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


def project_set(
    project: Annotated[str, typer.Argument(help="Project id, name or path.")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    max_concurrent_runs: LimitOption = None,
    no_limit: Annotated[
        bool, typer.Option("--no-limit", help="Let any number of its runs execute at once.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Rename a project or change how many of its runs may execute at once."""
    if no_limit and max_concurrent_runs is not None:
        raise InvalidInput("give --max-concurrent-runs or --no-limit, not both")
    changes: dict[str, Any] = {"name": name}
    if no_limit or max_concurrent_runs is not None:
        changes["max_concurrent_runs"] = max_concurrent_runs
    with database() as db:
        found = project_services.get_project(db, project)
        updated = project_services.update_project(db, found["id"], **changes)
    if as_json:
        print_json(updated)
        return
    limit = updated["max_concurrent_runs"]
    console.print(
        f"project [bold]{updated['name']}[/] ({updated['id']}):"
        f" {'no limit of runs at once' if limit is None else f'at most {limit} runs at once'}"
    )


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
