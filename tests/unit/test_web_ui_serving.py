from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from stepstone.api.app import _serve_web_ui
from stepstone.api.errors import install_error_handlers


def built_ui(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "app.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    return root


def test_the_ui_routes_fall_back_to_index_html_and_files_are_served(tmp_path: Path) -> None:
    app = FastAPI()
    install_error_handlers(app)
    _serve_web_ui(app, built_ui(tmp_path / "webui"))
    client = TestClient(app)
    assert "id=root" in client.get("/").text
    assert "id=root" in client.get("/runs/123").text, "a UI route loads on refresh"
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/favicon.svg").text == "<svg/>"
    assert client.get("/api/nope").status_code == 404


def raw_get(app: FastAPI, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as given, straight into the ASGI app: HTTP clients (httpx, the
    browser) resolve "/../" before sending, a hostile client does not."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def exchange() -> None:
        answered = asyncio.Event()
        requests = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if requests:
                return requests.pop()
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await app(scope, receive, send)

    asyncio.run(asyncio.wait_for(exchange(), 10))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def test_a_path_that_climbs_out_of_the_ui_folder_gets_index_html_not_the_file(
    tmp_path: Path,
) -> None:
    app = FastAPI()
    install_error_handlers(app)
    _serve_web_ui(app, built_ui(tmp_path / "webui"))
    (tmp_path / "secret.txt").write_text("secret")
    assert raw_get(app, "/favicon.svg") == (200, b"<svg/>"), "the raw request reaches files"
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/" + str(tmp_path / "secret.txt")):
        status, body = raw_get(app, path)
        assert b"secret" not in body, path
        assert (status, b"id=root" in body) in ((200, True), (404, False)), path


def test_a_name_too_long_for_the_file_system_gets_index_html(tmp_path: Path) -> None:
    app = FastAPI()
    install_error_handlers(app)
    _serve_web_ui(app, built_ui(tmp_path / "webui"))
    answer = TestClient(app).get("/" + "a" * 300)
    assert answer.status_code == 200
    assert "id=root" in answer.text


def test_without_a_built_ui_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    _serve_web_ui(app, tmp_path / "missing")
    assert "make web" in TestClient(app).get("/").json()["ui"]
