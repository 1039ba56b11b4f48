"""Bad input is never answered with a 500 (SPEC 6): property tests aim the known families of
hostile input at every route of the app, in process, and check that each answer is a 4xx in
the one error shape. The families: JSON nested hundreds of levels deep (login too, without a
token), NaN and Infinity where JSON has no such numbers, integers past 64 bits and digits of
other scripts (Arabic-Indic ``٣``, fullwidth, superscript ``²``) where an integer is expected,
names too long for the file system and loops of symbolic links where a path is expected."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stepstone.api.app import create_app
from stepstone.api.errors import install_error_handlers
from stepstone.api.schemas import MAX_BODY_DEPTH
from stepstone.errors import InvalidInput, NotFound
from stepstone.services.args import args_from_command_line
from stepstone.services.projects import get_project
from stepstone.services.runs import list_runs, resume_run, start_run
from stepstone.services.users import create_user
from stepstone.settings import Settings
from stepstone.store.database import Database
from tests.helpers import WORKFLOW_PRELUDE, execute_inline

EXAMPLES = 60
PATH_EXAMPLES = 30
EMAIL, PASSWORD = "fuzz@example.com", "correct-horse-battery"

FLOWS = """
@workflow(id="free")
async def free(ctx: Context) -> str:
    await ctx.step.cli("say", "echo hi")
    return "ok"
"""

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class World:
    """A server (in process, no worker) with an admin, a project whose workflow ``free``
    takes any args, a completed run with a step ``say`` and its log, a paused run, and
    symbolic-link loops on disk (in ``loops`` and in the project)."""

    client: TestClient
    db: Database
    token: dict[str, str]
    project_id: str
    project_dir: Path
    completed_run: str
    paused_run: str
    step_id: int
    loops: Path


def make_loops(folder: Path) -> Path:
    """``folder`` with ``loop-a`` ⇄ ``loop-b``, and ``self-loop`` → itself."""
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink("loop-b", folder / "loop-a")
    os.symlink("loop-a", folder / "loop-b")
    os.symlink("self-loop", folder / "self-loop")
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bad-input")
    settings_ = Settings(home=root / "home")
    db = Database.open(settings_.resolved_database_url())
    create_user(db, EMAIL, PASSWORD)  # the first user: an admin, who may register projects
    # A loopback name as the Host: what the server answers for by default.
    client = TestClient(
        create_app(settings_, db=db), base_url="http://127.0.0.1", raise_server_exceptions=False
    )
    login = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = {"Authorization": f"Bearer {login.json()['token']}"}

    project_dir = root / "project"
    (project_dir / ".stepstone" / "workflows").mkdir(parents=True)
    (project_dir / ".stepstone" / "workflows" / "flows.py").write_text(
        WORKFLOW_PRELUDE + textwrap.dedent(FLOWS)
    )
    (project_dir / "spec.md").write_text("# a spec\n")
    make_loops(project_dir)
    made = client.post("/api/projects", json={"path": str(project_dir)}, headers=token)
    assert made.status_code == 201, made.text
    project_id = made.json()["id"]

    def start() -> str:
        body = {"project_id": project_id, "workflow": "free"}
        started = client.post("/api/workflows", json=body, headers=token)
        assert started.status_code == 201, started.text
        return str(started.json()["id"])

    completed_run = start()
    asyncio.run(execute_inline(db, completed_run))
    run = client.get(f"/api/workflows/{completed_run}", headers=token).json()
    assert run["status"] == "completed", run
    paused_run = start()
    assert client.post(f"/api/workflows/{paused_run}/pause", headers=token).status_code == 200

    yield World(
        client=client,
        db=db,
        token=token,
        project_id=project_id,
        project_dir=project_dir,
        completed_run=completed_run,
        paused_run=paused_run,
        step_id=run["steps"][0]["id"],
        loops=make_loops(root / "loops"),
    )
    client.close()
    db.dispose()


def assert_refused(answer: httpx.Response, *statuses: int) -> None:
    """A 4xx (one of ``statuses`` when given) whose body is ``{"error": {"code", "message"}}``."""
    where = f"{answer.request.method} {str(answer.request.url)[:200]}"
    assert answer.status_code < 500, f"{where} → {answer.status_code} {answer.text[:300]}"
    assert answer.status_code >= 400, f"{where} → {answer.status_code}: accepted"
    if statuses:
        assert answer.status_code in statuses, f"{where} → {answer.status_code} {answer.text}"
    assert_error_shape(answer)


def assert_answered(answer: httpx.Response) -> None:
    """Not a 5xx; an error answer has the error shape."""
    where = f"{answer.request.method} {str(answer.request.url)[:200]}"
    assert answer.status_code < 500, f"{where} → {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        assert_error_shape(answer)


def assert_error_shape(answer: httpx.Response) -> None:
    body = answer.json()
    assert isinstance(body, dict), body
    assert list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error, dict), body
    assert sorted(error) == ["code", "message"], body
    assert isinstance(error["code"], str), body
    assert isinstance(error["message"], str), body


# --- JSON nested deeper than any request needs ------------------------------------------

OPENERS = {"[": "]", '{"k":': "}"}


@st.composite
def nested_json(draw: st.DrawFn, min_depth: int = MAX_BODY_DEPTH + 1) -> str:
    """JSON text nested ``min_depth`` levels or more: mostly the few hundred levels that a
    recursive walk trips on, some past what the JSON parser takes. Written as text, so no
    recursion builds it."""
    depth = draw(
        st.one_of(
            st.integers(min_depth, 200),
            st.integers(200, 1000),
            st.integers(1000, 5000),
        )
    )
    pattern = draw(st.lists(st.sampled_from(sorted(OPENERS)), min_size=1, max_size=3))
    leaf = draw(st.sampled_from(["1", '"x"', "null", "[]", "{}"]))
    openers = [pattern[level % len(pattern)] for level in range(depth)]
    return "".join(openers) + leaf + "".join(OPENERS[o] for o in reversed(openers))


BODY_ROUTES = ["login", "create_project", "rename_project", "create_run", "resume_run"]


def body_route(world: World, name: str) -> tuple[str, str, dict[str, Any], bool]:
    """A route that takes a JSON body: method, path, a valid body, and whether it is sent
    with the token."""
    return {
        "login": ("POST", "/api/auth/login", {"email": EMAIL, "password": PASSWORD}, False),
        "create_project": ("POST", "/api/projects", {"path": str(world.project_dir)}, True),
        "rename_project": (
            "PATCH",
            f"/api/projects/{world.project_id}",
            {"name": "renamed"},
            True,
        ),
        "create_run": (
            "POST",
            "/api/workflows",
            {"project_id": world.project_id, "workflow": "free", "args": {}},
            True,
        ),
        "resume_run": (
            "POST",
            f"/api/workflows/{world.paused_run}/resume",
            {"budget_tokens": 5},
            True,
        ),
    }[name]


@fuzz
@given(route=st.sampled_from(BODY_ROUTES), nested=nested_json(), where=st.integers(0, 10))
def test_a_body_nested_hundreds_of_levels_deep_is_refused_on_every_route(
    world: World, route: str, nested: str, where: int
) -> None:
    method, path, valid, with_token = body_route(world, route)
    # The deep value replaces one field, or is added as one, or is the whole body.
    fields = {key: json.dumps(value) for key, value in valid.items()}
    places = [*sorted(fields), "extra", None]
    place = places[where % len(places)]
    if place is None:
        text = nested
    else:
        fields[place] = nested
        text = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"
    headers = {"content-type": "application/json", **(world.token if with_token else {})}
    answer = world.client.request(method, path, content=text, headers=headers)
    assert_refused(answer, 400)


def test_a_body_nested_past_the_limit_is_refused_saying_so(world: World) -> None:
    # Deep enough to break a recursive walk, shallow enough for the JSON parser.
    deep = "[" * 600 + "]" * 600
    answer = world.client.post(
        "/api/auth/login",
        content=f'{{"email": {deep}, "password": "x"}}',
        headers={"content-type": "application/json"},
    )
    assert_refused(answer, 400)
    assert f"more than {MAX_BODY_DEPTH} levels" in answer.json()["error"]["message"]


def test_args_nested_up_to_the_limit_are_accepted(world: World) -> None:
    # The body, its args and 30 levels below them: 32 levels in all.
    value: Any = "leaf"
    for _ in range(MAX_BODY_DEPTH - 2):
        value = [value]
    body = {"project_id": world.project_id, "workflow": "free", "args": {"deep": value}}
    answer = world.client.post("/api/workflows", json=body, headers=world.token)
    assert answer.status_code == 201, answer.text
    assert answer.json()["args"] == {"deep": value}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_args_holding_numbers_json_has_not_are_refused(world: World, number: str) -> None:
    text = f'{{"project_id": "{world.project_id}", "workflow": "free", "args": {{"x": {number}}}}}'
    answer = world.client.post(
        "/api/workflows", content=text, headers={"content-type": "application/json", **world.token}
    )
    assert_refused(answer, 400)


def test_args_json_nested_past_what_the_parser_takes_is_refused(world: World) -> None:
    # The CLI's --args-json, read by the service.
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InvalidInput, match="nested too deeply"):
        args_from_command_line(world.db, world.project_id, "free", pairs=[], args_json=deep)


def test_a_recursion_error_is_answered_400_in_the_error_shape() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/deep")
    def deep() -> None:
        raise RecursionError("maximum recursion depth exceeded")

    answer = TestClient(app, raise_server_exceptions=False).get("/deep")
    assert_refused(answer, 400)


# --- integers past 64 bits, and digits of other scripts ---------------------------------

PAST_64_BITS = st.one_of(
    st.integers(min_value=2**63, max_value=2**200),
    st.integers(min_value=-(2**200), max_value=-(2**63) - 1),
)
# Digits of other scripts, and numbers that are not digits: Arabic-Indic, fullwidth,
# superscript (a digit to str.isdigit, not to int()), mathematical, NKo, Roman numerals.
OTHER_DIGITS = st.text(
    alphabet=st.characters(categories=("Nd", "No", "Nl"), exclude_characters="0123456789"),
    min_size=1,
    max_size=12,
)
INTEGER_LIKE_TEXT = st.one_of(
    PAST_64_BITS.map(str),
    OTHER_DIGITS,
    st.tuples(st.integers(0, 99), OTHER_DIGITS).map(lambda pair: f"{pair[0]}{pair[1]}"),
    # More digits than Python converts to an int (4300) without being asked to.
    st.integers(4301, 6000).map(lambda count: "9" * count),
)


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


CURSOR_PART = st.one_of(
    PAST_64_BITS,
    st.integers(min_value=10**308, max_value=10**330),  # past the largest float
    st.sampled_from([float("inf"), float("-inf"), float("nan")]),  # Infinity, NaN in JSON
    st.floats(allow_nan=False, allow_infinity=False),
    OTHER_DIGITS,
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.none(),
    st.booleans(),
)


def shaped_like_a_real_cursor(cursor: str) -> bool:
    """``[finite float, text]``: the shape of every cursor the server gives out (a run's
    ``created_at`` and id), which it cannot tell from one it gave."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        return False
    match decoded:
        case [float(created_at), str()]:
            return math.isfinite(created_at)
    return False


CURSORS = st.one_of(
    st.lists(CURSOR_PART, min_size=0, max_size=3).map(cursor_of),
    CURSOR_PART.map(cursor_of),
    INTEGER_LIKE_TEXT.filter(lambda text: len(text) <= 500),
).filter(lambda cursor: not shaped_like_a_real_cursor(cursor))


# Every path and query parameter: a method and a URL with ``{x}`` where the bad value goes;
# every other part is valid (``{run}``: a completed run, ``say``: its step, ``{step_id}``:
# that step's id).
SLOTS = [
    ("GET", "/api/projects/{x}"),
    ("PATCH", "/api/projects/{x}"),
    ("DELETE", "/api/projects/{x}"),
    ("GET", "/api/projects/{x}/workflow-definitions"),
    ("POST", "/api/projects/{x}/workflow-definitions/resync"),
    ("GET", "/api/workflows/{x}"),
    ("POST", "/api/workflows/{x}/resume"),
    ("POST", "/api/workflows/{x}/pause"),
    ("POST", "/api/workflows/{x}/cancel"),
    ("DELETE", "/api/workflows/{x}"),
    ("GET", "/api/workflows/{x}/artifacts"),
    ("GET", "/api/workflows/{run}/artifacts/{x}"),
    ("GET", "/api/workflows/{x}/steps/say/logs"),
    ("GET", "/api/workflows/{run}/steps/{x}/logs"),
    ("GET", "/api/workflows/{run}/steps/say/logs?after_id={x}"),
    ("GET", "/api/workflows/{run}/steps/{step_id}/logs?after_id={x}"),
    ("GET", "/api/workflows?limit={x}"),
    ("GET", "/api/workflows?cursor={x}"),
    ("GET", "/api/workflows?project_id={x}"),
    ("GET", "/api/workflows?search={x}"),
    ("GET", "/api/workflows?status={x}"),
]


def call_slot(world: World, slot: tuple[str, str], value: str) -> httpx.Response:
    method, template = slot
    url = template.format(x=quote(value, safe=""), run=world.completed_run, step_id=world.step_id)
    body = {"name": "renamed"} if method == "PATCH" else None
    return world.client.request(method, url, json=body, headers=world.token)


@fuzz
@given(slot=st.sampled_from(SLOTS), value=INTEGER_LIKE_TEXT)
def test_integers_past_64_bits_and_other_digits_are_refused_in_every_parameter(
    world: World, slot: tuple[str, str], value: str
) -> None:
    assert_answered(call_slot(world, slot, value))


# Arabic-Indic three, fullwidth twelve, superscript two, mathematical one.
CLASSIC_BAD_INTEGERS = ["\u0663", "\uff11\uff12", "\u00b2", "\U0001d7d9", str(2**63), "9" * 5000]


@pytest.mark.parametrize("value", CLASSIC_BAD_INTEGERS)
def test_each_parameter_refuses_the_classic_bad_integers(world: World, value: str) -> None:
    for slot in SLOTS:
        assert_answered(call_slot(world, slot, value))


@fuzz
@given(cursor=CURSORS)
@example(cursor=cursor_of([10**309, "x"]))
@example(cursor=cursor_of(["١٢", "00000000-0000-0000-0000-000000000000"]))
def test_a_cursor_this_server_did_not_give_out_is_refused(world: World, cursor: str) -> None:
    answer = world.client.get("/api/workflows", params={"cursor": cursor}, headers=world.token)
    assert_refused(answer, 400)


def test_a_step_id_in_digits_of_another_script_names_no_step(world: World) -> None:
    digits = str(world.step_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    url = f"/api/workflows/{world.completed_run}/steps/{quote(digits)}/logs"
    assert_refused(world.client.get(url, headers=world.token), 404)
    url = f"/api/workflows/{world.completed_run}/steps/{world.step_id}/logs"
    assert world.client.get(url, headers=world.token).status_code == 200


def test_a_log_cursor_past_every_id_gives_no_lines(world: World) -> None:
    url = f"/api/workflows/{world.completed_run}/steps/say/logs"
    assert world.client.get(url, headers=world.token).json(), "the step logged a line"
    for after_id in (2**31, 2**63, 2**64, 10**100):
        answer = world.client.get(url, params={"after_id": after_id}, headers=world.token)
        assert answer.status_code == 200, answer.text
        assert answer.json() == []


@fuzz
@given(
    route=st.sampled_from(["create", "resume"]),
    budget=st.one_of(PAST_64_BITS, OTHER_DIGITS),
)
@example(route="create", budget=2**63)
@example(route="resume", budget=2**63)
def test_a_budget_past_64_bits_or_in_other_digits_is_refused(
    world: World, route: str, budget: int | str
) -> None:
    if route == "create":
        body = {"project_id": world.project_id, "workflow": "free", "budget_tokens": budget}
        answer = world.client.post("/api/workflows", json=body, headers=world.token)
    else:
        url = f"/api/workflows/{world.paused_run}/resume"
        answer = world.client.post(url, json={"budget_tokens": budget}, headers=world.token)
    assert_refused(answer, 400)


def test_the_services_refuse_a_budget_past_64_bits_whoever_calls(world: World) -> None:
    # The CLI calls them too, with whatever integer its option parsed.
    with pytest.raises(InvalidInput, match="budget_tokens"):
        start_run(world.db, world.project_id, "free", budget_tokens=2**63)
    with pytest.raises(InvalidInput, match="budget_tokens"):
        resume_run(world.db, world.paused_run, budget_tokens=2**63)


def test_a_page_longer_than_any_table_lists_every_run(world: World) -> None:
    runs, next_cursor = list_runs(world.db, limit=2**64)
    assert len(runs) >= 2
    assert next_cursor is None


# --- paths the file system refuses ---------------------------------------------------------

LOOPS = ["loop-a", "loop-b", "self-loop"]
# Not "..": Python resolves ``loop-a/..`` by its text, to the folder that holds the loop.
AFTER_A_LOOP = st.lists(st.sampled_from(["x", ".", "loop-a", "y.md"]), max_size=3)


def bad_paths(base: str) -> st.SearchStrategy[str]:
    """Paths under ``base`` (which holds the loops) that no file system call can follow: a
    loop of links (perhaps with more after it), a name longer than 255 bytes (perhaps after
    a loop), or more than PATH_MAX in all."""
    prefix = f"{base}/" if base else ""
    looped = st.builds(
        lambda loop, rest: "/".join([prefix + loop, *rest]), st.sampled_from(LOOPS), AFTER_A_LOOP
    )
    long_name = st.integers(256, 2000).map(lambda length: prefix + "n" * length)
    long_after_loop = st.builds(
        lambda loop, length: f"{prefix}{loop}/{'n' * length}",
        st.sampled_from(LOOPS),
        st.integers(256, 1000),
    )
    past_path_max = st.integers(21, 40).map(lambda count: prefix + "/".join(["d" * 200] * count))
    return st.one_of(looped, long_name, long_after_loop, past_path_max)


@settings(fuzz, max_examples=PATH_EXAMPLES)
@given(data=st.data())
def test_a_project_path_the_file_system_refuses_is_answered_400(
    world: World, data: st.DataObject
) -> None:
    path = data.draw(
        st.one_of(
            bad_paths(str(world.loops)),
            st.integers(256, 1000).map(lambda length: "~" + "u" * length),
        )
    )
    answer = world.client.post("/api/projects", json={"path": path}, headers=world.token)
    assert_refused(answer, 400)


@settings(fuzz, max_examples=PATH_EXAMPLES)
@given(data=st.data())
def test_a_spec_file_the_file_system_refuses_is_answered_400(
    world: World, data: st.DataObject
) -> None:
    spec_file = data.draw(
        st.one_of(bad_paths(""), bad_paths("sub"), bad_paths(".."), bad_paths(str(world.loops)))
    )
    body = {"project_id": world.project_id, "workflow": "free", "spec_file": spec_file}
    answer = world.client.post("/api/workflows", json=body, headers=world.token)
    assert_refused(answer, 400)


def test_a_spec_file_in_the_project_is_still_accepted(world: World) -> None:
    body = {"project_id": world.project_id, "workflow": "free", "spec_file": "spec.md"}
    answer = world.client.post("/api/workflows", json=body, headers=world.token)
    assert answer.status_code == 201, answer.text
    assert answer.json()["spec_file"] == "spec.md"


def test_broken_links_among_the_workflow_files_are_load_errors_not_a_500(
    world: World, tmp_path: Path
) -> None:
    workflows = tmp_path / "links" / ".stepstone" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "flows.py").write_text(WORKFLOW_PRELUDE + textwrap.dedent(FLOWS))
    os.symlink(workflows / "gone.py", workflows / "dangling.py")
    os.symlink("looping.py", workflows / "looping.py")
    answer = world.client.post(
        "/api/projects", json={"path": str(tmp_path / "links")}, headers=world.token
    )
    assert answer.status_code == 201, answer.text
    listing = world.client.get(
        f"/api/projects/{answer.json()['id']}/workflow-definitions", headers=world.token
    ).json()
    assert [d["workflow"] for d in listing["definitions"]] == ["free"]
    failed = sorted(error["file_path"] for error in listing["errors"])
    assert failed == [".stepstone/workflows/dangling.py", ".stepstone/workflows/looping.py"]


def test_a_project_named_by_a_looping_path_is_not_found(world: World) -> None:
    # The CLI names projects by id, name or path.
    for ref in (str(world.loops / "loop-a"), str(world.loops / "self-loop" / "x")):
        with pytest.raises(NotFound):
            get_project(world.db, ref)
