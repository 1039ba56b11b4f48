from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from stepstone.engine.loader import discover, load_definition
from stepstone.errors import InvalidInput

GOOD = """
from stepstone import workflow

@workflow(id="good-one", phases=["a", ("b", "Bee")])
async def good(ctx):
    return 1
"""


def write(root: Path, name: str, text: str) -> None:
    path = root / ".stepstone" / "workflows" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_discovery_finds_workflows_recursively_with_their_phases(tmp_path: Path) -> None:
    write(tmp_path, "nested/deep/good.py", GOOD)
    found = discover(tmp_path)
    definition = found.definitions["good-one"]
    assert [(p.id, p.label) for p in definition.phases] == [("a", "a"), ("b", "Bee")]
    assert found.errors == {}


def test_a_file_with_a_syntax_error_is_reported_alone_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "good.py", GOOD)
    write(tmp_path, "broken.py", "from stepstone import workflow\n\ndef oops(:\n")
    found = discover(tmp_path)
    assert list(found.definitions) == ["good-one"]
    error = found.errors[".stepstone/workflows/broken.py"]
    assert error.startswith("SyntaxError")
    assert "broken.py, line 3" in error


def test_an_exception_at_import_is_reported_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "raises.py", "x = 1\nraise RuntimeError('no config')\n")
    found = discover(tmp_path)
    assert found.errors[".stepstone/workflows/raises.py"] == (
        "RuntimeError: no config (raises.py, line 2)"
    )


def test_a_workflow_id_declared_twice_is_an_error_of_the_second_file(tmp_path: Path) -> None:
    write(tmp_path, "a.py", GOOD)
    write(tmp_path, "b.py", GOOD)
    found = discover(tmp_path)
    assert "declared again" in found.errors[".stepstone/workflows/b.py"]


def test_a_runs_workflow_is_loaded_afresh_or_refused_saying_why(tmp_path: Path) -> None:
    write(tmp_path, "flow.py", GOOD)
    flow = ".stepstone/workflows/flow.py"
    assert load_definition(str(tmp_path), flow, "good-one").id == "good-one"
    with pytest.raises(InvalidInput, match=r"flow\.py no longer declares workflow 'gone-one'"):
        load_definition(str(tmp_path), flow, "gone-one")
    write(tmp_path, "flow.py", "raise RuntimeError('no config')\n")
    with pytest.raises(InvalidInput, match=r"flow\.py failed to import: RuntimeError: no config"):
        load_definition(str(tmp_path), flow, "good-one")
    (tmp_path / flow).unlink()
    with pytest.raises(InvalidInput, match=r"flow\.py no longer exists"):
        load_definition(str(tmp_path), flow, "good-one")


def test_an_edit_that_keeps_the_size_and_modification_time_still_loads_the_new_code(
    tmp_path: Path,
) -> None:
    """Compiled code is reused only for the very same text of the file."""
    write(tmp_path, "flow.py", GOOD)
    path = tmp_path / ".stepstone" / "workflows" / "flow.py"
    before = path.stat()

    def result() -> object:
        definition = load_definition(str(tmp_path), ".stepstone/workflows/flow.py", "good-one")
        return asyncio.run(definition.fn(None))  # type: ignore[arg-type]  # it takes no ctx

    assert result() == 1
    assert result() == 1
    path.write_text(GOOD.replace("return 1", "return 2"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert result() == 2
