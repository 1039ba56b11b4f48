"""``stepstone run``, ``runs``, ``show``, ``resume``, ``pause``, ``cancel``, ``logs``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Annotated

import typer

from stepstone.cli.common import (
    JsonOption,
    RunArg,
    console,
    database,
    err_console,
    make_worker,
    print_json,
)
from stepstone.cli.follow import follow_run
from stepstone.cli.inline import Interrupts, execute_here
from stepstone.cli.render import log_text, run_panel, runs_table
from stepstone.errors import InvalidInput
from stepstone.services import reruns
from stepstone.services import runs as run_services
from stepstone.services.args import args_from_command_line
from stepstone.store.database import Database
from stepstone.store.leases import LeaseHolder
from stepstone.store.records import Run
from stepstone.vocabulary import RunStatus

CANCEL_WAIT_SECONDS = 15.0
BudgetOption = Annotated[
    int | None,
    typer.Option("--budget-tokens", help="Token budget of the run's agent steps (input + output)."),
]


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
    preserve: Annotated[
        bool, typer.Option(help="Keep the branch or worktree when the run ends.")
    ] = False,
    budget_tokens: BudgetOption = None,
    inline: Annotated[bool, typer.Option(help="Execute the run in this process.")] = False,
    follow: Annotated[bool, typer.Option(help="Show live progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Start a run and print its id (a worker executes it, or this process with --inline)."""
    if spec_file and spec:
        raise InvalidInput("give --spec-file or --spec, not both")
    with _interrupts(inline) as interrupts, database() as db:
        args = args_from_command_line(db, project, workflow, pairs=arg or [], args_json=args_json)

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
                preserve=preserve,
                budget_tokens=budget_tokens,
                claim_for=claim_for,
            )

        def say_queued(started: Run) -> None:
            sys.stdout.write(started["id"] + "\n")
            err_console.print("queued: a worker (`stepstone worker`) will execute it", style="dim")

        _carry_out(db, interrupts, start, follow=follow, as_json=as_json, say_queued=say_queued)


def _carry_out(
    db: Database,
    interrupts: Interrupts | None,
    begin: Callable[..., Run],
    *,
    follow: bool,
    as_json: bool,
    say_queued: Callable[[Run], None],
) -> None:
    """Start or resume with ``begin``: execute the run here (``--inline``), follow it
    (``--follow``), or say it was queued."""
    if interrupts is not None:
        _print_ending(_execute_here(db, interrupts, begin, follow=follow), follow, as_json)
        return
    queued = begin()
    if follow:
        _print_ending(_follow(db, queued["id"]), follow, as_json)
    elif as_json:
        print_json(queued)
    else:
        say_queued(queued)


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
        lambda: make_worker(db, concurrency=1),
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
        print_json(final)
    elif not follow:
        console.print(run_panel(final))
    if final["status"] in ("failed", "cancelled"):
        raise typer.Exit(1)


def runs(
    project: Annotated[str | None, typer.Option(help="Only this project's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs.", min=1)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first."""
    with database() as db:
        listed, _ = run_services.list_runs(db, project_ref=project, status=status, limit=limit)
    if as_json:
        print_json(listed)
    elif not listed:
        console.print("no runs")
    else:
        console.print(runs_table(listed))


def show(run_id: RunArg, as_json: JsonOption = False) -> None:
    """One run with its steps."""
    with database() as db:
        shown = run_services.get_run(db, run_services.expand_run_ref(db, run_id))
    if as_json:
        print_json(shown)
    else:
        console.print(run_panel(shown))


def resume(
    run_id: RunArg,
    budget_tokens: BudgetOption = None,
    inline: Annotated[bool, typer.Option(help="Execute the run in this process.")] = False,
    follow: Annotated[bool, typer.Option(help="Show live progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Resume an interrupted, paused or failed run: completed steps are reused."""
    with _interrupts(inline) as interrupts, database() as db:
        run_id = run_services.expand_run_ref(db, run_id)
        if interrupts is not None:
            interrupts.run_id = run_id  # it is resumable until the resume takes it

        def resume_it(claim_for: LeaseHolder | None = None) -> Run:
            return run_services.resume_run(
                db, run_id, budget_tokens=budget_tokens, claim_for=claim_for
            )

        def say_queued(resumed: Run) -> None:
            console.print(f"resumed {resumed['id']} (resume #{resumed['resume_count']})")

        _carry_out(db, interrupts, resume_it, follow=follow, as_json=as_json, say_queued=say_queued)


def retry(
    run_id: RunArg,
    from_step: Annotated[
        str, typer.Option("--from", help="Key of the first step to run again (see `show`).")
    ],
    inline: Annotated[bool, typer.Option(help="Execute the run in this process.")] = False,
    follow: Annotated[bool, typer.Option(help="Show live progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a failed, paused, completed or interrupted run again from a step: the steps
    before it are reused, it and the steps after it run again."""
    with _interrupts(inline) as interrupts, database() as db:
        run_id = run_services.expand_run_ref(db, run_id)
        if interrupts is not None:
            interrupts.run_id = run_id

        def retry_it(claim_for: LeaseHolder | None = None) -> Run:
            return reruns.retry_run(db, run_id, from_step, claim_for=claim_for)

        def say_queued(retried: Run) -> None:
            console.print(f"retrying {retried['id']} from step {from_step}")

        _carry_out(db, interrupts, retry_it, follow=follow, as_json=as_json, say_queued=say_queued)


def fork(
    run_id: RunArg,
    from_step: Annotated[
        str | None,
        typer.Option("--from", help="Reuse the steps completed before this one (see `show`)."),
    ] = None,
    inline: Annotated[bool, typer.Option(help="Execute the new run in this process.")] = False,
    follow: Annotated[bool, typer.Option(help="Show live progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Start a new run of the same workflow with the same args, spec and mode; with --from
    it reuses the steps the run completed before that step."""
    with _interrupts(inline) as interrupts, database() as db:
        run_id = run_services.expand_run_ref(db, run_id)

        def fork_it(claim_for: LeaseHolder | None = None) -> Run:
            return reruns.fork_run(db, run_id, from_step, claim_for=claim_for)

        def say_queued(forked: Run) -> None:
            console.print(forked["id"])

        _carry_out(db, interrupts, fork_it, follow=follow, as_json=as_json, say_queued=say_queued)


def pause(run_id: RunArg, as_json: JsonOption = False) -> None:
    """Pause a run after its running step finishes."""
    with database() as db:
        paused = run_services.pause_run(db, run_services.expand_run_ref(db, run_id))
    if as_json:
        print_json(paused)
    elif paused["status"] == "paused":
        console.print(f"paused {paused['id']}")
    else:
        console.print(f"{paused['id']} will pause when its running step finishes")


def cancel(run_id: RunArg, as_json: JsonOption = False) -> None:
    """Cancel a run now, killing its running step."""
    with database() as db:
        cancelled = run_services.cancel_and_wait(
            db, run_services.expand_run_ref(db, run_id), wait_seconds=CANCEL_WAIT_SECONDS
        )
    if as_json:
        print_json(cancelled)
    elif cancelled["status"] == RunStatus.CANCELLED:
        console.print(f"cancelled {cancelled['id']}")
    else:
        console.print(f"asked the worker to cancel {cancelled['id']}; it has not confirmed yet")


def logs(
    run_id: RunArg,
    step: Annotated[str | None, typer.Option(help="Only this step's output (its key).")] = None,
    follow: Annotated[bool, typer.Option(help="Keep printing new lines.")] = False,
    as_json: JsonOption = False,
) -> None:
    """A run's output lines."""
    with database() as db:
        run_id = run_services.expand_run_ref(db, run_id)
        last_id = 0
        while True:
            lines = run_services.run_logs(db, run_id, step=step, after_id=last_id)
            for line in lines:
                if as_json:
                    sys.stdout.write(json.dumps(line) + "\n")
                else:
                    prefix = f"[{line['step_key'] or line['phase'] or 'run'}]"
                    sys.stdout.write(f"{prefix} {log_text(line['stream'], line['line'])}\n")
                last_id = line["id"]
            sys.stdout.flush()
            if not follow:
                return
            status = run_services.get_run(db, run_id)["status"]
            if not lines and status not in (RunStatus.PENDING, RunStatus.RUNNING):
                return
            time.sleep(0.25)
