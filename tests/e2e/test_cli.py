"""The command line as a user types it: clear one-line errors, bad input changes nothing."""

from __future__ import annotations

import json

from tests.helpers import Project, run_cli

COUNTED = """
@workflow(
    id="counted",
    args_schema={
        "type": "object",
        "properties": {"count": {"type": "integer"}},
        "required": ["count"],
    },
)
async def counted(ctx: Context) -> int:
    total = await ctx.step.run("double", lambda: ctx.args["count"] * 2)
    await ctx.step.cli("say", f"echo total is {total}")
    return total


@workflow(id="returns-a-set")
async def returns_a_set(ctx: Context) -> None:
    await ctx.step.run("make-set", lambda: {1, 2})
"""


def assert_one_line_error(result, expected: str) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert expected in result.stderr, result.stderr


def run_count() -> int:
    return len(json.loads(run_cli("runs", "--json", check=True).stdout))


def test_unknown_and_malformed_run_ids_are_one_line_errors(make_project) -> None:
    make_project(COUNTED)
    assert_one_line_error(run_cli("show", "nope"), "error: no run 'nope'")
    assert_one_line_error(
        run_cli("resume", "00000000-0000-0000-0000-000000000000"),
        "error: no run '00000000-0000-0000-0000-000000000000'",
    )
    assert_one_line_error(run_cli("cancel", "12345678"), "no run '12345678'")


def test_args_that_break_the_schema_are_refused_and_queue_nothing(make_project) -> None:
    project: Project = make_project(COUNTED)
    assert_one_line_error(
        run_cli("run", project.name, "counted", "--arg", "count=abc"),
        "invalid args.count: 'abc' is not of type 'integer'",
    )
    assert_one_line_error(run_cli("run", project.name, "counted"), "'count' is a required property")
    assert_one_line_error(
        run_cli("run", project.name, "counted", "--args-json", "{not json"),
        "--args-json is not valid JSON",
    )
    assert run_count() == 0


def test_a_workflow_file_with_a_syntax_error_is_shown_and_breaks_nothing_else(
    make_project,
) -> None:
    project: Project = make_project(COUNTED)
    broken = project.root / ".stepstone" / "workflows" / "broken.py"
    broken.write_text(
        "from stepstone import workflow\n\n@workflow(id='broken'\nasync def x(ctx):\n"
    )
    listing = json.loads(run_cli("workflows", project.name, "--json", check=True).stdout)
    assert [d["workflow"] for d in listing["definitions"]] == ["counted", "returns-a-set"]
    [error] = listing["errors"]
    assert error["file_path"] == ".stepstone/workflows/broken.py"
    assert error["error"].startswith("SyntaxError")
    human = run_cli("workflows", project.name, check=True).stdout
    assert "broken.py" in human
    assert "SyntaxError" in human
    assert_one_line_error(
        run_cli("run", project.name, "broken"),
        "has no workflow 'broken'; files that failed to load: .stepstone/workflows/broken.py",
    )
    assert run_count() == 0
    ok = run_cli("run", project.name, "counted", "--arg", "count=2", "--inline", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["result"] == 4


def test_a_result_that_is_not_json_fails_the_run_with_a_clear_message(make_project) -> None:
    project: Project = make_project(COUNTED)
    result = run_cli("run", project.name, "returns-a-set", "--inline", "--json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    run = json.loads(result.stdout)
    assert run["status"] == "failed"
    assert run["error_message"].startswith(
        "step 'make-set' failed: step 'make-set' returned a set that is not JSON-serialisable"
    )


def test_show_json_prints_the_run_object_with_steps_and_attempts(make_project) -> None:
    project: Project = make_project(COUNTED)
    run_cli("run", project.name, "counted", "--arg", "count=21", "--inline", check=True)
    run_id = json.loads(run_cli("runs", "--json").stdout)[0]["id"]
    run = json.loads(run_cli("show", run_id[:8], "--json", check=True).stdout)
    for field in [
        "id",
        "project_id",
        "user_id",
        "workflow_definition_id",
        "workflow",
        "name",
        "status",
        "args",
        "spec_file",
        "spec_content",
        "spec_type",
        "planning_session_id",
        "mode",
        "base_branch",
        "branch_name",
        "worktree_name",
        "working_dir",
        "current_phase",
        "error_message",
        "resume_count",
        "is_live",
        "created_at",
        "started_at",
        "completed_at",
        "paused_at",
        "cancelled_at",
        "updated_at",
        "steps",
        "events",
    ]:
        assert field in run, field
    assert run["args"] == {"count": 21}
    step = run["steps"][1]
    for field in [
        "id",
        "key",
        "name",
        "phase",
        "kind",
        "status",
        "attempt",
        "output",
        "error_message",
    ]:
        assert field in step, field
    assert step["kind"] == "cli"
    assert step["output"]["stdout"] == "total is 42"
    assert step["attempts"][0]["status"] == "completed"


def test_logs_print_a_steps_output_lines(make_project) -> None:
    project: Project = make_project(COUNTED)
    run_cli("run", project.name, "counted", "--arg", "count=5", "--inline", check=True)
    run_id = json.loads(run_cli("runs", "--json").stdout)[0]["id"]
    logs = run_cli("logs", run_id, "--step", "say", check=True)
    assert logs.stdout.strip() == "[say] total is 10"


def test_projects_are_listed_and_a_second_registration_is_refused(make_project) -> None:
    project: Project = make_project(COUNTED)
    listed = json.loads(run_cli("project", "list", "--json", check=True).stdout)
    assert [p["name"] for p in listed] == [project.name]
    assert_one_line_error(run_cli("project", "add", str(project.root)), "is already registered")
    assert_one_line_error(run_cli("project", "add", "/no/such/dir"), "is not a directory")


def test_a_projects_limit_of_runs_at_once_is_set_and_lifted(make_project) -> None:
    project: Project = make_project(COUNTED)
    limited = run_cli("project", "set", project.name, "--max-concurrent-runs", "2", check=True)
    assert limited.stdout.strip().endswith("at most 2 runs at once")
    shown = json.loads(run_cli("project", "list", "--json", check=True).stdout)
    assert shown[0]["max_concurrent_runs"] == 2
    assert_one_line_error(
        run_cli("project", "set", project.name, "--max-concurrent-runs", "3", "--no-limit"),
        "not both",
    )
    lifted = run_cli("project", "set", project.id, "--no-limit", "--json", check=True)
    assert json.loads(lifted.stdout)["max_concurrent_runs"] is None


def test_users_are_created_with_a_hashed_password_never_given_as_an_argument(db) -> None:
    with_password = {"STEPSTONE_PASSWORD": "s3cret-pass"}
    created = run_cli("user", "create", "--email", "dev@example.com", env=with_password)
    assert created.returncode == 0, created.stderr
    assert "created admin dev@example.com" in created.stdout, "the first user is an admin"
    from stepstone.store.projects import get_user_by_email_txn

    with db.transaction() as conn:
        user = get_user_by_email_txn(conn, "dev@example.com")
    assert user is not None
    assert user["password_hash"].startswith("$argon2")
    assert "s3cret-pass" not in user["password_hash"]
    assert_one_line_error(
        run_cli("user", "create", "--email", "dev@example.com", env=with_password),
        "exists already",
    )
    refused = run_cli("user", "create", "--email", "x@example.com", "--password", "s3cret-pass")
    assert refused.returncode != 0, "no --password option"
    assert_one_line_error(
        run_cli("user", "create", "--email", "x@example.com", input="s3cret-pass\n"),
        "STEPSTONE_PASSWORD",
    )


def test_users_are_listed_with_their_roles_disabled_enabled_and_deleted(db) -> None:
    env = {"STEPSTONE_PASSWORD": "s3cret-pass"}
    run_cli("user", "create", "--email", "first@example.com", env=env, check=True)
    member = run_cli("user", "create", "--email", "second@example.com", env=env, check=True)
    assert "created member" in member.stdout
    admin = run_cli(
        "user", "create", "--email", "third@example.com", "--admin", env=env, check=True
    )
    assert "created admin" in admin.stdout
    run_cli("user", "disable", "second@example.com", check=True)
    listed = json.loads(run_cli("user", "list", "--json", check=True).stdout)
    assert [(u["email"], u["is_admin"], u["disabled"]) for u in listed] == [
        ("first@example.com", True, False),
        ("second@example.com", False, True),
        ("third@example.com", True, False),
    ]
    assert "disabled" in run_cli("user", "list", check=True).stdout
    run_cli("user", "enable", "second@example.com", check=True)
    run_cli("user", "delete", listed[1]["id"], check=True)  # by id works too
    emails = [u["email"] for u in json.loads(run_cli("user", "list", "--json").stdout)]
    assert emails == ["first@example.com", "third@example.com"]
    assert_one_line_error(run_cli("user", "delete", "nobody@example.com"), "no user")


def test_follow_shows_each_step_as_it_completes(make_project) -> None:
    project: Project = make_project(COUNTED)
    followed = run_cli("run", project.name, "counted", "--arg", "count=1", "--inline", "--follow")
    assert followed.returncode == 0, followed.stderr
    assert "double" in followed.stdout
    assert "say" in followed.stdout
    assert "completed" in followed.stdout


def test_retry_from_a_step_runs_it_and_the_steps_after_it_again(make_project) -> None:
    project: Project = make_project(COUNTED)
    first = run_cli("run", project.name, "counted", "--arg", "count=2", "--inline", "--json")
    run = json.loads(first.stdout)
    assert run["status"] == "completed", first.stderr

    retried = run_cli("retry", run["id"][:8], "--from", "say", "--inline", "--json", check=True)
    again = json.loads(retried.stdout)
    assert again["status"] == "completed"
    steps = {step["key"]: step for step in again["steps"]}
    assert (steps["double"]["reused"], steps["double"]["attempt"]) == (True, 1)
    assert (steps["say"]["reused"], steps["say"]["attempt"]) == (False, 2)
    assert [event["type"] for event in again["events"]].count("workflow_retried") == 1

    assert_one_line_error(run_cli("retry", run["id"], "--from", "nothing"), "no step 'nothing'")
    queued = run_cli("retry", run["id"], "--from", "double", check=True)
    assert queued.stdout.strip() == f"retrying {run['id']} from step double"
    assert_one_line_error(run_cli("retry", run["id"], "--from", "double"), "is pending")


def test_fork_starts_a_new_run_that_reuses_the_steps_before_the_one_named(make_project) -> None:
    project: Project = make_project(COUNTED)
    first = run_cli("run", project.name, "counted", "--arg", "count=3", "--inline", "--json")
    origin = json.loads(first.stdout)

    forked = run_cli("fork", origin["id"], "--from", "say", "--inline", "--json", check=True)
    fork = json.loads(forked.stdout)
    assert fork["id"] != origin["id"]
    assert (fork["status"], fork["result"]) == ("completed", 6)
    assert fork["forked_from"] == {"run_id": origin["id"], "step_key": "say"}
    steps = {step["key"]: step for step in fork["steps"]}
    assert (steps["double"]["reused"], steps["say"]["reused"]) == (True, False)
    plain = run_cli("fork", origin["id"], check=True).stdout.strip()
    assert json.loads(run_cli("show", plain, "--json", check=True).stdout)["forked_from"] == {
        "run_id": origin["id"],
        "step_key": None,
    }
