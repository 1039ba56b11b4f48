"""Where the API's time goes under concurrent clients: ``python -m bench.profile_api
[get|resume|health] [concurrency] [requests]`` serves ``create_app`` with uvicorn in a thread
of this process, with a cProfile profiler in every thread the server starts (event loop,
request threads, worker and journal threads), sends a closed-loop load from a child process
(so the clients' Python does not compete for this process's GIL), and prints the merged
profile. Not part of ``make bench``; for whoever optimises the API.

The profilers slow the server down (often 2x or more), so read the split, not the times.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from bench.api_latency import closed_loop
from bench.api_server import PreparedHome, free_port, login, prepared_home, wait_for_health
from bench.harness import execute
from stepstone.api.app import create_app
from stepstone.services.runs import start_run
from stepstone.settings import Settings

TOP_FUNCTIONS = 30
GET_STEPS = 200

_profiles: list[cProfile.Profile] = []
_profiles_lock = threading.Lock()


def _profile_this_thread(_frame: FrameType, _event: str, _arg: Any) -> None:
    """Installed with ``threading.setprofile``: on a new thread's first event, replace
    itself with a cProfile profiler of that thread."""
    sys.setprofile(None)
    profile = cProfile.Profile()
    with _profiles_lock:
        _profiles.append(profile)
    profile.enable()


def _requests(prepared: PreparedHome, kind: str, count: int) -> list[tuple[str, str]]:
    """The requests to send, after preparing their runs in this process with the worker."""
    db, project, user = prepared.db, prepared.project_id, prepared.user_id
    if kind == "health":
        return [("GET", "/api/health")] * count
    if kind == "get":
        run = start_run(db, project, "bench-noop", args={"steps": GET_STEPS}, user_id=user)
        execute(db, str(run["id"]))
        return [("GET", f"/api/workflows/{run['id']}")] * count
    if kind == "resume":
        flag = prepared.root / "fail-flaky"
        flag.touch()
        run_ids = []
        for _ in range(count):
            run = start_run(db, project, "bench-flaky", args={"fail_flag": str(flag)}, user_id=user)
            execute(db, str(run["id"]))
            run_ids.append(str(run["id"]))
        flag.unlink()
        return [("POST", f"/api/workflows/{run_id}/resume") for run_id in run_ids]
    raise SystemExit(f"unknown kind {kind!r}: get, resume or health")


def _load_in_child(url: str, token: str, requests: list[tuple[str, str]], concurrency: int) -> Any:
    order = {"url": url, "token": token, "requests": requests, "concurrency": concurrency}
    child = subprocess.run(
        [sys.executable, "-m", "bench.profile_api", "--load"],
        input=json.dumps(order),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(child.stdout)


def _child_load() -> None:
    order = json.loads(sys.stdin.read())
    headers = {"Authorization": f"Bearer {order['token']}"}
    requests = [tuple(r) for r in order["requests"]]
    load = asyncio.run(closed_loop(order["url"], headers, requests, order["concurrency"], 120))
    print(
        json.dumps(
            {
                "requests": load.requests,
                "statuses": load.statuses,
                "p50_ms": load.p50_ms,
                "p99_ms": load.p99_ms,
                "per_second": load.per_second,
                "client_cpu_share": (load.client_cpu_seconds or 0.0) / load.wall_seconds,
            }
        )
    )


def main() -> None:
    if sys.argv[1:2] == ["--load"]:
        _child_load()
        return
    kind = sys.argv[1] if len(sys.argv) > 1 else "get"
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    with prepared_home() as prepared:
        requests = _requests(prepared, kind, count)
        port = free_port()
        settings = Settings(home=prepared.home, port=port)
        threading.setprofile(_profile_this_thread)  # before create_app: the journal thread
        app = create_app(settings, db=prepared.db)
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, name="uvicorn")
        thread.start()
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(url)
            token = login(url)
            started = time.perf_counter()
            result = _load_in_child(url, token, requests, concurrency)
            seconds = time.perf_counter() - started
        finally:
            server.should_exit = True
            thread.join()
            threading.setprofile(None)
    with _profiles_lock:
        profiles = list(_profiles)
    for profile in profiles:
        profile.disable()
    print(f"{kind}: {concurrency} clients, {result} in {seconds:.1f} s, under the profiler")
    print(f"threads profiled: {len(profiles)}")
    stats = pstats.Stats(profiles[0], stream=io.StringIO())
    for profile in profiles[1:]:
        stats.add(profile)
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.strip_dirs().sort_stats(sort).print_stats(TOP_FUNCTIONS)
        print(f"\n== every server thread, by {sort} ==")
        print(out.getvalue())


if __name__ == "__main__":
    main()
