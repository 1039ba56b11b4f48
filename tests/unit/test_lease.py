from __future__ import annotations

import os
import socket
import subprocess
import time

from stepstone.store.leases import is_live, process_alive


def running_run(**overrides: object) -> dict[str, object]:
    run = {
        "status": "running",
        "lease_owner": "w1",
        "lease_expires_at": time.time() + 30,
        "owner_host": socket.gethostname(),
        "owner_pid": os.getpid(),
    }
    run.update(overrides)
    return run


def test_a_run_with_a_fresh_lease_and_a_living_owner_is_live() -> None:
    assert is_live(running_run())


def test_an_expired_lease_makes_the_run_orphaned_even_on_another_host() -> None:
    assert is_live(running_run(owner_host="elsewhere", owner_pid=1))
    assert not is_live(running_run(owner_host="elsewhere", lease_expires_at=time.time() - 1))


def test_a_dead_owner_on_this_host_orphans_the_run_before_its_lease_expires() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    assert not process_alive(child.pid)
    assert not is_live(running_run(owner_pid=child.pid))


def test_a_killed_but_unreaped_owner_counts_as_gone() -> None:
    child = subprocess.Popen(["sleep", "30"])
    child.kill()
    time.sleep(0.2)  # a zombie until waited for
    try:
        assert not process_alive(child.pid)
    finally:
        child.wait()


def test_only_running_runs_can_be_live() -> None:
    assert not is_live(running_run(status="paused"))
    assert not is_live(running_run(lease_owner=None))
