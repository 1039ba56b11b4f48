"""Fixtures of the end-to-end tests: a real `stepstone serve` process and a client of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
