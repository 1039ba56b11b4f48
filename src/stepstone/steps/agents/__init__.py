"""Coding agents as steps: Claude Code, Codex and Gemini CLI, run headless (SPEC 8)."""

from stepstone.steps.agents.runner import (
    ADAPTERS,
    AgentCall,
    AgentResult,
    StepHost,
    adapter_for,
    run_agent,
)

__all__ = ["ADAPTERS", "AgentCall", "AgentResult", "StepHost", "adapter_for", "run_agent"]
