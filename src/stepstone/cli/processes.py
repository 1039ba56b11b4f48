"""``stepstone worker``, ``serve`` and ``demo``: the long-running processes."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from stepstone.cli.common import console, database, err_console, make_worker, settings
from stepstone.settings import Settings
from stepstone.worker.worker import Worker


def worker(
    concurrency: Annotated[int | None, typer.Option(help="How many runs at once.", min=1)] = None,
) -> None:
    """Execute queued runs until stopped (Ctrl-C or SIGTERM leave running runs resumable)."""
    with database() as db:
        running = make_worker(db, concurrency)
        err_console.print(
            f"worker {running.worker_id} ({running.concurrency} at a time); Ctrl-C to stop",
            style="dim",
        )
        try:
            asyncio.run(_serve(running))
        except KeyboardInterrupt:
            pass
        finally:
            running.close()


async def _serve(running: Worker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await running.serve(stop)


HostOption = Annotated[str | None, typer.Option(help="Address to listen on [127.0.0.1].")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on [4101].")]


def _server_settings(host: str | None, port: int | None) -> Settings:
    configured = settings()
    return configured.model_copy(
        update={"host": host or configured.host, "port": configured.port if port is None else port}
    )


def serve(
    host: HostOption = None,
    port: PortOption = None,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Execute runs in this process too; --no-worker serves the API only.",
        ),
    ] = True,
) -> None:
    """The HTTP API and WebSocket, with a worker in the same process (unless --no-worker)."""
    from stepstone.cli.server import serve_forever

    serve_forever(_server_settings(host, port), console, with_worker=with_worker)


def demo(
    host: HostOption = None,
    port: PortOption = None,
    terminal: Annotated[
        bool, typer.Option(help="Run a sample workflow in this terminal instead of serving.")
    ] = False,
) -> None:
    """Serve with the sample project and a demo user (its password is printed once)."""
    if terminal:
        from stepstone.cli.demo import run_demo

        with database() as db:
            home = settings().home
            run_demo(db, home, lambda: make_worker(db, concurrency=1), console, err_console)
        return
    from stepstone.cli.server import serve_demo

    serve_demo(_server_settings(host, port), console)
