"""``@workflow`` and what it declares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from stepstone.engine.keys import slugify
from stepstone.errors import InvalidInput

if TYPE_CHECKING:
    from stepstone.engine.context import Context

WorkflowFunction = Callable[["Context"], Awaitable[Any]]
PhaseSpec = str | tuple[str, str]


@dataclass(frozen=True)
class Phase:
    id: str
    label: str


@dataclass(frozen=True)
class WorkflowDefinition:
    """A workflow as declared in a definition file."""

    id: str
    fn: WorkflowFunction
    name: str
    description: str | None = None
    phases: tuple[Phase, ...] = ()
    args_schema: dict[str, Any] | None = None
    timeout_seconds: float | None = None
    auto_resume: bool = False
    """Resume this workflow's interrupted runs without a click (SPEC 3.13)."""
    source_file: str | None = field(default=None, compare=False)

    async def __call__(self, ctx: Context) -> Any:
        return await self.fn(ctx)


def _phase(spec: PhaseSpec) -> Phase:
    if isinstance(spec, tuple):
        return Phase(slugify(spec[0]), spec[1])
    return Phase(slugify(spec), spec)


def _schema(args_schema: dict[str, Any] | type[BaseModel] | None) -> dict[str, Any] | None:
    if args_schema is None or isinstance(args_schema, dict):
        return args_schema
    if isinstance(args_schema, type) and issubclass(args_schema, BaseModel):
        return args_schema.model_json_schema()
    raise InvalidInput("args_schema must be a JSON Schema dict or a pydantic model class")


def workflow(
    *,
    id: str,
    name: str | None = None,
    description: str | None = None,
    phases: Sequence[PhaseSpec] = (),
    args_schema: dict[str, Any] | type[BaseModel] | None = None,
    timeout: float | None = None,
    auto_resume: bool = False,
) -> Callable[[WorkflowFunction], WorkflowDefinition]:
    """Declare an async function ``fn(ctx)`` as a workflow (SPEC 2)."""
    workflow_id = slugify(id)
    if workflow_id != id:
        raise InvalidInput(f"workflow id {id!r} must be kebab-case, like {workflow_id!r}")

    def decorate(fn: WorkflowFunction) -> WorkflowDefinition:
        return WorkflowDefinition(
            id=workflow_id,
            fn=fn,
            name=name or workflow_id,
            description=description or (fn.__doc__ or "").strip() or None,
            phases=tuple(_phase(p) for p in phases),
            args_schema=_schema(args_schema),
            timeout_seconds=timeout,
            auto_resume=auto_resume,
        )

    return decorate
