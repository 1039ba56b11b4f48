"""Secrets never reach the journal (SPEC 9): not in outputs, logs, errors, events, results.
The planted values are searched for in the raw database files themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from stepstone.services.runs import get_run, run_logs, start_run
from stepstone.store.database import Database
from stepstone.store.redaction import REDACTED, Redactor
from tests.helpers import Project, execute_inline

PLANTED = "planted-env-secret-8731"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4" * 4 + "Zz9y"
STEP_SECRET = "handed-to-the-command-4412"

LEAKY = """
import os

def leak_and_keep(value: str) -> str:
    (PROJECT / "received.txt").write_text(value)  # the step works with the real value
    return "token is " + value

@workflow(id="leaky")
async def leaky(ctx: Context) -> str:
    secret = os.environ["STEPSTONE_TEST_API_TOKEN"]
    out = await ctx.step.run("keep", leak_and_keep, secret)
    gh, mine = os.environ["SHAPED_VALUE"], os.environ["PLAIN_VALUE"]  # names that say nothing
    await ctx.step.cli("print", 'echo "env $STEPSTONE_TEST_API_TOKEN and $GH"', env={"GH": gh})
    await ctx.step.cli("hand-over", 'echo "mine: $SVC_PASSWORD"', env={"SVC_PASSWORD": mine})
    await ctx.annotate(f"used {secret}")
    ctx.log.info("the secret is %s", secret)
    if flag("fail"):
        raise RuntimeError(f"failing with {secret} and {gh}")
    return out
"""


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret by its variable's name, a token by its shape, and a value that becomes a
    secret when a step hands it to its command under a secret name."""
    monkeypatch.setenv("STEPSTONE_TEST_API_TOKEN", PLANTED)
    monkeypatch.setenv("SHAPED_VALUE", GITHUB_TOKEN)
    monkeypatch.setenv("PLAIN_VALUE", STEP_SECRET)


def raw_database(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in home.glob("stepstone.db*"))


@pytest.mark.usefixtures("planted")
@pytest.mark.parametrize("fail", [False, True])
async def test_secrets_appear_nowhere_in_the_journal_yet_the_step_gets_them(
    db: Database, make_project, home: Path, fail: bool
) -> None:
    project: Project = make_project(LEAKY)
    if fail:
        (project.root / "fail").touch()
    run_id = start_run(db, project.id, "leaky")["id"]
    await execute_inline(db, run_id)

    assert (project.root / "received.txt").read_text() == PLANTED
    run = get_run(db, run_id)
    assert run["status"] == ("failed" if fail else "completed")
    logs = run_logs(db, run_id)
    shown = repr(run) + repr(logs)
    assert REDACTED in shown
    for secret in (PLANTED, GITHUB_TOKEN, STEP_SECRET):
        assert secret not in shown
        assert secret.encode() not in raw_database(home)
    if fail:
        assert run["error_message"] is not None
        assert REDACTED in run["error_message"]
    else:
        assert run["result"] == f"token is {REDACTED}"


def test_a_redactor_replaces_values_and_token_shapes_but_not_short_values() -> None:
    redactor = Redactor(["s3cr3t-value", "1"])
    assert redactor.text("a s3cr3t-value b") == f"a {REDACTED} b"
    assert redactor.text('{"k": "s3cr3t-value"}') == f'{{"k": "{REDACTED}"}}'
    assert redactor.text("key AKIAABCDEFGHIJKLMNOP end") == f"key {REDACTED} end"
    assert redactor.text("version 1") == "version 1", "values too short to be secrets stay"
    redactor.add(['quote"d-secret'])
    assert redactor.text('{"k": "quote\\"d-secret"}') == f'{{"k": "{REDACTED}"}}'


SECRET_ARG = "writeonly-arg-value-5521"

WITH_SECRET_ARGS = """
@workflow(
    id="with-secret-args",
    args_schema={
        "type": "object",
        "properties": {
            "token": {"type": "string", "writeOnly": True},
            "pin": {"type": "string", "format": "password"},
            "name": {"type": "string"},
        },
    },
)
async def with_secret_args(ctx: Context) -> str:
    (PROJECT / "received.txt").write_text(ctx.args["token"] + " " + ctx.args["pin"])
    await ctx.step.cli("print", f"echo {ctx.args['token']}")
    if flag("fail"):
        raise RuntimeError("failing once")
    return ctx.args["name"]
"""


async def test_args_the_schema_marks_secret_are_sealed_in_the_database_and_reach_the_step(
    db: Database, make_project, home: Path
) -> None:
    from stepstone.services.runs import delete_run, resume_run
    from stepstone.store.schema import run_secret_args

    project: Project = make_project(WITH_SECRET_ARGS)
    (project.root / "fail").touch()
    args = {"token": SECRET_ARG, "pin": "pin-code-0042", "name": "visible"}
    run_id = start_run(db, project.id, "with-secret-args", args=args)["id"]
    assert get_run(db, run_id)["args"] == {"token": REDACTED, "pin": REDACTED, "name": "visible"}
    await execute_inline(db, run_id)
    (project.root / "received.txt").unlink()
    (project.root / "fail").unlink()
    resume_run(db, run_id)  # executed again: the secrets are opened again
    await execute_inline(db, run_id)

    run = get_run(db, run_id)
    assert run["status"] == "completed"
    assert (project.root / "received.txt").read_text() == f"{SECRET_ARG} pin-code-0042"
    for secret in (SECRET_ARG, "pin-code-0042"):
        assert secret not in repr(run) + repr(run_logs(db, run_id))
        assert secret.encode() not in raw_database(home)
    assert not (home / "run-secrets").exists(), "no file of secret args any more"

    def sealed() -> list[str]:
        with db.read() as conn:
            return list(conn.execute(select(run_secret_args.c.sealed)).scalars())

    assert len(sealed()) == 1
    delete_run(db, run_id, artifacts_dir=home / "artifacts")
    assert sealed() == [], "the sealed secret args go with the run"


async def test_a_fork_gets_its_origins_secret_args_sealed_for_itself(
    db: Database, make_project
) -> None:
    from stepstone.services.reruns import fork_run

    project: Project = make_project(WITH_SECRET_ARGS)
    args = {"token": SECRET_ARG, "pin": "pin-code-0042", "name": "visible"}
    origin_id = start_run(db, project.id, "with-secret-args", args=args)["id"]
    await execute_inline(db, origin_id)
    (project.root / "received.txt").unlink()

    fork = fork_run(db, origin_id, "print")
    assert fork["args"] == {"token": REDACTED, "pin": REDACTED, "name": "visible"}
    await execute_inline(db, fork["id"])
    assert get_run(db, fork["id"])["status"] == "completed"
    assert (project.root / "received.txt").read_text() == f"{SECRET_ARG} pin-code-0042"
