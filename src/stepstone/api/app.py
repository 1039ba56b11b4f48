"""The HTTP server: API, WebSocket and the in-process worker (``stepstone serve``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import TypeAdapter

from stepstone.api import ws
from stepstone.api.auth import TokenAuth, TokenIssuer, signing_secret
from stepstone.api.errors import install_error_handlers
from stepstone.api.guards import RequestGuards
from stepstone.api.login_throttle import LoginThrottle
from stepstone.api.routes import auth, projects, runs
from stepstone.api.run_cache import RunCache
from stepstone.api.schemas import error_responses
from stepstone.errors import NotFound
from stepstone.live.bus import EventBus
from stepstone.live.feed import ChangeFeed
from stepstone.live.messages import LiveMessage
from stepstone.services.projects import sync_all_definitions
from stepstone.settings import Settings
from stepstone.store.database import Database

API_VERSION = "0.1.0"


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids: the route function's name (``resume_run``, ``list_projects``)."""
    return route.name


def _complete_the_document(app: FastAPI) -> None:
    """Two corrections to what FastAPI generates. It documents a 422 for every body; this
    API answers bad input with 400 and the one error shape (see errors.py), so the document
    says that instead. And the WebSocket's messages (``LiveMessage`` and its payloads) join
    the components, so clients generate their types too."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document["paths"].values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            live = TypeAdapter(LiveMessage).json_schema(ref_template="#/components/schemas/{model}")
            for name, schema in {**live.pop("$defs"), "LiveMessage": live}.items():
                schemas.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def create_app(
    settings: Settings, *, db: Database | None = None, with_worker: bool = True
) -> FastAPI:
    """The whole server, built from explicit settings; the database opens (and migrates)
    here unless one is given. Without a worker it serves the API only: other processes
    (``stepstone worker``) execute the runs, and the live feed reads their changes from the
    database."""
    # Checked before anything starts: a bad secret is one error, not a half-built server.
    secret = signing_secret(settings.home, settings.configured_jwt_secret())
    database = db or settings.open_database()
    bus = EventBus()
    feed = ChangeFeed(database, bus, poll_seconds=settings.live_poll_seconds)
    worker = settings.worker(database, on_change=feed.wake) if with_worker else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            # Routes run in worker threads; the worker and the feed live on the loop.
            if worker is not None:
                loop.call_soon_threadsafe(worker.wake)
            loop.call_soon_threadsafe(feed.wake)

        app.state.wake = wake
        await asyncio.to_thread(sync_all_definitions, database)
        app.state.observe_run = lambda run: loop.call_soon_threadsafe(feed.observe_run, run)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(feed.run(stop))]
        if worker is not None:
            tasks.append(asyncio.create_task(worker.serve(stop)))
        try:
            yield
        finally:
            # Running steps are ended and their runs left resumable.
            stop.set()
            feed.wake()
            await asyncio.gather(*tasks, return_exceptions=True)
            if worker is not None:
                worker.close()

    app = FastAPI(
        title="Stepstone",
        version=API_VERSION,
        description="Durable workflows for developers.",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served from the package below: no assets from elsewhere
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        responses=error_responses(400, 401),
    )
    app.state.db = database
    app.state.artifacts_dir = settings.artifacts_dir
    app.state.bus = bus
    app.state.feed = feed
    app.state.run_cache = RunCache()
    app.state.wake = lambda: None
    app.state.observe_run = lambda run: None
    issuer = TokenIssuer(secret, settings.token_expiry_seconds)
    app.state.auth = TokenAuth(database, issuer, cache_seconds=settings.auth_cache_seconds)
    app.state.login_throttle = LoginThrottle()
    api = APIRouter(prefix="/api")
    for module in (auth, projects, runs):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(ws.router)
    install_error_handlers(app)
    _complete_the_document(app)
    app.add_middleware(
        RequestGuards,
        allowed_hosts=settings.allowed_host_names(),
        max_body_bytes=settings.max_body_bytes,
    )

    _serve_web_ui(app)
    return app


WEB_UI_DIR = Path(__file__).resolve().parent.parent / "webui"


def _serve_web_ui(app: FastAPI, directory: Path = WEB_UI_DIR) -> None:
    """The built UI at ``/``: its files, and index.html for any other path that is not the
    API, so the UI's own routes (``/runs/ID``) load on a refresh or a shared link."""
    index = directory / "index.html"
    if not index.is_file():

        @app.get("/", include_in_schema=False)
        @app.get("/api/docs", include_in_schema=False)
        def no_ui() -> dict[str, Any]:
            return {
                "name": "stepstone",
                "api": "/api",
                "openapi": "/api/openapi.json",
                "ui": "not built: run `make web`",
            }

        return

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> FileResponse:
        return FileResponse(directory / "api-docs" / "index.html")

    app.mount("/assets", StaticFiles(directory=directory / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def web_ui(path: str) -> FileResponse:
        if path.startswith(("api/", "ws")):
            raise NotFound(f"no route /{path}")
        try:
            candidate = (directory / path).resolve()
            if path and candidate.is_file() and candidate.is_relative_to(directory):
                return FileResponse(candidate)
        except OSError:  # a name too long for the file system, a loop of links: no file
            pass
        return FileResponse(index)
