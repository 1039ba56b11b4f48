"""The ``stepstone`` command (SPEC 5). Commands parse, call a use case, print; no SQL here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from stepstone.cli.follow import follow_run
from stepstone.cli.inline import Interrupts, execute_here
from stepstone.cli.render import run_panel, runs_table
from stepstone.errors import InvalidInput, StepstoneError
from stepstone.services import projects as project_services
from stepstone.services import runs as run_services
from stepstone.services.args import parse_arg_pairs
from stepstone.services.users import create_user
from stepstone.settings import Settings
from stepstone.store.database import Database
from stepstone.store.leases import LeaseHolder
from stepstone.store.records import DefinitionList, Run
from stepstone.worker.worker import Worker

app = typer.Typer(
    name="stepstone",
    help="Durable workflows for developers: every step checkpointed, every run resumable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
project_app = typer.Typer(help="Register and list projects.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(project_app, name="project")

console = Console()
# Messages are single lines that scripts read: never wrapped at the terminal's width.
err_console = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RunArg = Annotated[str, typer.Argument(help="Run id (or a unique prefix of it).")]
CANCEL_WAIT_SECONDS = 15.0


def _settings() -> Settings:
    return Settings()


@contextlib.contextmanager
def _database() -> Iterator[Database]:
    db = Database.open(_settings().resolved_database_url())
    try:
        yield db
    finally:
        db.dispose()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _worker(db: Database, concurrency: int | None = None) -> Worker:
    settings = _settings()
    return Worker(
        db,
        concurrency=concurrency or settings.worker_concurrency,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.poll_seconds,
    )


# -- users and projects ---------------------------------------------------------------------


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The user's email (their login).")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
) -> None:
    """Create a user."""
    with _database() as db:
        user = create_user(db, email, password)
    console.print(f"created user {user['email']} ({user['id']})")


@project_app.command("add")
def project_add(
    path: Annotated[Path, typer.Argument(help="The project's directory.")],
    name: Annotated[str | None, typer.Option(help="Defaults to the directory's name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a directory as a project and discover its workflows."""
    with _database() as db:
        project = project_services.add_project(db, path, name=name)
        listing = project_services.list_definitions(db, project["id"], sync="never")
    if as_json:
        _print_json(project)
        return
    console.print(f"added project [bold]{project['name']}[/] ({project['id']})")
    _print_definitions(listing)


@project_app.command("list")
def project_list(as_json: JsonOption = False) -> None:
    """List the registered projects."""
    with _database() as db:
        projects = project_services.list_projects(db)
    if as_json:
        _print_json(projects)
        return
    if not projects:
        console.print("no projects yet: add one with `stepstone project add PATH`")
    for project in projects:
        console.print(f"{project['id']}  [bold]{project['name']}[/]  {project['path']}")


@app.command("workflows")
def workflows(
    project: Annotated[str, typer.Argument(help="Project id, name or path.")],
    as_json: JsonOption = False,
) -> None:
    """List a project's workflows and the files that failed to load."""
    with _database() as db:
        listing = project_services.list_definitions(db, project, sync="always")
    if as_json:
        _print_json(listing)
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


# -- runs ------------------------------------------------------------------------------------


@app.command("run")
def run(
    project: Annotated[str, typer.Argument(help="Project id, name or path.")],
    workflow: Annotated[str, typer.Argument(help="Workflow id.")],
    arg: Annotated[
        list[str] | None, typer.Option("--arg", help="An argument as key=value (repeatable).")
    ] = None,
    args_json: Annotated[str | None, typer.Option(help="All arguments as a JSON object.")] = None,
    name: Annotated[str | None, typer.Option(help="A name for the run.")] = None,
    spec_file: Annotated[str | None, typer.Option(help="A spec file inside the project.")] = None,
    spec: Annotated[str | None, typer.Option(help="Spec text (markdown).")] = None,
    spec_type: Annotated[str | None, typer.Option(help="What kind of spec it is.")] = None,
    mode: Annotated[str, typer.Option(help="stay, branch or worktree.")] = "stay",
    branch: Annotated[str | None, typer.Option(help="Branch to work on.")] = None,
    base: Annotated[str | None, typer.Option(help="Branch to start from.")] = None,
    inline: Annotated[bool, typer.Option(help="Execute the run in this process.")] = False,
    follow: Annotated[bool, typer.Option(help="Show live progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Start a run and print its id (a worker executes it, or this process with --inline)."""
    if spec_file and spec:
        raise InvalidInput("give --spec-file or --spec, not both")
    with _interrupts(inline) as interrupts, _database() as db:
        # The schema types --arg values; start_run below finds the files unchanged.
        listing = project_services.list_definitions(db, project, sync="if_changed")
        schema = next(
            (d["args_schema"] for d in listing["definitions"] if d["workflow"] == workflow),
            None,
        )
        args = _parse_args(arg or [], args_json, schema)

        def start(claim_for: LeaseHolder | None = None) -> Run:
            return run_services.start_run(
                db,
                project,
                workflow,
                args=args,
                name=name,
                spec_file=spec_file,
                spec_content=spec,
                spec_type=spec_type,
                mode=mode,
                base_branch=base,
                branch_name=branch,
                claim_for=claim_for,
            )

        if interrupts is not None:
            _print_ending(_execute_here(db, interrupts, start, follow=follow), follow, as_json)
            return
        started = start()
        if follow:
            _print_ending(_follow(db, started["id"]), follow, as_json)
        elif as_json:
            _print_json(started)
        else:
            sys.stdout.write(started["id"] + "\n")
            err_console.print("queued: a worker (`stepstone worker`) will execute it", style="dim")


@contextlib.contextmanager
def _interrupts(inline: bool) -> Iterator[Interrupts | None]:
    """For ``--inline``: Ctrl-C and SIGTERM leave the run resumable (see cli/inline.py)."""
    if not inline:
        yield None
        return
    with Interrupts() as interrupts:
        yield interrupts


def _execute_here(
    db: Database,
    interrupts: Interrupts,
    begin: Callable[[LeaseHolder], Run],
    *,
    follow: bool,
) -> Run:
    return execute_here(
        db,
        _worker(db, concurrency=1),
        interrupts,
        begin,
        console=console,
        err_console=err_console,
        follow=follow,
    )


def _follow(db: Database, run_id: str) -> Run:
    err_console.print(f"run {run_id}", style="dim")
    try:
        return asyncio.run(follow_run(db, run_id, console))
    except (KeyboardInterrupt, asyncio.CancelledError):
        err_console.print(f"stopped following; the run goes on: stepstone show {run_id}")
        raise typer.Exit(130) from None


def _print_ending(final: Run, follow: bool, as_json: bool) -> None:
    """How an executed or followed run ended; exit 1 when it failed or was cancelled."""
    if as_json:
        _print_json(final)
    elif not follow:
        console.print(run_panel(final))
    if final["status"] in ("failed", "cancelled"):
        raise typer.Exit(1)


def _parse_args(
    pairs: list[str], args_json: str | None, schema: dict[str, Any] | None
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if args_json is not None:
        try:
            args = json.loads(args_json)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--args-json is not valid JSON: {exc.msg}") from exc
        if not isinstance(args, dict):
            raise InvalidInput("--args-json must be a JSON object")
    args.update(parse_arg_pairs(pairs, schema))
    return args


@app.command("runs")
def runs(
    project: Annotated[str | None, typer.Option(help="Only this project's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs.", min=1)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first."""
    with _database() as db:
        listed, _ = run_services.list_runs(db, project_ref=project, status=status, limit=limit)
    if as_json:
        _print_json(listed)
    elif not listed:
        console.print("no runs")
    else:
        console.print(runs_table(listed))


@app.command("show")
def show(run_id: RunArg, as_json: JsonOption = False) -> None:
    """One run with its steps."""
    with _database() as db:
        shown = run_services.get_run(db, run_services.expand_run_ref(db, run_id))
    if as_json:
        _print_json(shown)
    else:
        console.print(run_panel(shown))


@app.command("resume")
def resume(
    run_id: RunArg,
    inline: Annotated[bool, typer.Option(help="Execute the run in this process.")] = False,
    follow: Annotated[bool, typer.Option(help="Show live progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Resume an interrupted, paused or failed run: completed steps are reused."""
    with _interrupts(inline) as interrupts, _database() as db:
        run_id = run_services.expand_run_ref(db, run_id)

        def resume_it(claim_for: LeaseHolder | None = None) -> Run:
            return run_services.resume_run(db, run_id, claim_for=claim_for)

        if interrupts is not None:
            _print_ending(_execute_here(db, interrupts, resume_it, follow=follow), follow, as_json)
            return
        resumed = resume_it()
        if follow:
            _print_ending(_follow(db, resumed["id"]), follow, as_json)
        elif as_json:
            _print_json(resumed)
        else:
            console.print(f"resumed {resumed['id']} (resume #{resumed['resume_count']})")


@app.command("pause")
def pause(run_id: RunArg, as_json: JsonOption = False) -> None:
    """Pause a run after its running step finishes."""
    with _database() as db:
        paused = run_services.pause_run(db, run_services.expand_run_ref(db, run_id))
    if as_json:
        _print_json(paused)
    elif paused["status"] == "paused":
        console.print(f"paused {paused['id']}")
    else:
        console.print(f"{paused['id']} will pause when its running step finishes")


@app.command("cancel")
def cancel(run_id: RunArg, as_json: JsonOption = False) -> None:
    """Cancel a run now, killing its running step."""
    with _database() as db:
        cancelled = run_services.cancel_run(db, run_services.expand_run_ref(db, run_id))
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while cancelled["status"] != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.1)
            cancelled = run_services.get_run(db, cancelled["id"])
    if as_json:
        _print_json(cancelled)
    elif cancelled["status"] == "cancelled":
        console.print(f"cancelled {cancelled['id']}")
    else:
        console.print(f"asked the worker to cancel {cancelled['id']}; it has not confirmed yet")


@app.command("logs")
def logs(
    run_id: RunArg,
    step: Annotated[str | None, typer.Option(help="Only this step's output (its key).")] = None,
    follow: Annotated[bool, typer.Option(help="Keep printing new lines.")] = False,
    as_json: JsonOption = False,
) -> None:
    """A run's output lines."""
    with _database() as db:
        run_id = run_services.expand_run_ref(db, run_id)
        last_id = 0
        while True:
            lines = run_services.run_logs(db, run_id, step=step, after_id=last_id)
            for line in lines:
                if as_json:
                    sys.stdout.write(json.dumps(line) + "\n")
                else:
                    prefix = f"[{line['step_key'] or line['phase'] or 'run'}]"
                    sys.stdout.write(f"{prefix} {line['line']}\n")
                last_id = line["id"]
            sys.stdout.flush()
            if not follow:
                return
            if not lines and run_services.get_run(db, run_id)["status"] not in (
                "pending",
                "running",
            ):
                return
            time.sleep(0.25)


@app.command("worker")
def worker(
    concurrency: Annotated[int | None, typer.Option(help="How many runs at once.", min=1)] = None,
) -> None:
    """Execute queued runs until stopped (Ctrl-C or SIGTERM leave running runs resumable)."""
    with _database() as db:
        running = _worker(db, concurrency)
        err_console.print(
            f"worker {running.worker_id} ({running.concurrency} at a time); Ctrl-C to stop",
            style="dim",
        )
        try:
            asyncio.run(_serve(running))
        except KeyboardInterrupt:
            pass
        finally:
            running.close()


async def _serve(running: Worker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await running.serve(stop)


HostOption = Annotated[str | None, typer.Option(help="Address to listen on [127.0.0.1].")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on [4101].")]


def _server_settings(host: str | None, port: int | None) -> Settings:
    settings = _settings()
    return settings.model_copy(
        update={"host": host or settings.host, "port": settings.port if port is None else port}
    )


@app.command("serve")
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """The HTTP API and WebSocket, with a worker in the same process."""
    from stepstone.cli.server import serve as serve_forever

    serve_forever(_server_settings(host, port), console)


@app.command("demo")
def demo(
    host: HostOption = None,
    port: PortOption = None,
    terminal: Annotated[
        bool, typer.Option(help="Run a sample workflow in this terminal instead of serving.")
    ] = False,
) -> None:
    """Serve with the sample project and a demo user (its password is printed once)."""
    if terminal:
        from stepstone.cli.demo import run_demo

        with _database() as db:
            run_demo(db, _worker(db, concurrency=1), console, err_console)
        return
    from stepstone.cli.server import demo as serve_demo

    serve_demo(_server_settings(host, port), console)


def main() -> None:
    """Entry point: errors print one line to stderr and exit non-zero."""
    try:
        app()
    except StepstoneError as exc:
        err_console.print(f"error: {exc.message}", style="red", highlight=False)
        sys.exit(1)
