"""Process groups of steps, recognised again and ended after a crash."""

from __future__ import annotations

import os
import socket
import subprocess

from stepstone.steps.processes import (
    ProcessGroup,
    end_left_over,
    group_of,
    is_left_over,
    live_members,
    process_start,
)


def start_group() -> subprocess.Popen[bytes]:
    """A shell leading a group of its own, with a child in the same group."""
    return subprocess.Popen(["sh", "-c", "sleep 60 & wait"], start_new_session=True)


def test_a_process_start_names_that_process_and_no_other() -> None:
    assert process_start(os.getpid()) == process_start(os.getpid())
    child = subprocess.Popen(["true"])
    child.wait()
    assert process_start(child.pid) is None, "a process that is gone has no start"


def test_a_running_group_is_left_over_until_it_is_ended() -> None:
    leader = start_group()
    try:
        group = group_of(leader.pid)
        assert group.host == socket.gethostname()
        assert is_left_over(group)
        assert end_left_over(group, grace_seconds=2)
        leader.wait(timeout=5)
        assert live_members(group.group) == []
        assert not is_left_over(group)
        assert not end_left_over(group), "nothing left to end"
    finally:
        leader.kill()
        leader.wait()


def test_a_group_whose_leader_is_another_process_now_is_not_touched() -> None:
    leader = start_group()
    try:
        recorded = group_of(leader.pid)
        someone_else = ProcessGroup(recorded.host, recorded.group, "another-boot:1")
        assert not is_left_over(someone_else)
        assert not end_left_over(someone_else)
        assert leader.poll() is None, "the group was left alone"
        elsewhere = ProcessGroup("another-host", recorded.group, recorded.start)
        assert not is_left_over(elsewhere)
    finally:
        end_left_over(group_of(leader.pid), grace_seconds=1)
        leader.wait(timeout=5)


def test_a_group_that_lost_its_leader_is_still_left_over() -> None:
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 60 & echo $!; exit 0"], stdout=subprocess.PIPE, start_new_session=True
    )
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    leader.stdout.close()
    recorded = ProcessGroup(socket.gethostname(), leader.pid, process_start(leader.pid))
    leader.wait(timeout=5)
    assert live_members(recorded.group) == [child]
    assert is_left_over(recorded)
    assert end_left_over(recorded, grace_seconds=2)
    assert live_members(recorded.group) == []
