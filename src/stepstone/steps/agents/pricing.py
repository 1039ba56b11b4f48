"""Dollars for the agents that report only tokens (Codex, Gemini).

List prices per million tokens, as published by their vendors when this table was written;
Claude Code reports its own cost, which is used as is. A model missing here has no cost
(None), never a guessed one.
"""

from __future__ import annotations

from typing import Any

# model: (input, cached input, output) in dollars per million tokens
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-5": (1.25, 0.125, 10.0),
    "gpt-5-codex": (1.25, 0.125, 10.0),
    "gpt-5-mini": (0.25, 0.025, 2.0),
    "gemini-2.5-pro": (1.25, 0.31, 10.0),
    "gemini-2.5-flash": (0.30, 0.075, 2.5),
}


def cost_usd(model: str | None, usage: dict[str, Any]) -> float | None:
    """What ``usage`` cost with ``model``; None for an unknown model. Cached input tokens
    are part of the input tokens, billed at the cached price."""
    if model is None or model not in PRICES:
        return None
    input_price, cached_price, output_price = PRICES[model]
    cached = int(usage["cached_input_tokens"])
    fresh = max(int(usage["input_tokens"]) - cached, 0)
    output = int(usage["output_tokens"])
    total = fresh * input_price + cached * cached_price + output * output_price
    return round(total / 1_000_000, 6)
