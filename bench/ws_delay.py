"""From a step's completion to its WebSocket message reaching a subscribed client.

A run of ``bench-ticks``: each step sleeps a little and returns ``time.time()`` at the moment
its function returns; that value is the step's output. A client subscribed to the project's
channel takes ``time.time()`` as each message arrives; for every
``workflow.run.step.updated`` whose ``changes.status`` is ``completed``, the delay is the
arrival time minus ``changes.output``. Client and server share the machine's clock. The
delay covers the engine recording the completion (a commit with ``fsync``), the live feed
reading the changed rows, and the message crossing the loopback WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.api_server import ApiServer
from bench.timing import percentile

TERMINAL = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class WsDelayResults:
    steps: int
    pause_seconds: float
    delays_ms: tuple[float, ...]
    """One per step whose completion arrived as ``workflow.run.step.updated``."""
    created_completed: int
    """Steps first announced by ``workflow.run.step.created`` already completed (the feed saw
    start and end in one look): not in ``delays_ms``."""
    missing: int
    """Steps whose completion never arrived."""
    run_seconds: float
    """From starting the run to its ``completed`` message arriving."""
    messages: int

    @property
    def p50_ms(self) -> float:
        return percentile(self.delays_ms, 0.50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.delays_ms, 0.99)

    @property
    def min_ms(self) -> float:
        return min(self.delays_ms)

    @property
    def max_ms(self) -> float:
        return max(self.delays_ms)


def measure_ws_delay(
    server: ApiServer, *, steps: int, pause_seconds: float, timeout: float = 120
) -> WsDelayResults:
    """Subscribe to the project, start a ``bench-ticks`` run of ``steps`` steps and time
    every step's completion message."""
    return asyncio.run(_measure(server, steps, pause_seconds, timeout))


async def _measure(
    server: ApiServer, steps: int, pause_seconds: float, timeout: float
) -> WsDelayResults:
    async with connect(server.ws_url, max_size=None) as websocket:
        channel = f"project:{server.project_id}"
        await websocket.send(json.dumps({"type": "subscribe", "channels": [channel]}))
        while json.loads(await websocket.recv()).get("type") != "subscribed":
            pass
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
            answer = await client.post(
                "/api/workflows",
                json={
                    "project_id": server.project_id,
                    "workflow": "bench-ticks",
                    "args": {"steps": steps, "pause_seconds": pause_seconds},
                },
            )
        if answer.status_code != 201:
            raise RuntimeError(f"starting bench-ticks answered {answer.status_code}")
        run_id = answer.json()["id"]
        # Messages can come before the run id does: keep them all, sort them out at the end.
        arrivals: list[tuple[float, dict[str, Any]]] = []
        async with asyncio.timeout(timeout):
            while True:
                raw = await websocket.recv()
                arrived = time.time()
                message = json.loads(raw)
                arrivals.append((arrived, message))
                if _run_ended(message, run_id):
                    break
        run_seconds = time.perf_counter() - started
    return _results(arrivals, run_id, steps, pause_seconds, run_seconds)


def _run_ended(message: dict[str, Any], run_id: str) -> bool:
    data = message.get("data") or {}
    return (
        message.get("type") == "workflow.run.updated"
        and data.get("run_id") == run_id
        and data.get("changes", {}).get("status") in TERMINAL
    )


def _results(
    arrivals: list[tuple[float, dict[str, Any]]],
    run_id: str,
    steps: int,
    pause_seconds: float,
    run_seconds: float,
) -> WsDelayResults:
    delays: dict[Any, float] = {}
    created_completed = 0
    for arrived, message in arrivals:
        data = message.get("data") or {}
        if data.get("run_id") != run_id:
            continue
        if message["type"] == "workflow.run.step.updated":
            changes = data["changes"]
            if changes.get("status") == "completed" and data["step_id"] not in delays:
                delays[data["step_id"]] = (arrived - float(changes["output"])) * 1000
        elif message["type"] == "workflow.run.step.created":
            created_completed += data["step"]["status"] == "completed"
    if not delays:
        raise RuntimeError("no step completion reached the WebSocket client")
    return WsDelayResults(
        steps=steps,
        pause_seconds=pause_seconds,
        delays_ms=tuple(delays.values()),
        created_completed=created_completed,
        missing=steps - len(delays) - created_completed,
        run_seconds=run_seconds,
        messages=len(arrivals),
    )
