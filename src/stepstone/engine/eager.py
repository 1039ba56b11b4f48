"""Running a coroutine eagerly: its first slice now, in the caller, the rest awaited later.

A step whose function never waits (an async function that computes a value) is done after
its first slice, and can be recorded with one commit instead of two (executor.py). One that
waits hands what it waits on back to the event loop through :func:`finish`, in the caller's
task, so cancellation and timeouts reach it as if it had been awaited from the start.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FirstSlice:
    """How a coroutine's first slice ended: ``done`` with ``value``, ``error`` raised, or
    waiting on ``awaited`` (what it gave the event loop)."""

    done: bool = False
    value: Any = None
    error: Exception | None = None
    awaited: Any = None


def run_first_slice(coro: Coroutine[Any, Any, Any]) -> FirstSlice:
    """Run ``coro`` until it first waits, returns or raises."""
    try:
        return FirstSlice(awaited=coro.send(None))
    except StopIteration as stop:
        return FirstSlice(done=True, value=stop.value)
    except Exception as exc:
        return FirstSlice(error=exc)


@types.coroutine
def finish(coro: Coroutine[Any, Any, Any], awaited: Any) -> Generator[Any, Any, Any]:
    """Await the rest of ``coro``, whose first slice gave the event loop ``awaited``."""
    while True:
        try:
            sent = yield awaited
        except BaseException as exc:  # thrown in by the task: a cancellation, a timeout
            try:
                awaited = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                awaited = coro.send(sent)
            except StopIteration as stop:
                return stop.value
