from __future__ import annotations

from pathlib import Path

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
    (tmp_path / "secret.txt").write_text("secret")
    # httpx would resolve a literal "/../" before sending; the encoded slash reaches the app
    # as the path "../secret.txt".
    assert "id=root" in client.get("/..%2Fsecret.txt").text, "no file outside the UI"


def test_without_a_built_ui_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    _serve_web_ui(app, tmp_path / "missing")
    assert "make web" in TestClient(app).get("/").json()["ui"]
