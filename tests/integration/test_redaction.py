"""Secrets never reach the journal (SPEC 9): not in outputs, logs, errors, events, results.
The planted values are searched for in the raw database files themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

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
