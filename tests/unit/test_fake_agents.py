"""The fake agent CLIs speak their real CLI's headless syntax and event stream, and follow
the prompt's directives: each runs here as a real process, as the adapters will run it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stepstone.fake_agents import AGENTS, command, directives
from tests.helpers import wait_for

Event = dict[str, Any]


@dataclass
class Run:
    exit_code: int
    events: list[Event]
    stderr: str


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fakes' state folder; events come without pauses, to keep the tests fast."""
    folder = tmp_path / "fake-agents"
    monkeypatch.setenv("STEPSTONE_FAKE_AGENT_DIR", str(folder))
    monkeypatch.setenv("STEPSTONE_FAKE_AGENT_DELAY", "0")
    return folder


@pytest.fixture
def workdir(tmp_path: Path, state: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def run(agent: str, args: list[str], cwd: Path) -> Run:
    """Run a fake to its end; every line it printed must be one JSON object."""
    done = subprocess.run(
        [*command(agent), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
        check=False,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(isinstance(event, dict) and "type" in event for event in events), done.stdout
    return Run(done.returncode, events, done.stderr)


def start_args(agent: str, prompt: str, session_id: str | None = None) -> list[str]:
    """A new session in streaming mode, as an adapter starts one."""
    chosen = ["--session-id", session_id] if session_id else []
    if agent == "claude":
        return ["-p", "--output-format", "stream-json", "--verbose", *chosen, prompt]
    if agent == "codex":
        return ["exec", "--json", "--sandbox", "workspace-write", "--skip-git-repo-check", prompt]
    return ["-p", prompt, "--output-format", "stream-json", "--approval-mode", "yolo", *chosen]


def resume_args(agent: str, session_id: str, prompt: str) -> list[str]:
    if agent == "claude":
        return ["-p", "--output-format", "stream-json", "--verbose", "--resume", session_id, prompt]
    if agent == "codex":
        return ["exec", "--json", "resume", session_id, "--sandbox", "workspace-write", prompt]
    return ["--resume", session_id, "-p", prompt, "--output-format", "stream-json"]


def session_id_of(agent: str, events: list[Event]) -> str:
    """The id where the real CLI reveals it: the first event."""
    first = events[0]
    if agent == "codex":
        assert first["type"] == "thread.started"
        return str(first["thread_id"])
    assert first["type"] == ("system" if agent == "claude" else "init")
    return str(first["session_id"])


def said(agent: str, events: list[Event]) -> list[str]:
    """The assistant's texts, in order (Gemini's deltas joined between tool calls)."""
    if agent == "claude":
        return [
            block["text"]
            for event in events
            if event["type"] == "assistant"
            for block in event["message"]["content"]
            if block["type"] == "text"
        ]
    if agent == "codex":
        return [
            event["item"]["text"]
            for event in events
            if event["type"] == "item.completed" and event["item"]["type"] == "agent_message"
        ]
    texts = [""]
    for event in events:
        if event["type"] == "message" and event["role"] == "assistant":
            texts[-1] += event["content"]
        elif event["type"] == "tool_result":
            texts.append("")
    return [text for text in texts if text]


def final_text(agent: str, events: list[Event]) -> str:
    """Claude's ``result``, Codex's last message; Gemini's deltas have no message boundary,
    so its last paragraph (the fake starts each further message of a turn with one)."""
    if agent == "claude":
        assert events[-1]["type"] == "result"
        return str(events[-1]["result"])
    if agent == "codex":
        return said(agent, events)[-1]
    return said(agent, events)[-1].split("\n\n")[-1]


def commands_run(agent: str, events: list[Event]) -> list[str]:
    if agent == "claude":
        return [
            block["input"]["command"]
            for event in events
            if event["type"] == "assistant"
            for block in event["message"]["content"]
            if block["type"] == "tool_use" and block["name"] == "Bash"
        ]
    if agent == "codex":
        return [
            event["item"]["command"]
            for event in events
            if event["type"] == "item.started" and event["item"]["type"] == "command_execution"
        ]
    return [
        event["parameters"]["command"]
        for event in events
        if event["type"] == "tool_use" and event["tool_name"] == "run_shell_command"
    ]


def test_only_lines_starting_with_a_known_directive_are_directives() -> None:
    plan = directives.plan("Review this\n @work 5\n@workflow(name='x')\n@answer ok")
    assert plan.actions == ()
    assert plan.answer == "ok"


def calls(state: Path) -> list[Event]:
    return [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("agent", AGENTS)
def test_a_task_without_directives_ends_with_done_and_the_task(agent: str, workdir: Path) -> None:
    result = run(agent, start_args(agent, "Add a README\nwith a title"), workdir)
    assert result.exit_code == 0, result.stderr
    assert final_text(agent, result.events) == "Done: Add a README"


def test_claude_names_the_given_session_in_every_event(workdir: Path) -> None:
    session_id = str(uuid.uuid4())
    result = run("claude", start_args("claude", "@answer hi", session_id), workdir)
    assert session_id_of("claude", result.events) == session_id
    assert {event["session_id"] for event in result.events} == {session_id}
    assert result.events[0]["cwd"] == str(workdir)
    assert "rate_limit_event" in [event["type"] for event in result.events]


def test_codex_chooses_the_session_id_and_reveals_it_first(workdir: Path) -> None:
    result = run("codex", start_args("codex", "@answer hi"), workdir)
    assert uuid.UUID(session_id_of("codex", result.events))
    assert [event["type"] for event in result.events[1:2]] == ["turn.started"]


def test_gemini_names_the_given_session_in_init_and_stamps_every_event(workdir: Path) -> None:
    session_id = str(uuid.uuid4())
    result = run("gemini", start_args("gemini", "@answer hi", session_id), workdir)
    assert session_id_of("gemini", result.events) == session_id
    assert all("timestamp" in event for event in result.events)
    assert result.events[-1]["type"] == "result"


@pytest.mark.parametrize("agent", AGENTS)
def test_edit_writes_the_file_under_the_working_folder(agent: str, workdir: Path) -> None:
    result = run(agent, start_args(agent, "Greet\n@edit docs/hello.txt Hello,  world"), workdir)
    assert result.exit_code == 0, result.stderr
    assert (workdir / "docs" / "hello.txt").read_text() == "Hello,  world\n"
    assert str(workdir / "docs" / "hello.txt") in json.dumps(result.events), "shown as a tool"


def test_codex_works_in_the_folder_given_with_cd(workdir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ["exec", "--json", "-C", str(elsewhere), "@edit out.txt here"]
    assert run("codex", args, workdir).exit_code == 0
    assert (elsewhere / "out.txt").read_text() == "here\n"


@pytest.mark.parametrize("agent", AGENTS)
def test_answer_json_is_the_final_text(agent: str, workdir: Path) -> None:
    prompt = 'Review\n@answer {"approved": true, "summary": "ok"}'
    result = run(agent, start_args(agent, prompt), workdir)
    assert json.loads(final_text(agent, result.events)) == {"approved": True, "summary": "ok"}


@pytest.mark.parametrize("agent", AGENTS)
def test_fail_exits_1_with_the_clis_error_event(agent: str, workdir: Path) -> None:
    result = run(agent, start_args(agent, "Try\n@fail the tests do not pass"), workdir)
    assert result.exit_code == 1
    last = result.events[-1]
    if agent == "claude":
        assert (last["type"], last["subtype"], last["is_error"]) == (
            "result",
            "error_during_execution",
            True,
        )
        assert last["errors"] == ["the tests do not pass"]
    elif agent == "codex":
        assert last == {"type": "turn.failed", "error": {"message": "the tests do not pass"}}
    else:
        assert (last["type"], last["status"]) == ("result", "error")
        assert last["error"]["message"] == "the tests do not pass"


@pytest.mark.parametrize("agent", AGENTS)
def test_tokens_are_the_usage_reported(agent: str, workdir: Path) -> None:
    result = run(agent, start_args(agent, "Count\n@tokens 1000 200"), workdir)
    last = result.events[-1]
    if agent == "claude":
        assert last["usage"]["input_tokens"] == 1000
        assert last["usage"]["output_tokens"] == 200
        assert last["total_cost_usd"] == pytest.approx(1000 * 3e-6 + 200 * 15e-6)
    elif agent == "codex":
        assert last["usage"] == {
            "input_tokens": 1000,
            "cached_input_tokens": 0,
            "output_tokens": 200,
        }
    else:
        assert (last["stats"]["input_tokens"], last["stats"]["output_tokens"]) == (1000, 200)


@pytest.mark.parametrize("agent", AGENTS)
def test_resume_continues_the_session_without_repeating_the_work(
    agent: str, workdir: Path, state: Path
) -> None:
    first = run(
        agent, start_args(agent, "Fix it\n@work 0.2\n@answer first", str(uuid.uuid4())), workdir
    )
    session_id = session_id_of(agent, first.events)
    (work,) = commands_run(agent, first.events)
    assert "sleep 0.2" in work

    again = run(agent, resume_args(agent, session_id, "Go on\n@answer second"), workdir)
    assert again.exit_code == 0, again.stderr
    assert session_id_of(agent, again.events) == session_id
    assert commands_run(agent, again.events) == []
    assert said(agent, again.events)[0].startswith("Continuing the interrupted task: Fix it")
    assert final_text(agent, again.events) == "second", "the new prompt's directives win"
    assert len(list(state.glob("work-*.log"))) == 1
    last_call = calls(state)[-1]
    assert (last_call["session_id"], last_call["resumed"]) == (session_id, True)


@pytest.mark.parametrize("agent", AGENTS)
def test_resume_keeps_the_original_prompts_directives(agent: str, workdir: Path) -> None:
    prompt = "Review\n@edit notes.txt seen\n@answer approved"
    first = run(agent, start_args(agent, prompt, str(uuid.uuid4())), workdir)
    (workdir / "notes.txt").unlink()
    again = run(agent, resume_args(agent, session_id_of(agent, first.events), "Go on"), workdir)
    assert (workdir / "notes.txt").read_text() == "seen\n"
    assert final_text(agent, again.events) == "approved"


@pytest.mark.parametrize("agent", AGENTS)
def test_resume_of_an_unknown_session_fails_like_the_real_cli(
    agent: str, workdir: Path, state: Path
) -> None:
    unknown = str(uuid.uuid4())
    result = run(agent, resume_args(agent, unknown, "Go on"), workdir)
    assert result.exit_code == 1
    last = result.events[-1]
    if agent == "claude":
        assert (last["type"], last["is_error"]) == ("result", True)
        assert last["errors"] == [f"No conversation found with session ID: {unknown}"]
    else:
        assert last["type"] == "error"
        assert unknown in last["message"]
    assert calls(state)[-1]["resumed"] is True
    assert not (state / "sessions" / f"{agent}-{unknown}.json").exists()


@pytest.mark.parametrize("agent", ["claude", "gemini"])
def test_a_session_id_already_in_use_is_refused(agent: str, workdir: Path) -> None:
    session_id = str(uuid.uuid4())
    assert run(agent, start_args(agent, "@answer one", session_id), workdir).exit_code == 0
    again = run(agent, start_args(agent, "@answer two", session_id), workdir)
    assert again.exit_code == 1
    if agent == "claude":
        assert again.stderr.strip() == f"Error: Session ID {session_id} is already in use."
        assert again.events == []


def test_claude_refuses_stream_json_without_verbose(workdir: Path) -> None:
    result = run("claude", ["-p", "--output-format", "stream-json", "hi"], workdir)
    assert result.exit_code == 1
    assert "requires --verbose" in result.stderr


@pytest.mark.parametrize(
    ("agent", "args"),
    [
        (
            "claude",
            ["-p", "--max-turns", "3", "--allowedTools", "Bash", "--bare", "--", "@answer hi"],
        ),
        ("codex", ["exec", "-c", "model=x", "-m", "gpt-5", "--ephemeral", "--", "@answer hi"]),
        (
            "gemini",
            ["-m", "gemini-2.5-flash", "--include-directories", "a,b", "--prompt=@answer hi"],
        ),
    ],
)
def test_without_a_json_stream_only_the_final_text_is_printed(
    agent: str, args: list[str], workdir: Path
) -> None:
    """Unknown flags mean nothing, and flags with a value never take the prompt's place."""
    done = subprocess.run(
        [*command(agent), *args], cwd=workdir, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (0, "hi\n"), done.stderr


def test_claude_reads_the_prompt_from_stdin_when_none_is_given(workdir: Path) -> None:
    done = subprocess.run(
        [*command("claude"), "-p"],
        input="Tidy up\n",
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout == "Done: Tidy up\n"


def _read_until_tool_call(agent: subprocess.Popen[str]) -> None:
    """Read the stream up to the tool call (the line printed before the work starts)."""
    assert agent.stdout is not None
    for line in agent.stdout:
        if commands_run("claude", [json.loads(line)]):
            return
    raise AssertionError("the stream ended without a tool call")


def test_the_work_child_outlives_a_killed_agent_whose_session_stays_resumable(
    workdir: Path, state: Path
) -> None:
    session_id = str(uuid.uuid4())
    args = start_args("claude", "Build\n@work 1", session_id)
    # A group of its own, so the work child (which joins it) can be ended with it.
    argv = [*command("claude"), *args]
    with subprocess.Popen(
        argv, cwd=workdir, stdout=subprocess.PIPE, text=True, start_new_session=True
    ) as agent:
        try:
            _read_until_tool_call(agent)
            assert agent.poll() is None, "the tool call is streamed before the work ends"
            wait_for(lambda: any(state.glob("work-*.log")), timeout=10, what="the work log")
            log = next(state.glob("work-*.log"))
            child = int(log.stem.removeprefix("work-"))
            assert os.getpgid(child) == agent.pid, "the child stays in the agent's group"
            agent.kill()
            agent.wait()
            ticks = len(log.read_text().splitlines())
            wait_for(lambda: len(log.read_text().splitlines()) >= ticks + 2, timeout=5)
        finally:
            agent.kill()
            # The group the child was seen in: the agent's own, never the test's.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(agent.pid, signal.SIGKILL)
    assert calls(state)[-1]["argv"] == args, "logged before the work began"
    resumed = run("claude", resume_args("claude", session_id, "Continue"), workdir)
    assert resumed.exit_code == 0
    assert commands_run("claude", resumed.events) == []
