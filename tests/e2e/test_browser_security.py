"""SPEC 9 in a real Chromium: the UI and the API docs work under the server's security
headers, load nothing from elsewhere, and the UI works through a configured host name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepstone.services.users import create_user
from stepstone.store.database import Database
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, skip_or_fail_without_a_browser
from tests.e2e.server import Server
from tests.e2e.test_ui import EMAIL, PASSWORD, collect_console_errors
from tests.helpers import Project, wait_for

CONFIGURED_NAME = "stepstone.test"


def test_the_api_docs_are_served_by_the_server_itself_under_its_policy(
    browser_page: Any, server: Server
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    errors = collect_console_errors(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Stepstone")
    expect(page.get_by_text("/api/auth/login").first).to_be_visible()
    assert errors == []
    assert requested
    assert all(url.startswith(server.url) for url in requested), requested


@pytest.fixture
def browser_resolving_the_configured_name() -> Iterator[Any]:
    """A Chromium that resolves ``stepstone.test`` to the loopback address."""
    skip_or_fail_without_a_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {CONFIGURED_NAME} 127.0.0.1"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def test_the_ui_signs_in_and_goes_live_through_a_configured_host_name(
    browser_resolving_the_configured_name: Any, home: Path, db: Database, make_project
) -> None:
    from playwright.sync_api import expect

    create_user(db, EMAIL, PASSWORD)
    project: Project = make_project(None, name="named-project")
    server = Server(home, env={"STEPSTONE_ALLOWED_HOSTS": CONFIGURED_NAME}).start()
    page = browser_resolving_the_configured_name
    errors = collect_console_errors(page)
    frames: list[str] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda f: frames.append(str(f))))
    try:
        url = f"http://{CONFIGURED_NAME}:{server.port}"
        page.goto(f"{url}/login")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{url}/")
        page.get_by_role("link", name=project.name).first.click()
        expect(page.get_by_role("heading", name=project.name)).to_be_visible()

        def subscribed() -> bool:
            page.wait_for_timeout(100)  # Playwright delivers events while it is called
            return any('"subscribed"' in str(frame) for frame in frames)

        wait_for(subscribed, 15, "the WebSocket to subscribe through the configured name")
        assert errors == []
    finally:
        server.stop()
