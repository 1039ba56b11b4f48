"""The seed's story in a real Chromium: start a run from the UI, kill the server with kill -9,
restart it, and resume the run from the run page; then run a run again from one of its
steps (Retry from here) and fork it from the Actions menu; and decide a waiting run's
approval from its card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from stepstone.services.users import create_user
from stepstone.store.database import Database
from tests.e2e.server import Server
from tests.helpers import Project, make_repository, wait_for, wait_for_file

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


def start_three_steps(page: Any, server: Server, project: Project) -> str:
    """Sign in, start the project's three-steps run from its New Run form; the run's URL."""
    sign_in(page, server)
    page.goto(f"{server.url}/projects/{project.id}/new")
    page.get_by_label("Workflow").select_option("three-steps")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url("**/runs/*")
    return str(page.url)


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
        run_url = start_three_steps(page, server, project)
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


def test_a_live_run_ticks_and_blocks_resume_and_its_step_shows_interrupted_after_a_kill(
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
        run_url = start_three_steps(page, server, project)
        wait_for_file(project.root / "three-started")
        three = page.get_by_test_id("step-work-three")
        expect(three.get_by_label("running")).to_have_class(re.compile(r"\bspin\b"))

        # Live: the times tick, and Resume is offered disabled, saying why.
        duration = page.get_by_test_id("run-duration")
        step_duration = three.get_by_title("duration")
        before = (duration.inner_text(), step_duration.inner_text())
        page.wait_for_timeout(2_000)
        after = (duration.inner_text(), step_duration.inner_text())
        assert after[0] != before[0], f"the run's Duration stood still at {before[0]}"
        assert after[1] != before[1], f"the step's duration stood still at {before[1]}"
        page.get_by_role("button", name="Actions").click()
        resume = page.get_by_test_id("resume-action")
        expect(resume).to_be_disabled()
        expect(resume).to_have_text("Resume — the run is running now")
        expect(resume.get_by_text("the run is running now")).to_be_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "run-live-resume-disabled.png"), full_page=True)
        page.keyboard.press("Escape")
        live_errors = list(console_errors)

        server.kill()
        (project.root / "hang").unlink()
        server = Server(home, port=server.port).start()

        page.goto(run_url)
        console_errors.clear()
        expect(page.get_by_test_id("interrupted-badge")).to_be_visible()
        # Interrupted: the running step is still and says so; the run's times stand still.
        expect(three).to_contain_text("interrupted")
        expect(three.get_by_label("interrupted")).to_be_visible()
        expect(three.get_by_label("running")).to_have_count(0)
        expect(three.locator(".spin")).to_have_count(0)
        expect(three.get_by_title("duration")).to_have_count(0)
        expect(duration).to_contain_text("(interrupted)")
        still = duration.inner_text()
        page.wait_for_timeout(1_500)
        assert duration.inner_text() == still
        page.get_by_role("button", name="Actions").click()
        resume = page.get_by_role("menuitem", name="Resume", exact=True)
        expect(resume).to_be_enabled()
        expect(page.get_by_text("the run is running now")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / "run-step-interrupted.png"), full_page=True)

        resume.click()
        expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=30_000)
        expect(three).to_contain_text("completed")
        assert live_errors + console_errors == [], live_errors + console_errors
    finally:
        server.stop()


def run_of_page(page: Any, server: Server, run_id: str) -> Any:
    """The run as the API shows it to the user signed in on the page."""
    token = page.evaluate("localStorage.getItem('stepstone.token')")
    answer = httpx.get(
        f"{server.url}/api/workflows/{run_id}", headers={"Authorization": f"Bearer {token}"}
    )
    answer.raise_for_status()
    return answer.json()


def test_a_completed_run_is_retried_from_a_step_and_forked_from_the_run_page(
    browser_page: object, home: Path, db: Database, make_project
) -> None:
    from playwright.sync_api import Page, expect

    page: Page = browser_page  # type: ignore[assignment]
    console_errors = collect_console_errors(page)

    project: Project = make_project(FLOWS)
    create_user(db, EMAIL, PASSWORD)
    server = Server(home).start()
    try:
        run_url = start_three_steps(page, server, project)
        run_id = run_url.rsplit("/", 1)[-1]
        status = page.get_by_test_id("run-status")
        expect(status).to_have_text("completed", timeout=30_000)
        one, two, three = (page.get_by_test_id(f"step-work-{n}") for n in ("one", "two", "three"))

        # Retry from here on the second step: asked first, then it and the third run again.
        page.get_by_test_id("step-menu-work-two").click()
        page.get_by_role("menuitem", name="Retry from here").click()
        dialog = page.get_by_role("dialog", name="Retry from step work-two?")
        expect(dialog).to_contain_text("work-two and the steps after it will run again")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "run-retry-confirm.png"), full_page=True)
        dialog.get_by_role("button", name="Retry from here").click()
        expect(page.get_by_text("Retrying from step work-two")).to_be_visible()
        expect(three).to_contain_text("2 attempts", timeout=30_000)
        expect(status).to_have_text("completed", timeout=30_000)
        expect(two).to_contain_text("2 attempts")
        expect(one.get_by_test_id("reused-mark")).to_be_visible()
        expect(two.get_by_test_id("reused-mark")).to_have_count(0)
        expect(one).not_to_contain_text("attempts")
        retried = run_of_page(page, server, run_id)
        steps = {step["key"]: step for step in retried["steps"]}
        assert retried["status"] == "completed"
        assert (steps["work-one"]["attempt"], steps["work-one"]["reused"]) == (1, True)
        assert (steps["work-two"]["attempt"], steps["work-two"]["reused"]) == (2, False)
        assert [a["attempt"] for a in steps["work-two"]["attempts"]] == [1, 2]
        assert (project.count("one"), project.count("two"), project.count("three")) == (1, 2, 2)
        page.screenshot(path=str(SCREENSHOTS / "run-retried.png"), full_page=True)

        # Fork from the third step: a new run reusing the first two, on its own page.
        page.get_by_role("button", name="Actions").click()
        page.get_by_role("menuitem", name="Fork…").click()
        fork_dialog = page.get_by_role("dialog", name="Fork this run")
        fork_dialog.get_by_label("Run again from").select_option("work-three")
        fork_dialog.get_by_role("button", name="Fork", exact=True).click()
        page.wait_for_url(lambda url: "/runs/" in url and not url.endswith(run_id))
        fork_id = page.url.rsplit("/", 1)[-1]
        forked_from = page.get_by_test_id("forked-from")
        expect(forked_from).to_have_text(f"Forked from {run_id} at step work-three")
        expect(status).to_have_text("completed", timeout=30_000)
        expect(one.get_by_test_id("reused-mark")).to_be_visible()
        expect(two.get_by_test_id("reused-mark")).to_be_visible()
        expect(three.get_by_test_id("reused-mark")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / "run-forked.png"), full_page=True)
        assert (project.count("one"), project.count("two"), project.count("three")) == (1, 2, 3)

        # The origin, reached by the link, lists its fork.
        forked_from.get_by_role("link", name=run_id).click()
        page.wait_for_url(run_url)
        forks = page.get_by_test_id("forks")
        expect(forks).to_contain_text(f"{fork_id} at step work-three")
        expect(forks.get_by_role("link", name=fork_id)).to_be_visible()
        assert console_errors == [], console_errors
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


APPROVAL_FLOWS = """
def prepare() -> str:
    while flag("hold"):
        time.sleep(0.05)
    return effect("prepare")


@workflow(id="review", name="Review")
async def review(ctx: Context) -> dict:
    await ctx.step.run("prepare", prepare)
    decision = await ctx.step.approval("merge", prompt="Merge this change?")
    if decision.approved:
        await ctx.step.run("merge-it", effect, "merged")
    else:
        await ctx.step.run("revise", effect, "revised:" + (decision.comment or ""))
    return {"approved": decision.approved, "comment": decision.comment, "by": decision.by}
"""


def test_a_run_waiting_for_an_approval_shows_its_card_live_and_a_rejection_takes_its_branch(
    browser_page: object, home: Path, db: Database, make_project
) -> None:
    from playwright.sync_api import Page, expect

    page: Page = browser_page  # type: ignore[assignment]
    console_errors = collect_console_errors(page)

    project: Project = make_project(APPROVAL_FLOWS)
    create_user(db, EMAIL, PASSWORD)
    # The first step holds until the run page is open, so the card can only arrive live.
    (project.root / "hold").touch()
    server = Server(home).start()
    try:
        sign_in(page, server)
        page.goto(f"{server.url}/projects/{project.id}/new")
        page.get_by_label("Workflow").select_option("review")
        page.get_by_role("button", name="Start run").click()
        page.wait_for_url("**/runs/*")
        run_url = page.url
        run_id = run_url.rsplit("/", 1)[-1]
        page.evaluate("window.__sameDocument = true")
        status = page.get_by_test_id("run-status")
        expect(status).to_have_text("running")
        card = page.get_by_test_id("approval-card")
        expect(card).to_have_count(0)

        (project.root / "hold").unlink()
        expect(card).to_be_visible(timeout=30_000)
        expect(card).to_contain_text("Merge this change?")
        expect(card).to_contain_text("merge")
        expect(status).to_have_text("waiting")
        merge = page.get_by_test_id("step-merge")
        expect(merge.get_by_label("waiting")).to_be_visible()
        expect(merge.locator(".spin")).to_have_count(0)
        expect(page.get_by_test_id("interrupted-badge")).to_have_count(0)
        expect(page.get_by_test_id("waiting-banner")).to_have_count(0)
        waiting = run_of_page(page, server, run_id)
        assert waiting["status"] == "waiting"
        assert waiting["waiting_for"]["kind"] == "approval"
        assert waiting["waiting_for"]["step_key"] == "merge"

        # A waiting run goes on by itself: no Resume is offered.
        page.get_by_role("button", name="Actions").click()
        expect(page.get_by_role("menuitem", name="Pause")).to_be_visible()
        expect(page.get_by_test_id("resume-action")).to_have_count(0)
        page.keyboard.press("Escape")

        card.get_by_label("Comment").fill("needs tests")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "run-approval.png"), full_page=True)
        card.get_by_role("button", name="Reject").click()
        expect(page.get_by_text("Rejected: the run goes on")).to_be_visible()
        expect(card).to_have_count(0)
        expect(status).to_have_text("completed", timeout=30_000)
        expect(page.get_by_test_id("step-revise")).to_contain_text("completed")
        expect(page.get_by_test_id("step-merge-it")).to_have_count(0)

        merge.click()
        expect(page.get_by_test_id("approval-decision")).to_have_text(
            re.compile(rf"^Rejected by {re.escape(EMAIL)}: needs tests")
        )
        events = page.get_by_role("region", name="Events")
        expect(events).to_contain_text(f"rejected by {EMAIL}: needs tests")
        expect(events).to_contain_text("workflow_waiting")
        page.screenshot(path=str(SCREENSHOTS / "run-approval-decided.png"), full_page=True)

        done = run_of_page(page, server, run_id)
        assert done["status"] == "completed"
        assert done["result"] == {"approved": False, "comment": "needs tests", "by": EMAIL}
        assert (project.root / "effects.log").read_text().splitlines() == [
            "prepare",
            "revised:needs tests",
        ]
        assert page.url == run_url
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        assert console_errors == [], console_errors
    finally:
        server.stop()
