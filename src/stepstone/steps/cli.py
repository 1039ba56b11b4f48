"""Shell commands as steps: own process group, live output, killed with their children."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from stepstone.steps.processes import ProcessGroup, group_of

OUTPUT_TAIL_BYTES = 64 * 1024
MAX_LINE_BYTES = 64 * 1024
KILL_GRACE_SECONDS = 3.0
OUTPUT_DRAIN_SECONDS = 2.0
EXIT_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1

LineSink = Callable[[str, str], None]
"""Receives ``(stream, line)`` for each line a command prints."""


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class _Tail:
    """The last ``OUTPUT_TAIL_BYTES`` of a stream, whole lines."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque()
        self._size = 0

    def add(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line) + 1
        while self._size > OUTPUT_TAIL_BYTES and len(self._lines) > 1:
            self._size -= len(self._lines.popleft()) + 1

    def text(self) -> str:
        return "\n".join(self._lines)


def _child_setup() -> None:
    # Own process group, so cancel can kill the command and everything it started.
    os.setsid()
    if sys.platform == "linux":
        # If the worker dies (even by kill -9), the command's shell dies with it instead of
        # running on unobserved.
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


async def _pump(stream: asyncio.StreamReader, name: str, tail: _Tail, sink: LineSink) -> None:
    pending = b""
    while chunk := await stream.read(65536):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > MAX_LINE_BYTES:  # output without newlines (binary, progress bars)
            lines.append(pending)
            pending = b""
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\r")
            tail.add(line)
            sink(name, line)
    if pending:
        line = pending.decode(errors="replace")
        tail.add(line)
        sink(name, line)


def kill_process_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


async def run_command(
    command: str | Sequence[str],
    *,
    cwd: str,
    env: Mapping[str, str] | None,
    sink: LineSink,
    on_start: Callable[[ProcessGroup], Awaitable[None]] | None = None,
) -> CliResult:
    """Run ``command`` (a shell string or an argv list) to its end, streaming its lines to
    ``sink``; processes it leaves in the background are killed when it exits. If the calling
    task is cancelled (cancel, timeout), the command's whole process group is terminated,
    then killed, before the cancellation goes on. ``on_start`` is told the command's process
    group as soon as it exists."""
    full_env = {**os.environ, **(env or {})}
    pipe = asyncio.subprocess.PIPE
    if isinstance(command, str):
        proc = await asyncio.create_subprocess_shell(
            command, cwd=cwd, env=full_env, preexec_fn=_child_setup, stdout=pipe, stderr=pipe
        )
    else:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, env=full_env, preexec_fn=_child_setup, stdout=pipe, stderr=pipe
        )
    assert proc.stdout is not None
    assert proc.stderr is not None
    if on_start is not None:
        try:
            await on_start(group_of(proc.pid))
        except BaseException:
            await _terminate(proc)
            raise
    stdout, stderr = _Tail(), _Tail()
    pumps = asyncio.gather(
        _pump(proc.stdout, "stdout", stdout, sink),
        _pump(proc.stderr, "stderr", stderr, sink),
    )
    try:
        # Usually the output ends when the command does. A process it left in the background
        # keeps the pipes open (and Process.wait() waits for them), so watch its exit code.
        while not pumps.done() and proc.returncode is None:
            await asyncio.wait({pumps}, timeout=EXIT_POLL_SECONDS)
        if not pumps.done():
            # asyncio.timeout, not wait_for, which in Python 3.11 can drop a cancel (of the
            # step) that comes as the output ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(OUTPUT_DRAIN_SECONDS):
                    await asyncio.shield(pumps)
        # What the command left running ends with it (its pipes then close).
        kill_process_group(proc.pid)
        await pumps
        exit_code = await proc.wait()
    except BaseException:
        await _terminate(proc)
        pumps.cancel()
        await asyncio.gather(pumps, return_exceptions=True)
        raise
    return CliResult(exit_code=exit_code, stdout=stdout.text(), stderr=stderr.text())


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    kill_process_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(proc.wait()), KILL_GRACE_SECONDS)
    # Children that ignored SIGTERM, or outlived the shell, go too.
    kill_process_group(proc.pid)
    await proc.wait()
