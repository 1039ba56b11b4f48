"""Finding and importing definition files (``<project>/.stepstone/workflows/**/*.py``).

Each import gets a fresh module, so a run always executes the file's current code, and an
import error is reported for its file alone. What is cached is only the compiling of a file's
exact text (a worker imports a definition for every run it executes).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType

from stepstone.engine.definition import WorkflowDefinition
from stepstone.errors import InvalidInput

WORKFLOWS_DIR = Path(".stepstone") / "workflows"
_module_counter = itertools.count()
COMPILED_SOURCES_KEPT = 64


@dataclass
class Discovery:
    definitions: dict[str, WorkflowDefinition] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def describe_import_error(exc: BaseException, path: Path) -> str:
    """One line naming the error and, when known, the line in the definition file."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} ({path.name}, line {exc.lineno})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    where = f" ({path.name}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def load_file(path: Path) -> list[WorkflowDefinition]:
    """Import ``path`` afresh and return the workflows it declares; raises what the import
    raises."""
    module_name = f"_stepstone_definitions_{next(_module_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    code = _compiled(path.read_bytes(), str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pydantic look their module up
    try:
        exec(code, module.__dict__)  # running the definition file is the point
    finally:
        del sys.modules[module_name]
    found = []
    for value in vars(module).values():
        if isinstance(value, WorkflowDefinition):
            found.append(_with_source(value, path))
    return found


@functools.lru_cache(maxsize=COMPILED_SOURCES_KEPT)
def _compiled(source: bytes, filename: str) -> CodeType:
    """The code of ``source`` (the file's exact bytes: an edit, however small, compiles
    again)."""
    return compile(source, filename, "exec", dont_inherit=True)


def _with_source(definition: WorkflowDefinition, path: Path) -> WorkflowDefinition:
    from dataclasses import replace

    return replace(definition, source_file=str(path))


def files_signature(project_path: Path) -> str:
    """A digest of the definition files' names, sizes and modification times: it changes
    whenever a file is added, removed or edited. A name that cannot be read (a link to
    nothing, a loop of links) counts by its name: importing it reports the error."""
    root = project_path / WORKFLOWS_DIR
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
        try:
            stat = path.stat()
        except OSError as exc:
            seen = type(exc).__name__
        else:
            seen = f"{stat.st_size}:{stat.st_mtime_ns}"
        digest.update(f"{path.relative_to(root)}:{seen}\n".encode())
    return digest.hexdigest()


def discover(project_path: Path) -> Discovery:
    """Every workflow of the project; files that fail to import are listed in ``errors``."""
    result = Discovery()
    root = project_path / WORKFLOWS_DIR
    for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
        relative = str(path.relative_to(project_path))
        try:
            definitions = load_file(path)
        except Exception as exc:
            result.errors[relative] = describe_import_error(exc, path)
            continue
        for definition in definitions:
            if definition.id in result.definitions:
                other = result.definitions[definition.id].source_file
                result.errors[relative] = (
                    f"workflow id {definition.id!r} is declared again (first in {other})"
                )
                continue
            result.definitions[definition.id] = definition
    return result


def load_definition(project_path: str, file_path: str, workflow_id: str) -> WorkflowDefinition:
    """The current code of a run's workflow, imported afresh from its file; InvalidInput
    says why it cannot be had (the file is gone, fails to import, or no longer declares
    the workflow)."""
    path = Path(project_path) / file_path
    if not path.is_file():
        raise InvalidInput(f"definition file {file_path} no longer exists")
    try:
        definitions = load_file(path)
    except Exception as exc:
        error = describe_import_error(exc, path)
        raise InvalidInput(f"{file_path} failed to import: {error}") from exc
    for definition in definitions:
        if definition.id == workflow_id:
            return definition
    raise InvalidInput(f"{file_path} no longer declares workflow {workflow_id!r}")
