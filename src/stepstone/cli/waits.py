"""``stepstone send`` and ``approve``: an event or a decision for a waiting run (SPEC 3.12).
The CLI acts as the machine's operator: a decision made here is signed with the local user."""

from __future__ import annotations

import getpass
import json
import socket
from typing import Annotated, Any

import typer

from stepstone.cli.common import JsonOption, RunArg, console, database, print_json
from stepstone.errors import InvalidInput
from stepstone.services import runs as run_services
from stepstone.services import waits


def send(
    run_id: RunArg,
    event: Annotated[str, typer.Argument(help="The event's name, as the workflow waits for it.")],
    data: Annotated[
        str | None, typer.Option("--data", help="What the wait returns: JSON text.")
    ] = None,
    event_id: Annotated[
        str | None,
        typer.Option("--id", help="An id for this event: sending it again changes nothing."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send a run an event: a step waiting for it goes on, else it is kept for the first
    wait for its name."""
    value = _parsed(data)
    with database() as db:
        delivery = waits.send_event(
            db, run_services.expand_run_ref(db, run_id), event, value, event_id=event_id
        )
    if as_json:
        print_json(delivery)
    elif delivery["duplicate"]:
        console.print(f"event {event_id!r} was delivered before; nothing changed")
    elif delivery["woke"]:
        console.print(f"delivered {event!r}: run {delivery['run_id']} goes on")
    else:
        console.print(f"kept {event!r} for run {delivery['run_id']} until a step waits for it")


def approve(
    run_id: RunArg,
    step: Annotated[
        str | None,
        typer.Argument(help="The approval step's key (default: the one the run waits for)."),
    ] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approving.")] = False,
    comment: Annotated[
        str | None, typer.Option("--comment", help="A comment the step receives.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Approve (or --reject) the approval a waiting run asks for; the run goes on."""
    with database() as db:
        decided = waits.decide_approval(
            db,
            run_services.expand_run_ref(db, run_id),
            step,
            approved=not reject,
            comment=comment,
            by=_local_user(),
        )
    if as_json:
        print_json(decided)
    else:
        console.print(f"{'rejected' if reject else 'approved'}: run {decided['id']} goes on")


def _local_user() -> str:
    """Who decides from this terminal: the local user at this host."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        user = "operator"
    return f"{user}@{socket.gethostname()} (CLI)"


def _parsed(data: str | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--data is not JSON: {exc}") from exc
