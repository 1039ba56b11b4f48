"""Fixtures of the end-to-end tests: a real `stepstone serve` process and a client of it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stepstone.api.app import WEB_UI_DIR
from stepstone.store.database import Database
from tests.e2e.server import Server, client_for
from tests.helpers import fake_agent_environment


@pytest.fixture
def fake_agent_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Stepstone processes a test starts run the fake agents (``stepstone.fake_agents``)."""
    for name, value in fake_agent_environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def server(home: Path, db: Database) -> Iterator[Server]:
    running = Server(home).start()
    yield running
    running.stop()


@pytest.fixture
def api(server: Server, db: Database) -> Iterator[httpx.Client]:
    """A client logged in as a user of the server."""
    client = client_for(server, db)
    yield client
    client.close()


ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_or_fail_without_a_browser() -> None:
    """UI tests need the built UI and Chromium: they must run in CI, elsewhere they skip."""
    missing = None
    if not (WEB_UI_DIR / "index.html").is_file():
        missing = "the UI is not built (make web)"
    elif not Path(CHROMIUM).exists():
        missing = "Chromium is not installed (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") and (ROOT / "web" / "package.json").is_file():
            pytest.fail(f"the UI test must run in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture
def browser_page() -> Iterator[object]:
    skip_or_fail_without_a_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(20_000)
        yield page
        browser.close()
