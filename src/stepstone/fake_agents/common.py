"""What the three fake CLIs share: their state folder, argv splitting, JSON-lines output,
the call log and the session files.

Everything a fake keeps lives in one folder (:func:`state_dir`), so a test can read what an
agent was asked (``calls.jsonl``, written before anything else, so a killed run leaves it
too) and which sessions exist, the way the real CLIs keep transcripts on disk.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_DELAY_SECONDS = 0.05
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

Event = dict[str, Any]


class UsageError(Exception):
    """The command line is one the real CLI would refuse; ``exit_code`` is the one it uses."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def state_dir() -> Path:
    """The fakes' folder: ``$STEPSTONE_FAKE_AGENT_DIR``, else ``$STEPSTONE_HOME/fake-agents``,
    else ``~/.stepstone/fake-agents``; created when missing."""
    explicit = os.environ.get("STEPSTONE_FAKE_AGENT_DIR")
    if explicit:
        folder = Path(explicit)
    else:
        home = os.environ.get("STEPSTONE_HOME")
        folder = (Path(home) if home else Path.home() / ".stepstone") / "fake-agents"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds prompts: private
    return folder


def now_iso() -> str:
    """The current time the way the JavaScript CLIs print it: ``2025-10-10T12:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_uuid() -> str:
    return str(uuid.uuid4())


def is_uuid(text: str) -> bool:
    """True for a UUID in its canonical form (the form the CLIs accept as a session id)."""
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


@dataclass
class Args:
    """A command line split the way the CLIs' parsers split it, for the flags a fake reads."""

    values: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    positionals: list[str] = field(default_factory=list)

    def value(self, *names: str) -> str | None:
        """The value given to the first of ``names`` present (a flag and its aliases)."""
        return next((self.values[name] for name in names if name in self.values), None)

    def has(self, *names: str) -> bool:
        return any(name in self.flags or name in self.values for name in names)


def split_args(argv: list[str], value_flags: frozenset[str]) -> Args:
    """Flags in ``value_flags`` take the next argument (or ``--flag=value``); other flags take
    none; everything after ``--`` is positional. Unknown flags are kept but mean nothing, so a
    caller's extra options never shift the prompt."""
    args = Args()
    rest = iter(argv)
    for arg in rest:
        if arg == "--":
            args.positionals.extend(rest)
        elif arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            args.values[name] = value
        elif arg in value_flags:
            following = next(rest, None)
            if following is None:
                raise UsageError(f"error: option '{arg}' needs a value")
            args.values[arg] = following
        elif arg.startswith("-") and arg != "-":
            args.flags.add(arg)
        else:
            args.positionals.append(arg)
    return args


def read_prompt(positionals: list[str]) -> str:
    """The one positional argument, or stdin when there is none (or it is ``-``)."""
    if len(positionals) > 1:
        raise UsageError(f"error: expected one prompt argument, got {len(positionals)}")
    if not positionals or positionals[0] == "-":
        return sys.stdin.read()
    return positionals[0]


def emit(event: Event) -> None:
    """One event as one compact JSON line on stdout, flushed at once so a reader sees it
    while the agent still works; then a pause (``$STEPSTONE_FAKE_AGENT_DELAY`` seconds) so
    streaming is observable."""
    line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.buffer.write(line.encode() + b"\n")
    sys.stdout.buffer.flush()
    time.sleep(float(os.environ.get("STEPSTONE_FAKE_AGENT_DELAY", DEFAULT_DELAY_SECONDS)))


def log_call(
    state: Path, agent: str, argv: list[str], cwd: Path, session_id: str | None, resumed: bool
) -> None:
    """Append this invocation to ``calls.jsonl`` in one write, before any work, so even a run
    killed at once leaves its argv for a test to read."""
    record = {
        "agent": agent,
        "argv": argv,
        "cwd": str(cwd),
        "pid": os.getpid(),
        "session_id": session_id,
        "resumed": resumed,
        "time": now_iso(),
    }
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    descriptor = os.open(state / "calls.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


@dataclass
class Session:
    """A stored conversation: the original prompt, where it ran, and one entry per turn."""

    path: Path
    record: dict[str, Any]

    @property
    def original_prompt(self) -> str:
        return str(self.record["prompt"])

    def save(self) -> None:
        """Replace the file whole, so a reader never sees half a session."""
        _written_beside(self.path, self.record).replace(self.path)

    def end_turn(self, exit_code: int) -> None:
        self.record["turns"][-1].update(ended_at=now_iso(), exit_code=exit_code)
        self.save()


def _written_beside(path: Path, record: dict[str, Any]) -> Path:
    """``record`` written to a hidden file next to ``path``, ready to be moved into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    return temporary


def _session_path(state: Path, agent: str, session_id: str) -> Path:
    folder = state / "sessions"
    folder.mkdir(exist_ok=True)
    return folder / f"{agent}-{session_id}.json"


def _turn(prompt: str, resumed: bool) -> dict[str, Any]:
    return {"prompt": prompt, "resumed": resumed, "started_at": now_iso(), "exit_code": None}


def create_session(state: Path, agent: str, session_id: str, prompt: str, cwd: Path) -> Session:
    """A new session file holding its first turn; FileExistsError if the id is taken (checked
    and created in one step, so two runs can never both own an id)."""
    record = {
        "agent": agent,
        "session_id": session_id,
        "prompt": prompt,
        "cwd": str(cwd),
        "created_at": now_iso(),
        "turns": [_turn(prompt, resumed=False)],
    }
    session = Session(_session_path(state, agent, session_id), record)
    temporary = _written_beside(session.path, record)
    try:
        os.link(temporary, session.path)
    finally:
        temporary.unlink()
    return session


def resume_session(state: Path, agent: str, session_id: str, prompt: str) -> Session | None:
    """The stored session with a new turn added (and saved), or None if there is none."""
    if not _SAFE_ID.fullmatch(session_id):
        return None
    path = _session_path(state, agent, session_id)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    session = Session(path, record)
    record["turns"].append(_turn(prompt, resumed=True))
    session.save()
    return session
