"""Secret run args are sealed in the database (SPEC 4, 9): a run started by one process is
executed by another with a home of its own (another machine), on the same database. What
opens them is the same ``STEPSTONE_SECRET_KEY``, never the database, which holds no
plaintext; a run whose secret args cannot be opened fails, and no step is handed the
``[redacted]`` placeholder."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select

from stepstone.errors import InvalidInput
from stepstone.services.projects import delete_project
from stepstone.services.runs import delete_run, get_run, resume_run, start_run
from stepstone.settings import Settings
from stepstone.store.database import Database
from stepstone.store.redaction import REDACTED
from stepstone.store.schema import metadata, run_secret_args
from stepstone.store.sealing import KEY_FILE
from tests.helpers import Project, execute_inline

KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()
TOKEN, PIN = "sealed-token-value-7731", "sealed-pin-0815"
ARGS = {"token": TOKEN, "pin": PIN, "target": "staging"}

DEPLOY = """
@workflow(
    id="deploy",
    args_schema={
        "type": "object",
        "properties": {
            "token": {"type": "string", "writeOnly": True},
            "pin": {"type": "string", "format": "password"},
            "target": {"type": "string"},
        },
    },
)
async def deploy(ctx: Context) -> str:
    (PROJECT / "received.txt").write_text(ctx.args["token"] + " " + ctx.args["pin"])
    await ctx.step.run("use", effect, "used")
    return ctx.args["target"]
"""

Machine = Callable[..., Database]


@pytest.fixture
def machine(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Machine]:
    """Opens the test's database as a process on another machine would: through its
    settings (``STEPSTONE_*``), with a home of its own and the given secret key."""
    opened: list[Database] = []

    def open_as(name: str, *, key: str | None) -> Database:
        monkeypatch.setenv("STEPSTONE_DATABASE_URL", database_url)
        monkeypatch.setenv("STEPSTONE_HOME", str(tmp_path / name))
        if key is None:
            monkeypatch.delenv("STEPSTONE_SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("STEPSTONE_SECRET_KEY", key)
        opened.append(Settings().open_database())
        return opened[-1]

    yield open_as
    for db in opened:
        db.dispose()


def everything_stored(db: Database) -> bytes:
    """Every row of every table as text, and on SQLite the raw bytes of its files too."""
    with db.read() as conn:
        rows = [repr(conn.execute(select(table)).all()) for table in metadata.sorted_tables]
    stored = "\n".join(rows).encode()
    if db.sqlite_path is not None:
        path = Path(db.sqlite_path)
        stored += b"".join(file.read_bytes() for file in path.parent.glob(f"{path.name}*"))
    return stored


def sealed_rows(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(run_secret_args.c.sealed)).scalars())


async def test_a_run_started_on_one_machine_gets_its_secret_args_on_another_with_the_same_key(
    make_project, machine: Machine, tmp_path: Path
) -> None:
    project: Project = make_project(DEPLOY)
    starter, executor = machine("a", key=KEY), machine("b", key=KEY)
    run_id = start_run(starter, project.id, "deploy", args=ARGS)["id"]

    await execute_inline(executor, run_id)

    run = get_run(executor, run_id)
    assert run["status"] == "completed", run["error_message"]
    assert (project.root / "received.txt").read_text() == f"{TOKEN} {PIN}"
    assert run["args"] == {"token": REDACTED, "pin": REDACTED, "target": "staging"}
    assert run["result"] == "staging"
    home_files = [p.name for home in ("a", "b") for p in (tmp_path / home).rglob("*")]
    assert "run-secrets" not in home_files, "no file of secret args on either machine"
    assert KEY_FILE not in home_files, "the configured key is used: no key file is made"


async def test_the_database_holds_the_secret_args_sealed_never_in_plaintext(
    make_project, machine: Machine, home: Path
) -> None:
    project: Project = make_project(DEPLOY)
    db = machine("a", key=KEY)
    run_id = start_run(db, project.id, "deploy", args=ARGS)["id"]
    await execute_inline(db, run_id)
    assert get_run(db, run_id)["status"] == "completed"

    stored = everything_stored(db)
    assert REDACTED.encode() in stored, "the search reads the args: it would find a secret"
    for secret in (TOKEN, PIN):
        assert secret.encode() not in stored
    [sealed] = sealed_rows(db)
    opened = json.loads(Fernet(KEY).decrypt(sealed))
    assert opened == {"run_id": run_id, "args": {"token": TOKEN, "pin": PIN}}

    delete_project(db, project.id, artifacts_dir=home / "artifacts")
    assert sealed_rows(db) == [], "the sealed row goes with its run"


async def test_a_run_sealed_under_another_key_fails_naming_the_setting_and_runs_no_step(
    make_project, machine: Machine
) -> None:
    project: Project = make_project(DEPLOY)
    starter, stranger = machine("a", key=KEY), machine("b", key=OTHER_KEY)
    run_id = start_run(starter, project.id, "deploy", args=ARGS)["id"]

    await execute_inline(stranger, run_id)

    run = get_run(stranger, run_id)
    assert run["status"] == "failed"
    assert run["error_message"] == (
        f"run {run_id}: its secret args were sealed with another key than this process's"
        " (STEPSTONE_SECRET_KEY): every process needs the same STEPSTONE_SECRET_KEY"
    )
    assert not (project.root / "received.txt").exists(), "the workflow never started"
    assert project.effects() == []
    assert run["steps"] == []

    resume_run(starter, run_id)  # with the right key it goes on
    await execute_inline(starter, run_id)
    assert get_run(starter, run_id)["status"] == "completed"
    assert (project.root / "received.txt").read_text() == f"{TOKEN} {PIN}"


async def test_without_the_setting_the_key_is_a_private_file_in_the_home_made_on_first_use(
    make_project, machine: Machine, tmp_path: Path
) -> None:
    project: Project = make_project(DEPLOY)
    db = machine("a", key=None)
    key_file = tmp_path / "a" / KEY_FILE
    assert not key_file.exists(), "opening the database makes no key"

    run_id = start_run(db, project.id, "deploy", args=ARGS)["id"]

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = key_file.read_text()
    assert json.loads(Fernet(key).decrypt(sealed_rows(db)[0]))["args"]["token"] == TOKEN
    again = machine("a", key=None)  # another process with the same home
    await execute_inline(again, run_id)
    assert get_run(again, run_id)["status"] == "completed"
    assert key_file.read_text() == key, "made once"
    assert (project.root / "received.txt").read_text() == f"{TOKEN} {PIN}"


def started_before_the_upgrade(db: Database, project: Project, *, keep_file: bool) -> str:
    """A run as the previous version left it: ``[redacted]`` in its args, and its secret
    args in ``run-secrets/<run>.json`` of the home (``keep_file``) instead of sealed."""
    run_id = start_run(db, project.id, "deploy", args=ARGS)["id"]
    with db.transaction() as conn:
        conn.execute(delete(run_secret_args))
    if keep_file:
        folder = db.files_dir / "run-secrets"
        folder.mkdir(mode=0o700, parents=True)
        (folder / f"{run_id}.json").write_text(json.dumps({"token": TOKEN, "pin": PIN}))
    return run_id


async def test_a_run_started_before_the_upgrade_gets_its_secret_args_from_its_old_file(
    db: Database, make_project, home: Path
) -> None:
    project: Project = make_project(DEPLOY)
    run_id = started_before_the_upgrade(db, project, keep_file=True)

    await execute_inline(db, run_id)

    assert get_run(db, run_id)["status"] == "completed"
    assert (project.root / "received.txt").read_text() == f"{TOKEN} {PIN}"
    delete_run(db, run_id, artifacts_dir=home / "artifacts")
    assert list((home / "run-secrets").iterdir()) == [], "its file goes with the run"


async def test_a_run_whose_secret_args_are_nowhere_fails_instead_of_getting_the_placeholder(
    db: Database, make_project
) -> None:
    project: Project = make_project(DEPLOY)
    run_id = started_before_the_upgrade(db, project, keep_file=False)

    await execute_inline(db, run_id)

    run = get_run(db, run_id)
    assert run["status"] == "failed"
    assert run["error_message"] is not None
    assert run["error_message"].startswith(
        f"run {run_id}: its secret args (pin, token) are not in the database, nor in"
    )
    assert "STEPSTONE_HOME" in run["error_message"]
    assert not (project.root / "received.txt").exists()
    assert run["steps"] == []


def test_a_secret_key_that_is_not_a_key_is_refused_when_the_database_opens(
    database_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPSTONE_SECRET_KEY", "not-a-fernet-key")
    with pytest.raises(InvalidInput, match=r"^STEPSTONE_SECRET_KEY is not a key: .* python3 -c"):
        Settings().open_database()


async def test_a_process_without_any_key_fails_the_run_and_makes_no_key_of_its_own(
    make_project, machine: Machine, tmp_path: Path
) -> None:
    project: Project = make_project(DEPLOY)
    run_id = start_run(machine("a", key=KEY), project.id, "deploy", args=ARGS)["id"]
    keyless = machine("b", key=None)

    await execute_inline(keyless, run_id)

    run = get_run(keyless, run_id)
    assert run["status"] == "failed"
    assert run["error_message"] == (
        f"run {run_id}: its secret args were sealed with a key this process does not have (no"
        f" STEPSTONE_SECRET_KEY, no {tmp_path / 'b' / KEY_FILE}): every process needs the"
        " same STEPSTONE_SECRET_KEY"
    )
    assert not (tmp_path / "b" / KEY_FILE).exists()
    assert project.effects() == []
