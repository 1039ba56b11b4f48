"""FeedState, the live feed's pure part: journal rows (plain dicts here) in, messages out."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

from stepstone.live.changes import RETAIN_SECONDS, STEP_MEMORY_SECONDS, FeedState, Rows
from stepstone.live.messages import MessageType, Outgoing
from stepstone.store.records import RunSummary, iso, run_summary_record

RUN, PROJECT, USER = "run-1", "project-1", "user-1"
T0 = 1_750_000_000.0
"""Row stamps of the tests that do not depend on the clock (leases do)."""

CREATED, UPDATED = MessageType.STEP_CREATED, MessageType.STEP_UPDATED
RUN_UPDATED, EVENT, LOG = MessageType.RUN_UPDATED, MessageType.EVENT_CREATED, MessageType.LOG_CHUNK


def run_row(status: str = "running", updated_at: float = T0, **columns: Any) -> dict[str, Any]:
    """A ``workflow_runs`` row, no worker holding it unless the lease columns say so."""
    return {
        "id": RUN, "project_id": PROJECT, "user_id": USER, "workflow_definition_id": "def-1",
        "workflow": "pair", "name": "Pair", "status": status, "args": "{}", "result": None,
        "spec_file": None, "spec_content": None, "spec_type": None, "planning_session_id": None,
        "mode": "worker", "base_branch": None, "branch_name": None, "worktree_name": None,
        "working_dir": "/tmp/project", "current_phase": None, "error_message": None,
        "resume_count": 0, "preserve": False, "budget_tokens": None, "pr_url": None,
        "forked_from_run_id": None, "forked_from_step": None,
        "lease_owner": None, "lease_expires_at": None, "owner_host": None,
        "owner_pid": None, "pause_requested": False, "cancel_requested": False,
        "created_at": T0, "started_at": None, "completed_at": None, "paused_at": None,
        "cancelled_at": None, "updated_at": updated_at, **columns,
    }  # fmt: skip


def step_row(
    step_id: int = 1, status: str = "running", updated_at: float = T0, **columns: Any
) -> dict[str, Any]:
    """A ``workflow_steps`` row joined with its run's project and user; an ended step has
    its output (JSON text) and completion time."""
    ended = status in ("completed", "failed")
    return {
        "id": step_id, "run_id": RUN, "project_id": PROJECT, "user_id": USER,
        "key": f"step-{step_id}", "name": f"Step {step_id}", "phase": None, "kind": "function",
        "status": status, "attempt": 1, "output": '"done"' if status == "completed" else None,
        "error_message": "boom" if status == "failed" else None, "wake_at": None,
        "session_id": None, "usage": None, "base_tree": None, "started_at": T0,
        "completed_at": updated_at if ended else None,
        "updated_at": updated_at, **columns,
    }  # fmt: skip


def event_row(event_id: int, type: str, created_at: float = T0) -> dict[str, Any]:
    """A ``run_events`` row joined with its run's project and user."""
    return {
        "id": event_id, "run_id": RUN, "project_id": PROJECT, "user_id": USER, "type": type,
        "message": None, "phase": None, "step_key": None, "reason": None, "dedupe_key": None,
        "created_at": created_at,
    }  # fmt: skip


def log_row(log_id: int, line: str, step_key: str = "step-1") -> dict[str, Any]:
    """A ``step_logs`` row joined with its run's project and user."""
    return {
        "id": log_id, "run_id": RUN, "project_id": PROJECT, "user_id": USER,
        "step_key": step_key, "phase": None, "stream": "stdout", "line": line, "created_at": T0,
    }  # fmt: skip


def look(
    state: FeedState,
    *,
    runs: Rows = (),
    steps: Rows = (),
    events: Rows = (),
    logs: Rows = (),
    now: float | None = T0,
) -> list[Outgoing]:
    """One look of the feed: the rows it read, and what it publishes."""
    return state.messages(runs, steps, events, logs, now=now)


def changes(message: Outgoing) -> dict[str, Any]:
    """What an update message says changed."""
    data: Any = message.data
    return dict(data["changes"])


def story(messages: list[Outgoing]) -> list[tuple[MessageType, str | None]]:
    """Each message's type, and the status it announces (if any)."""
    told = []
    for message in messages:
        data: Any = message.data
        told.append((message.type, (data.get("step") or data.get("changes") or {}).get("status")))
    return told


def run_statuses(messages: list[Outgoing]) -> list[str]:
    """The run statuses announced, in order."""
    return [status for kind, status in story(messages) if kind == RUN_UPDATED and status]


def test_a_step_first_seen_completed_is_announced_running_then_completed() -> None:
    state = FeedState()
    messages = look(state, steps=[step_row(status="completed", updated_at=T0 + 1)])

    assert story(messages) == [(CREATED, "running"), (UPDATED, "completed")]
    created: Any = messages[0].data
    assert created["step"]["output"] is None
    assert created["step"]["completed_at"] is None
    assert changes(messages[1]) == {
        "status": "completed",
        "output": "done",
        "completed_at": iso(T0 + 1),
    }


def test_a_step_seen_at_a_higher_attempt_is_sent_running_before_its_end() -> None:
    state = FeedState()
    look(state, steps=[step_row(status="failed", updated_at=T0 + 1)])
    retried = step_row(status="completed", attempt=2, started_at=T0 + 5, updated_at=T0 + 6)

    messages = look(state, steps=[retried], now=T0 + 6)

    assert story(messages) == [(UPDATED, "running"), (UPDATED, "completed")]
    assert changes(messages[0]) == {
        "status": "running",
        "attempt": 2,
        "error_message": None,
        "started_at": iso(T0 + 5),
        "completed_at": None,
    }


def test_a_step_row_read_again_unchanged_sends_nothing() -> None:
    state = FeedState()
    assert look(state, steps=[step_row()])
    assert look(state, steps=[step_row()]) == []


def test_run_statuses_go_out_with_their_events_in_order_though_the_row_is_ahead() -> None:
    state = FeedState()
    events = [
        event_row(1, "workflow_created"),
        event_row(2, "workflow_started"),
        event_row(3, "workflow_completed"),
    ]

    messages = look(state, runs=[run_row("completed", completed_at=T0 + 2)], events=events)

    assert run_statuses(messages) == ["pending", "running", "completed"]
    assert [m.type for m in messages] == [EVENT, RUN_UPDATED] * 3 + [RUN_UPDATED]
    assert "status" not in changes(messages[-1])
    assert changes(messages[-1])["completed_at"] == iso(T0 + 2)


def test_a_run_row_ahead_of_its_status_event_holds_the_status_until_the_event() -> None:
    state = FeedState()
    look(state, runs=[run_row("pending")], events=[event_row(1, "workflow_created")])

    early = look(state, runs=[run_row("running", updated_at=T0 + 1)])
    late = look(state, events=[event_row(2, "workflow_started")])

    assert early == []
    assert run_statuses(late) == ["running"]


def test_an_observed_run_sends_its_status_at_once_and_no_older_row_repeats_it() -> None:
    state = FeedState()
    look(state, runs=[run_row("running")], events=[event_row(1, "workflow_started")])
    paused = run_row("paused", paused_at=T0 + 10, updated_at=T0 + 10)

    now = state.observed(run_summary_record(paused))
    older = look(state, runs=[run_row("running", current_phase="build", updated_at=T0 + 5)])
    same = look(state, runs=[paused], events=[event_row(2, "workflow_paused")])

    assert run_statuses(now) == ["paused"]
    assert older == []
    assert story(same) == [(EVENT, None)]


def test_output_comes_before_its_steps_update_and_steps_before_the_runs_own() -> None:
    state = FeedState()
    look(state, runs=[run_row()], steps=[step_row()], events=[event_row(1, "workflow_started")])

    messages = look(
        state,
        runs=[run_row("completed", completed_at=T0 + 2, updated_at=T0 + 2)],
        steps=[step_row(status="completed", updated_at=T0 + 1)],
        events=[event_row(2, "workflow_completed", created_at=T0 + 2)],
        logs=[log_row(1, "a"), log_row(2, "b")],
    )

    assert [m.type for m in messages] == [LOG, UPDATED, EVENT, RUN_UPDATED, RUN_UPDATED]
    chunk: Any = messages[0].data
    assert (chunk["step_key"], [line["line"] for line in chunk["lines"]]) == ("step-1", ["a", "b"])
    assert run_statuses(messages) == ["completed"]


def test_a_run_whose_holder_died_is_announced_not_live_once() -> None:
    holder = subprocess.Popen(["sleep", "30"])
    try:
        stamp = time.time()
        running = run_row(
            lease_owner="w#1",
            lease_expires_at=stamp + 60,
            owner_host=socket.gethostname(),
            owner_pid=holder.pid,
            updated_at=stamp,
        )
        state = FeedState()
        sent = look(state, runs=[running], now=None)
        assert changes(sent[0])["is_live"] is True
        assert state.liveness_messages([running]) == []
    finally:
        holder.kill()
        holder.wait()

    assert [m.data for m in state.liveness_messages([running])] == [
        {"run_id": RUN, "project_id": PROJECT, "changes": {"is_live": False}}
    ]
    assert state.liveness_messages([running]) == []


def test_a_run_whose_lease_ran_out_is_announced_not_live_once() -> None:
    stamp = time.time()
    running = run_row(lease_owner="w#1", lease_expires_at=stamp + 60, owner_host="elsewhere")
    state = FeedState()
    look(state, runs=[running])

    assert [changes(m) for m in state.liveness_messages([running], now=stamp + 61)] == [
        {"is_live": False}
    ]
    assert state.liveness_messages([running], now=stamp + 62) == []


def test_liveness_is_told_only_of_runs_already_sent_whole() -> None:
    expired = run_row(lease_owner="w#1", lease_expires_at=T0 - 1, owner_host="elsewhere")
    state = FeedState()
    assert state.liveness_messages([expired], now=T0) == []  # never seen
    look(state)  # (the first look also sweeps what is quiet, which would hide the next one)
    look(state, events=[event_row(1, "workflow_started")])
    assert state.liveness_messages([expired], now=T0) == []  # seen through an event only


def test_a_step_quiet_past_step_memory_seconds_is_sent_whole_running_first_when_it_ends() -> None:
    state = FeedState()
    first = look(state, steps=[step_row(1)])
    later = T0 + STEP_MEMORY_SECONDS + 1
    look(state, steps=[step_row(2, updated_at=later)], now=later)  # step 1 is forgotten

    messages = look(state, steps=[step_row(1, status="completed", updated_at=later)], now=later)

    assert story(messages) == [(UPDATED, "running"), (UPDATED, "completed")]
    announced: Any = first[0].data
    assert changes(messages[0]) == announced["step"]


def test_runs_and_steps_quiet_past_retain_seconds_are_forgotten_and_sent_whole_again() -> None:
    state = FeedState()
    created = [event_row(1, "workflow_created")]
    look(state, runs=[run_row("pending")], steps=[step_row(1)], events=created)
    later = T0 + RETAIN_SECONDS + 1
    look(state, steps=[step_row(2, updated_at=later - 10)], now=later)  # the others move on

    messages = look(
        state,
        runs=[run_row("running", updated_at=later)],
        steps=[step_row(1, status="completed", updated_at=later)],
        now=later,
    )

    assert story(messages) == [
        (CREATED, "running"),
        (UPDATED, "completed"),
        (RUN_UPDATED, "running"),
    ]
    assert set(changes(messages[-1])) == set(RunSummary.__annotations__) - {"updated_at"}


def test_messages_carry_the_runs_user_and_its_channels_most_specific_first() -> None:
    state = FeedState()
    messages = look(
        state,
        runs=[run_row()],
        steps=[step_row(status="completed")],
        events=[event_row(1, "workflow_started"), event_row(2, "annotation")],
        logs=[log_row(1, "a")],
    )
    messages += state.observed(run_summary_record(run_row("paused", updated_at=T0 + 1)))

    assert {m.type for m in messages} == {CREATED, UPDATED, EVENT, RUN_UPDATED, LOG}
    assert all(m.channels == [f"run:{RUN}", f"project:{PROJECT}"] for m in messages)
    assert all(m.user_id == USER for m in messages)


def test_a_running_run_quiet_past_retain_seconds_is_still_told_when_its_holder_dies() -> None:
    stamp = time.time()
    running = run_row(
        lease_owner="w#1", lease_expires_at=stamp + 60, owner_host="elsewhere", updated_at=stamp
    )
    state = FeedState()
    look(state, runs=[running], now=stamp)
    later = stamp + RETAIN_SECONDS + 1
    look(state, now=later)  # the run is mid-sleep: its row does not change
    renewed = {**running, "lease_expires_at": later + 30}

    assert state.liveness_messages([renewed], now=later) == []  # still live
    dead = state.liveness_messages([renewed], now=later + 31)
    assert [changes(m) for m in dead] == [{"is_live": False}]
