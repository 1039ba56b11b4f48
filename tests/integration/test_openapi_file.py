"""The UI's API types are generated from web/openapi.json: it must be the server's document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_openapi_document_is_the_servers(tmp_path: Path) -> None:
    exported = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_openapi.py"), str(exported)],
        check=True,
        capture_output=True,
    )
    committed = json.loads((ROOT / "web" / "openapi.json").read_text())
    assert json.loads(exported.read_text()) == committed, "run `make openapi` and commit"
