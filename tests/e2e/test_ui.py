"""The seed's story in a real Chromium: start a run from the UI, kill the server with kill -9,
restart it, and resume the run from the run page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepstone.api.app import WEB_UI_DIR
from stepstone.services.users import create_user
from stepstone.store.database import Database
from tests.e2e.server import Server
from tests.helpers import Project, make_repository, wait_for, wait_for_file

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
EMAIL, PASSWORD = "ui@example.com", "correct-horse-battery"

FLOWS = """
def slow_three() -> str:
    touch("three-started")
    while flag("hang"):
        time.sleep(0.05)
    return effect("three")


@workflow(id="three-steps", name="Three steps", phases=["work"])
async def three_steps(ctx: Context) -> dict:
    async with ctx.phase("work"):
        await ctx.step.run("one", effect, "one")
        await ctx.step.run("two", effect, "two")
        await ctx.step.run("three", slow_three)
    return {"done": True}
"""


def _requirements_missing() -> str | None:
    if not (WEB_UI_DIR / "index.html").is_file():
        return "the UI is not built (make web)"
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install chromium)"
    return None


@pytest.fixture
def browser_page() -> Iterator[object]:
    missing = _requirements_missing()
    if missing:
        if os.environ.get("CI") and (ROOT / "web" / "package.json").is_file():
            pytest.fail(f"the UI test must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def collect_console_errors(page: Any) -> list[str]:
    """The page's console errors and uncaught exceptions, as they happen."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def sign_in(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")


def test_a_run_killed_with_the_server_is_resumed_from_the_run_page(
    browser_page: object, home: Path, db: Database, make_project
) -> None:
    from playwright.sync_api import Page, expect

    page: Page = browser_page  # type: ignore[assignment]
    console_errors = collect_console_errors(page)

    project: Project = make_project(FLOWS)
    create_user(db, EMAIL, PASSWORD)
    (project.root / "hang").touch()
    server = Server(home).start()
    try:
        sign_in(page, server)

        page.goto(f"{server.url}/projects/{project.id}/new")
        page.get_by_label("Workflow").select_option("three-steps")
        page.get_by_role("button", name="Start run").click()
        page.wait_for_url("**/runs/*")
        run_url = page.url
        for key in ("work-one", "work-two"):
            expect(page.get_by_test_id(f"step-{key}")).to_contain_text("completed")
        wait_for_file(project.root / "three-started")
        assert console_errors == [], console_errors

        server.kill()
        (project.root / "hang").unlink()
        server = Server(home, port=server.port).start()

        page.goto(run_url)
        page.evaluate("window.__sameDocument = true")
        console_errors.clear()
        expect(page.get_by_test_id("interrupted-badge")).to_be_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "run-interrupted.png"), full_page=True)

        page.get_by_role("button", name="Actions").click()
        page.get_by_role("menuitem", name="Resume").click()
        expect(page.get_by_text("Workflow resumed")).to_be_visible()
        expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=30_000)
        expect(page.get_by_test_id("interrupted-badge")).to_have_count(0)
        for key in ("work-one", "work-two"):
            expect(page.get_by_test_id(f"step-{key}").get_by_test_id("reused-mark")).to_be_visible()
        expect(page.get_by_test_id("step-work-three").get_by_test_id("reused-mark")).to_have_count(
            0
        )
        page.screenshot(path=str(SCREENSHOTS / "run-resumed.png"), full_page=True)
        assert page.url == run_url
        assert page.evaluate("window.__sameDocument === true"), "the page was not reloaded"
        assert console_errors == [], console_errors
        assert (project.count("one"), project.count("two"), project.count("three")) == (1, 1, 1)
    finally:
        server.stop()


AGENT_FLOWS = """
@workflow(id="agent-run", name="Agent run", phases=["implement", "review"])
async def agent_run(ctx: Context) -> dict:
    async with ctx.phase("implement"):
        answer = await ctx.step.agent(
            "implement",
            prompt="Implement it.\\n@work 60\\n@edit feature.txt done\\n@answer implemented it",
        )
    async with ctx.phase("review"):
        await ctx.step.artifact("save-review", name="review.md", content="# Review\\nfine\\n")
        await ctx.step.git("commit", op="commit", message="feat: it")
    return {"answer": answer.text}
"""


def test_an_agent_run_streams_its_transcript_and_resumes_from_the_run_page_after_a_kill(
    browser_page: object,
    home: Path,
    db: Database,
    make_project,
    fake_agent_commands: None,
) -> None:
    from playwright.sync_api import Page, expect

    page: Page = browser_page  # type: ignore[assignment]
    console_errors = collect_console_errors(page)

    project: Project = make_project(AGENT_FLOWS)
    make_repository(project)
    create_user(db, EMAIL, PASSWORD)
    server = Server(home).start()
    try:
        sign_in(page, server)

        page.goto(f"{server.url}/projects/{project.id}/new")
        page.get_by_label("Workflow").select_option("agent-run")
        page.get_by_label("Git mode").select_option("worktree")
        page.get_by_label("Branch name").fill("feat/ui-agent")
        page.get_by_role("button", name="Start run").click()
        page.wait_for_url("**/runs/*")
        run_url = page.url

        # The transcript streams while the agent works.
        page.get_by_test_id("step-implement-implement").click()
        transcript = page.get_by_test_id("agent-transcript")
        expect(transcript).to_contain_text("Working on it.")
        expect(page.get_by_test_id("agent-tool-call").first).to_contain_text("Bash")
        expect(page.get_by_test_id("run-status")).to_have_text("running")
        wait_for(lambda: any((home / "fake-agents").glob("work-*.log")), 20, "the agent's tool")
        assert console_errors == [], console_errors

        server.kill()
        server = Server(home, port=server.port).start()
        page.goto(run_url)
        console_errors.clear()
        expect(page.get_by_test_id("interrupted-badge")).to_be_visible()
        page.get_by_role("button", name="Actions").click()
        page.get_by_role("menuitem", name="Resume").click()
        expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=60_000)

        page.get_by_test_id("step-implement-implement").click()
        expect(page.get_by_test_id("agent-transcript")).to_contain_text("Continuing")
        expect(page.get_by_test_id("agent-final-answer")).to_contain_text("implemented it")
        expect(page.get_by_test_id("step-diff")).to_contain_text("+done")
        expect(page.get_by_test_id("run-usage")).to_contain_text("tokens")
        expect(page.get_by_text("review.md")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download review.md").click()
        saved = download.value.path()
        assert saved is not None
        assert Path(saved).read_bytes() == b"# Review\nfine\n"  # byte for byte
        expect(page.get_by_test_id("workspace-kept").first).to_contain_text("feat/ui-agent")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "agent-run-resumed.png"), full_page=True)
        assert console_errors == [], console_errors
    finally:
        server.stop()
