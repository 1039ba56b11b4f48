"""The HTTP API and WebSocket part of RESULTS.md: summary rows and round-by-round tables."""

from __future__ import annotations

from dataclasses import dataclass

from bench.api_latency import GetRunResults, Load, ResumeResults, pooled
from bench.timing import percentile
from bench.ws_delay import WsDelayResults

GET_P99_TARGET_MS = 50.0
WS_P99_TARGET_MS = 50.0
RESUME_P99_TARGET_MS = 100.0
SERVER_COMMAND = "python -m stepstone serve --port <free port>"


@dataclass(frozen=True)
class ApiResults:
    clients: int
    server_settings: str
    """What the server ran with (its defaults, unless the environment said otherwise)."""
    get: GetRunResults
    resume_serial: ResumeResults
    resume_rounds: list[ResumeResults]
    ws_rounds: list[WsDelayResults]
    seconds: float

    @property
    def resume_load(self) -> Load:
        return pooled([r.load for r in self.resume_rounds])

    @property
    def ws_delays_ms(self) -> tuple[float, ...]:
        return tuple(ms for r in self.ws_rounds for ms in r.delays_ms)


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _cpu(load: Load) -> str:
    ms = load.server_cpu_ms_per_request
    return "?" if ms is None else f"{ms:.2f}"


def _client_cpu(load: Load) -> str:
    if load.client_cpu_seconds is None:
        return "?"
    return f"{load.client_cpu_seconds / load.wall_seconds:.2f}"


def _answers(load: Load) -> str:
    return ", ".join(f"{status}: {count}" for status, count in sorted(load.statuses.items()))


def summary_rows(api: ApiResults) -> list[str]:
    """Rows for the summary table (``| measure | value | target | verdict |``)."""
    get, resume, clients = api.get.pooled, api.resume_load, api.clients
    floor = api.get.floor
    ws = api.ws_delays_ms
    ws_p99 = percentile(ws, 0.99)
    attempted = sum(r.load.requests for r in api.resume_rounds)
    return [
        f"| `GET /api/workflows/{{id}}`, {api.get.steps} completed steps, {clients} clients: "
        f"p50 | {get.p50_ms:.1f} ms | | |",
        f"| same: p99 | {get.p99_ms:.1f} ms | < {GET_P99_TARGET_MS:g} ms | "
        f"{_verdict(get.p99_ms < GET_P99_TARGET_MS)} |",
        f"| same: throughput ({get.requests:,} requests); one client alone: p50, p99 | "
        f"{get.per_second:.0f} req/s; {api.get.serial.p50_ms:.1f} ms, "
        f"{api.get.serial.p99_ms:.1f} ms | | |",
        f"| floor: `GET /api/health`, {clients} clients: p50, p99; throughput | "
        f"{floor.p50_ms:.1f} ms, {floor.p99_ms:.1f} ms; {floor.per_second:.0f} req/s | | |",
        f"| `POST /api/workflows/{{id}}/resume` of failed runs, {clients} clients: p50 | "
        f"{resume.p50_ms:.1f} ms | | |",
        f"| same: p99 | {resume.p99_ms:.1f} ms | < {RESUME_P99_TARGET_MS:g} ms | "
        f"{_verdict(resume.p99_ms < RESUME_P99_TARGET_MS)} |",
        f"| same: 200 answers | {resume.count(200):,} of {attempted:,} | all | "
        f"{_verdict(resume.count(200) == attempted)} |",
        f"| step completion → WebSocket message at a client ({len(ws)} steps): p50 | "
        f"{percentile(ws, 0.5):.1f} ms | | |",
        f"| same: p99 | {ws_p99:.1f} ms | < {WS_P99_TARGET_MS:g} ms | "
        f"{_verdict(ws_p99 < WS_P99_TARGET_MS)} |",
    ]


def _get_table(api: ApiResults) -> list[str]:
    lines = [
        "| batch | clients | requests | p50 ms | p99 ms | max ms | req/s | "
        "server CPU ms / request | client CPU, cores | answers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    batches = [
        ("floor: `GET /api/health`, one client", api.get.floor_serial),
        (f"floor: `GET /api/health`, {api.clients} clients", api.get.floor),
        ("the run, one client", api.get.serial),
    ]
    batches += [(f"the run, round {n}", load) for n, load in enumerate(api.get.rounds, start=1)]
    batches.append(("the run, rounds pooled", api.get.pooled))
    for name, load in batches:
        lines.append(
            f"| {name} | {load.concurrency} | {load.requests:,} | {load.p50_ms:.1f} "
            f"| {load.p99_ms:.1f} | {load.max_ms:.1f} | {load.per_second:.0f} | {_cpu(load)} "
            f"| {_client_cpu(load)} | {_answers(load)} |"
        )
    pooled_load = api.get.pooled
    lines += [
        "",
        f"The run's JSON is {api.get.body_bytes:,} bytes. With {api.clients} clients each "
        "sending its next request as soon as the last is answered, a request waits for the "
        f"others in flight: mean latency ≈ {api.clients} / throughput = "
        f"{api.clients * 1000 / pooled_load.per_second:.0f} ms at {pooled_load.per_second:.0f} "
        f"req/s (mean measured: {sum(pooled_load.latencies_ms) / pooled_load.requests:.0f} ms). "
        f"A p99 under {GET_P99_TARGET_MS:g} ms at {api.clients} clients needs about "
        f"{api.clients * 1000 / GET_P99_TARGET_MS:.0f} req/s or more.",
    ]
    return lines


def _resume_table(api: ApiResults) -> list[str]:
    lines = [
        "| batch | clients | runs | prepare s | p50 ms | p99 ms | max ms | req/s "
        "| server CPU ms / request | client CPU, cores | answers "
        "| first resume → all completed s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    batches = [("one client", api.resume_serial)]
    batches += [(f"round {n}", r) for n, r in enumerate(api.resume_rounds, start=1)]
    for name, r in batches:
        load = r.load
        lines.append(
            f"| {name} | {load.concurrency} | {r.runs:,} | {r.prepare_seconds:.1f} "
            f"| {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.max_ms:.1f} "
            f"| {load.per_second:.0f} | {_cpu(load)} | {_client_cpu(load)} | {_answers(load)} "
            f"| {r.drain_seconds:.1f} ({r.completed:,} completed) |"
        )
    lines += [
        "",
        "Server CPU per request here includes whatever the server's worker did during the "
        "batch, i.e. executing resumed runs; with one client most of each run's execution "
        "falls inside the batch, with many clients much of it comes after.",
    ]
    return lines


def ws_table(rounds: list[WsDelayResults]) -> list[str]:
    """One row per WebSocket delay round."""
    lines = [
        "| round | steps | sleep per step | completions as step.updated | as step.created "
        "| missing | p50 ms | p99 ms | min ms | max ms | run s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in enumerate(rounds, start=1):
        lines.append(
            f"| {n} | {r.steps} | {r.pause_seconds * 1000:g} ms | {len(r.delays_ms)} "
            f"| {r.created_completed} | {r.missing} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.min_ms:.1f} | {r.max_ms:.1f} | {r.run_seconds:.1f} |"
        )
    return lines


def sections(api: ApiResults) -> list[list[str]]:
    """The round-by-round sections of the report."""
    return [
        [
            "## HTTP API and WebSocket, round by round",
            "",
            f"One real server process, `STEPSTONE_HOME=<temporary folder> {SERVER_COMMAND}`, "
            f"with {api.server_settings}; every request crosses loopback TCP. Clients: "
            "asyncio tasks in the benchmark process, each with its own keep-alive HTTP/1.1 "
            "connection (the lean client of `bench/http_client.py`: `httpx.AsyncClient` "
            "costs about 3 ms of CPU per request at 50 connections and would measure itself), "
            "each sending its next request as soon as its last one is answered (a closed "
            "loop); a request's latency runs from writing it to having read its whole answer. "
            "The clients and the server share the machine's cores (client CPU is shown). API "
            f"part: {api.seconds:.0f} s.",
            "",
        ],
        [
            f"### `GET /api/workflows/{{id}}` of a completed run with {api.get.steps} steps",
            "",
            *_get_table(api),
            "",
        ],
        [
            "### `POST /api/workflows/{id}/resume`",
            "",
            "Each batch first starts its runs of `bench-flaky` through the API; the server's "
            "worker executes them and their one step fails while a flag file exists "
            "(*prepare*). The flag is removed, then every run is resumed once, each on its own "
            "request; meanwhile the server's worker claims and completes the resumed runs, "
            "which is part of the load.",
            "",
            *_resume_table(api),
            "",
        ],
        [
            "### Step completion → WebSocket message",
            "",
            "A client subscribed to `project:ID`; a run of `bench-ticks` whose steps sleep, "
            "then return `time.time()`. Delay = the message's arrival (`time.time()` in the "
            "client) minus the step's output, for each `workflow.run.step.updated` with "
            '`changes.status == "completed"`. It covers the completion\'s commit, the live '
            "feed's read and the WebSocket hop.",
            "",
            *ws_table(api.ws_rounds),
            "",
        ],
    ]
