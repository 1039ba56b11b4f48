"""What an agent step's attempt may write to the journal, bound to its step's record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepstone.steps.processes import ProcessGroup
from stepstone.store.journal import StepRecord

if TYPE_CHECKING:
    from stepstone.engine.executor import RunExecution


class AgentStepHost:
    """The :class:`stepstone.steps.agents.StepHost` of one attempt."""

    def __init__(self, execution: RunExecution, record: StepRecord) -> None:
        self._execution = execution
        self._record = record

    @property
    def session_id(self) -> str | None:
        return self._record.session_id

    @property
    def base_tree(self) -> str | None:
        return self._record.base_tree

    def log(self, stream: str, line: str) -> None:
        self._execution.log_line(stream, line)

    async def record_session(self, session_id: str) -> None:
        await self._execution.record_step_state(self._record, session_id=session_id)

    async def record_base_tree(self, tree: str) -> None:
        await self._execution.record_step_state(self._record, base_tree=tree)

    async def add_usage(self, usage: dict[str, Any]) -> None:
        await self._execution.add_usage(self._record, usage)

    async def check_budget(self) -> None:
        await self._execution.check_budget()

    async def record_process_group(self, group: ProcessGroup) -> None:
        await self._execution.record_process_group(group)

    async def save_diff(self, patch: str) -> None:
        await self._execution.save_step_diff(patch)
