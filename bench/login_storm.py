"""Other users' requests while a storm of failed logins hits the server.

A failed login slows down the next ones (``stepstone.api.login_throttle``): per account and
per client address, attempts after a few failures wait (an asyncio sleep, no thread), and
the argon2 password checks run one at a time, so a storm of guesses should not take the CPU
from other users' requests. This measures that on a real server process of its own:

- a ``bench-noop`` run of ``STEPS`` steps, completed through the API, fetched with
  ``GET /api/workflows/{id}`` by ``CLIENTS`` closed-loop clients (the lean client of
  ``http_client.py``, logged in as the benchmark's user);
- *quiet*: ``QUIET_SECONDS`` of that load alone;
- *storm*: the same load and, ``LEAD_SECONDS`` in, a burst of ``FAILED_LOGINS`` concurrent
  ``POST /api/auth/login`` with a wrong password for a second user's email
  (``httpx.AsyncClient``, one connection each, from 127.0.0.1); ``RIGHT_LOGIN_AFTER_SECONDS``
  after the burst, while the failed ones are still in flight, one more with the right
  password. The storm window runs from the burst to the last of these answers.
- A third user logs in from another loopback address (``BYSTANDER_ADDRESS``, so neither
  its account nor its address has failures): ``BYSTANDER_QUIET_LOGINS`` times before the
  quiet load, and again and again through the storm; its logins show what the one-at-a-time
  password checks cost other users' logins.

Run alone with ``.venv/bin/python -m bench.login_storm``; ``make bench`` runs it on a server
of its own after the other API benchmarks (the storm leaves 127.0.0.1 throttled).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields

import httpx

from bench.api_latency import Load, completed_noop_run, process_cpu_seconds
from bench.api_report import GET_P99_TARGET_MS, SERVER_COMMAND
from bench.api_server import ApiServer, api_server
from bench.http_client import HttpConnection
from bench.timing import percentile
from stepstone.services.users import create_user

CLIENTS = 4
STEPS = 50
QUIET_SECONDS = 8.0
LEAD_SECONDS = 0.5
"""The storm's load runs alone this long before the burst, so every client is busy."""
WARMUP_REQUESTS = 50
FAILED_LOGINS = 30
RIGHT_LOGIN_AFTER_SECONDS = 1.0
"""Late enough for all the failed attempts to have reached the server."""
LOGIN_TIMEOUT_SECONDS = 120.0
TARGET_EMAIL = "storm-target@example.com"
TARGET_PASSWORD = "the-real-password-of-the-target"
WRONG_PASSWORD = "a-guess-that-is-wrong"
BYSTANDER_EMAIL = "bystander@example.com"
BYSTANDER_PASSWORD = "the-bystanders-own-password"
BYSTANDER_ADDRESS = "127.0.0.2"
BYSTANDER_QUIET_LOGINS = 3
BYSTANDER_PAUSE_SECONDS = 0.5


@dataclass(frozen=True)
class Sent:
    """One ``GET`` of the load: when it was written (``perf_counter``), how long it took."""

    at: float
    ms: float
    status: int


@dataclass(frozen=True)
class Login:
    status: int
    seconds: float
    """From sending the request to its answer."""
    at: float
    """When it was sent (``perf_counter``)."""


@dataclass(frozen=True)
class StormMeasurement:
    quiet: Load
    storm: Load
    """``GET``s sent from the burst to the last login's answer."""
    failed: tuple[Login, ...]
    right: Login
    bystander_quiet: tuple[Login, ...]
    bystander_storm: tuple[Login, ...]
    burst_at: float
    """When the failed logins were sent (``perf_counter``)."""


@dataclass(frozen=True)
class LoginStormResults(StormMeasurement):
    clients: int
    steps: int
    body_bytes: int
    seconds: float

    @property
    def p99_ratio(self) -> float:
        return self.storm.p99_ms / self.quiet.p99_ms

    @property
    def failed_statuses(self) -> dict[int, int]:
        return _statuses(self.failed)

    @property
    def all_failed_401(self) -> bool:
        return all(login.status == 401 for login in self.failed)


def _statuses(logins: Sequence[Login]) -> dict[int, int]:
    return dict(Counter(login.status for login in logins))


async def _get_loop(
    connections: Sequence[HttpConnection], path: str, stop: asyncio.Event
) -> list[Sent]:
    """Each connection sends its next ``GET path`` as soon as its last one is answered, until
    ``stop`` is set."""
    sent: list[Sent] = []

    async def one_client(connection: HttpConnection) -> None:
        while not stop.is_set():
            before = time.perf_counter()
            status, _body = await connection.request("GET", path)
            sent.append(Sent(before, (time.perf_counter() - before) * 1000, status))

    await asyncio.gather(*(one_client(c) for c in connections))
    return sent


def _window(
    sent: Sequence[Sent],
    start: float,
    end: float,
    clients: int,
    server_cpu: tuple[float | None, float | None],
) -> Load:
    """The requests sent from ``start`` to ``end`` as one ``Load``."""
    chosen = [s for s in sent if start <= s.at < end]
    if not chosen:
        raise RuntimeError("no request was sent in a window of the login storm")
    before, after = server_cpu
    return Load(
        concurrency=clients,
        latencies_ms=tuple(s.ms for s in chosen),
        statuses=dict(Counter(s.status for s in chosen)),
        wall_seconds=end - start,
        server_cpu_seconds=None if before is None or after is None else after - before,
    )


async def _login(client: httpx.AsyncClient, email: str, password: str) -> Login:
    before = time.perf_counter()
    answer = await client.post("/api/auth/login", json={"email": email, "password": password})
    seconds = time.perf_counter() - before
    if answer.status_code == 200 and not answer.json().get("token"):
        raise RuntimeError("a login answered 200 without a token")
    return Login(answer.status_code, seconds, before)


async def _bystander(client: httpx.AsyncClient, done: asyncio.Event) -> list[Login]:
    """Another user logging in from another address, again and again, until ``done``."""
    logins = [await _login(client, BYSTANDER_EMAIL, BYSTANDER_PASSWORD)]
    while not done.is_set():
        await asyncio.sleep(BYSTANDER_PAUSE_SECONDS)
        logins.append(await _login(client, BYSTANDER_EMAIL, BYSTANDER_PASSWORD))
    return logins


async def _measure(
    server: ApiServer, path: str, clients: int, quiet_seconds: float
) -> StormMeasurement:
    pid = server.process.pid
    connections = [HttpConnection(server.url, server.headers) for _ in range(clients)]
    limits = httpx.Limits(max_connections=FAILED_LOGINS + 1)
    storm_client = httpx.AsyncClient(
        base_url=server.url, timeout=LOGIN_TIMEOUT_SECONDS, limits=limits
    )
    bystander_client = httpx.AsyncClient(
        base_url=server.url,
        timeout=LOGIN_TIMEOUT_SECONDS,
        transport=httpx.AsyncHTTPTransport(local_address=BYSTANDER_ADDRESS),
    )
    try:
        bystander_quiet = [
            await _login(bystander_client, BYSTANDER_EMAIL, BYSTANDER_PASSWORD)
            for _ in range(BYSTANDER_QUIET_LOGINS)
        ]
        for connection in connections:  # open the connections, warm the server's cache
            for _ in range(WARMUP_REQUESTS // clients + 1):
                await connection.request("GET", path)

        stop = asyncio.Event()
        quiet_cpu = process_cpu_seconds(pid)
        quiet_start = time.perf_counter()
        load = asyncio.create_task(_get_loop(connections, path, stop))
        await asyncio.sleep(quiet_seconds)
        stop.set()
        quiet_sent = await load
        quiet = _window(
            quiet_sent,
            quiet_start,
            time.perf_counter(),
            clients,
            (quiet_cpu, process_cpu_seconds(pid)),
        )

        stop = asyncio.Event()
        load = asyncio.create_task(_get_loop(connections, path, stop))
        await asyncio.sleep(LEAD_SECONDS)
        storm_cpu = process_cpu_seconds(pid)
        burst_at = time.perf_counter()
        failed = asyncio.gather(
            *(_login(storm_client, TARGET_EMAIL, WRONG_PASSWORD) for _ in range(FAILED_LOGINS))
        )
        bystander = asyncio.create_task(_bystander(bystander_client, stop))
        await asyncio.sleep(RIGHT_LOGIN_AFTER_SECONDS)
        right = await _login(storm_client, TARGET_EMAIL, TARGET_PASSWORD)
        failed_logins = await failed
        storm_end = time.perf_counter()
        storm_end_cpu = process_cpu_seconds(pid)
        stop.set()
        storm_sent = await load
        bystander_storm = await bystander
    finally:
        await asyncio.gather(*(c.close() for c in connections))
        await storm_client.aclose()
        await bystander_client.aclose()
    storm = _window(storm_sent, burst_at, storm_end, clients, (storm_cpu, storm_end_cpu))
    return StormMeasurement(
        quiet,
        storm,
        tuple(failed_logins),
        right,
        tuple(bystander_quiet),
        tuple(bystander_storm),
        burst_at,
    )


def measure_login_storm(
    *, clients: int = CLIENTS, steps: int = STEPS, quiet_seconds: float = QUIET_SECONDS
) -> LoginStormResults:
    """Start a server, complete a run, then time its ``GET`` quiet and through the storm."""
    started = time.perf_counter()
    with api_server() as server:
        create_user(server.db, TARGET_EMAIL, TARGET_PASSWORD)
        create_user(server.db, BYSTANDER_EMAIL, BYSTANDER_PASSWORD)
        path, body_bytes = completed_noop_run(server, steps)
        measured = asyncio.run(_measure(server, path, clients, quiet_seconds))
    return LoginStormResults(
        **{field.name: getattr(measured, field.name) for field in fields(measured)},
        clients=clients,
        steps=steps,
        body_bytes=body_bytes,
        seconds=time.perf_counter() - started,
    )


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _answers(statuses: dict[int, int]) -> str:
    return ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))


def _cores(load: Load) -> str:
    if load.server_cpu_seconds is None:
        return "?"
    return f"{load.server_cpu_seconds / load.wall_seconds:.2f}"


def _seconds(logins: Sequence[Login]) -> list[float]:
    return [login.seconds for login in logins]


def summary_rows(r: LoginStormResults) -> list[str]:
    """Rows for the summary table (``| measure | value | target | verdict |``)."""
    failed = len(r.failed)
    quiet_login = statistics.median(_seconds(r.bystander_quiet))
    storm_logins = _seconds(r.bystander_storm)
    return [
        f"| `GET /api/workflows/{{id}}`, {r.steps} steps, {r.clients} clients, quiet: "
        f"p50, p99 | {r.quiet.p50_ms:.1f} ms, {r.quiet.p99_ms:.1f} ms | | |",
        f"| same, while {failed} failed logins are in flight: p50, p99 | "
        f"{r.storm.p50_ms:.1f} ms, {r.storm.p99_ms:.1f} ms | p99 < {GET_P99_TARGET_MS:g} ms | "
        f"{_verdict(r.storm.p99_ms < GET_P99_TARGET_MS)} |",
        f"| same: p99 storm / quiet | {r.p99_ratio:.2f}x | | |",
        f"| {failed} concurrent failed logins (wrong password, one account): answers | "
        f"{_answers(r.failed_statuses)} | all 401 | {_verdict(r.all_failed_401)} |",
        f"| that account's right password, sent during the storm: answer, time | "
        f"{r.right.status} in {r.right.seconds:.1f} s | 200 | "
        f"{_verdict(r.right.status == 200)} |",
        f"| another user's login from another address: quiet; during the storm, median "
        f"(max) | {quiet_login:.2f} s; {statistics.median(storm_logins):.2f} s "
        f"({max(storm_logins):.2f} s) | | |",
    ]


def section(r: LoginStormResults) -> list[str]:
    """The report's section: the load's windows, then the logins."""
    failed = len(r.failed)
    lines = [
        "## Other users' requests during a failed-login storm",
        "",
        f"A server of its own (`{SERVER_COMMAND}`, default settings) with two more users. "
        f"`GET /api/workflows/{{id}}` of a completed `bench-noop` run of {r.steps} steps "
        f"({r.body_bytes:,} bytes) from {r.clients} closed-loop clients logged in as the "
        "benchmark's user: first alone (*quiet*), then with the storm: "
        f"{LEAD_SECONDS:g} s into the load, {failed} concurrent `POST /api/auth/login` with a "
        "wrong password for the second user (`httpx.AsyncClient`, one connection each, from "
        f"127.0.0.1), and {RIGHT_LOGIN_AFTER_SECONDS:g} s later, while they are in flight, one "
        "with that user's right password. The storm window runs from the burst to the last of "
        "these answers; a request counts in the window in which it was sent. Server CPU: the "
        "server process's user + system time over the window, in cores. Meanwhile the third "
        f"user logs in from {BYSTANDER_ADDRESS} (no failures on its account or address) "
        f"again and again, {BYSTANDER_PAUSE_SECONDS:g} s apart ({len(r.bystander_quiet)} "
        f"times before the quiet load for comparison). Part: {r.seconds:.0f} s.",
        "",
        "| window | s | requests | p50 ms | p99 ms | max ms | req/s | server CPU, cores "
        "| answers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, load in [("quiet", r.quiet), ("storm", r.storm)]:
        lines.append(
            f"| {name} | {load.wall_seconds:.1f} | {load.requests:,} | {load.p50_ms:.1f} "
            f"| {load.p99_ms:.1f} | {load.max_ms:.1f} | {load.per_second:.0f} | {_cores(load)} "
            f"| {_answers(load.statuses)} |"
        )
    lines += [
        "",
        f"p99 storm / quiet: {r.p99_ratio:.2f}x (the API bench's target for this request: "
        f"p99 < {GET_P99_TARGET_MS:g} ms).",
        "",
        "| logins | count | answers | min s | median s | p90 s | max s |",
        "|---|---|---|---|---|---|---|",
    ]
    logins = [
        (f"wrong password, second user, {failed} at once", r.failed),
        (f"right password, second user, {RIGHT_LOGIN_AFTER_SECONDS:g} s after them", (r.right,)),
        ("third user, before the quiet load", r.bystander_quiet),
        ("third user, during the storm", r.bystander_storm),
    ]
    for name, group in logins:
        seconds = _seconds(group)
        lines.append(
            f"| {name} | {len(group)} | {_answers(_statuses(group))} | {min(seconds):.2f} "
            f"| {statistics.median(seconds):.2f} | {percentile(seconds, 0.9):.2f} "
            f"| {max(seconds):.2f} |"
        )
    slowest = max(r.bystander_storm, key=lambda login: login.seconds)
    lines += [
        "",
        "A login's time runs from sending it to its answer: the throttle's wait, then the "
        "queue for the one password check at a time, then the check. The third user's "
        f"slowest login during the storm was sent {slowest.at - r.burst_at:.1f} s after the "
        f"burst and answered {slowest.at + slowest.seconds - r.burst_at:.1f} s after it; the "
        f"last failed login answered {max(f.at + f.seconds for f in r.failed) - r.burst_at:.1f}"
        " s after it.",
        "",
    ]
    return lines


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    """Measure once and print the section (with the load average before and after)."""
    load_before = _load_average()
    results = measure_login_storm()
    load_after = _load_average()
    print("| measure | value | target | verdict |")
    print("|---|---|---|---|")
    print("\n".join(summary_rows(results)))
    print()
    print("\n".join(section(results)))
    print(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}.")


if __name__ == "__main__":
    main()
