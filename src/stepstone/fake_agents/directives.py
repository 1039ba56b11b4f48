"""What a prompt tells a fake agent to do, so a test decides the course of a run.

A line that starts with ``@`` and a known name is a directive; every other line (an indented
one, a decorator in a quoted diff) is the task::

    @work <seconds>          run a tool (a child process) for that long
    @edit <path> <text...>   write the text plus a newline to <path> under the working folder
    @answer <text...>        the final answer (default: "Done: <first line of the task>")
    @fail <message...>       end the run as an error
    @tokens <input> <output> the usage to report

A resumed session replays its original prompt's directives except ``@work`` (the interrupted
work counts as done), then the new prompt's; where both say how the run ends or what it
used, the new prompt wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePosixPath

from stepstone.fake_agents.common import UsageError

DEFAULT_OUTPUT_TOKENS = 50


class DirectiveError(UsageError):
    """A directive the fake cannot follow: a mistake in the test that wrote the prompt."""


@dataclass(frozen=True)
class Work:
    """Run a tool for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Edit:
    """Write ``text`` plus a newline to ``path``, relative to the working folder."""

    path: str
    text: str


Action = Work | Edit


@dataclass(frozen=True)
class Outcome:
    """How a run ends: with ``error`` if set, else with the ``answer`` text."""

    answer: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Directives:
    task: str
    actions: tuple[Action, ...] = ()
    outcome: Outcome | None = None
    tokens: tuple[int, int] | None = None


@dataclass(frozen=True)
class Plan:
    """Everything one turn of a fake agent does, in order."""

    resumed: bool
    task_title: str
    actions: tuple[Action, ...]
    answer: str
    error: str | None
    input_tokens: int
    output_tokens: int


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise DirectiveError(f"@work needs a number of seconds, not {text!r}")
    return seconds


def _edit(text: str) -> Edit:
    path, _, content = text.partition(" ")
    parts = PurePosixPath(path).parts
    if not path or PurePosixPath(path).is_absolute() or ".." in parts:
        raise DirectiveError(f"@edit needs a path inside the working folder, not {path!r}")
    return Edit(path, content)


def _tokens(text: str) -> tuple[int, int]:
    words = text.split()
    if len(words) != 2 or not all(word.isdigit() for word in words):
        raise DirectiveError(f"@tokens needs two counts, input and output, not {text!r}")
    return int(words[0]), int(words[1])


def parse(prompt: str) -> Directives:
    """The directives and the task of ``prompt``; DirectiveError for a malformed directive."""
    task: list[str] = []
    actions: list[Action] = []
    outcome: Outcome | None = None
    tokens: tuple[int, int] | None = None
    for line in prompt.splitlines():
        name, _, rest = line.rstrip().partition(" ")
        rest = rest.strip()
        if name == "@work":
            actions.append(Work(_seconds(rest)))
        elif name == "@edit":
            actions.append(_edit(rest))
        elif name == "@answer":
            outcome = Outcome(answer=rest, error=outcome.error if outcome else None)
        elif name == "@fail":
            outcome = Outcome(answer=outcome.answer if outcome else None, error=rest)
        elif name == "@tokens":
            tokens = _tokens(rest)
        else:
            task.append(line)
    return Directives("\n".join(task).strip(), tuple(actions), outcome, tokens)


def plan(prompt: str, original_prompt: str | None = None) -> Plan:
    """The turn ``prompt`` asks for; with ``original_prompt``, the turn that continues the
    session that prompt started."""
    new = parse(prompt)
    if original_prompt is None:
        first, actions = new, new.actions
    else:
        first = parse(original_prompt)
        kept = tuple(action for action in first.actions if not isinstance(action, Work))
        actions = kept + new.actions
    outcome = new.outcome or first.outcome or Outcome()
    task_title = first.task.splitlines()[0] if first.task else ""
    input_tokens, output_tokens = (
        new.tokens
        or first.tokens
        or (
            len(prompt) // 4 + 100,
            DEFAULT_OUTPUT_TOKENS,
        )
    )
    return Plan(
        resumed=original_prompt is not None,
        task_title=task_title,
        actions=actions,
        answer=outcome.answer if outcome.answer is not None else f"Done: {task_title}",
        error=outcome.error,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
