"""Write the API's OpenAPI document to web/openapi.json, from which the UI's client types are
generated (`npm run gen:api` in web/). Run after changing routes or schemas: `make openapi`."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from stepstone.api.app import create_app
from stepstone.settings import Settings

TARGET = Path(__file__).resolve().parent.parent / "web" / "openapi.json"


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        document = create_app(Settings(home=Path(home))).openapi()
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
