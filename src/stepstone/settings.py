"""Runtime settings, read from the environment (``STEPSTONE_*``) by entry points only."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from stepstone.store.database import Database
from stepstone.worker.worker import Worker


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEPSTONE_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".stepstone")
    database_url: str | None = None
    # Where runs' artifacts are kept (``<dir>/<run id>/``): the worker that runs a step saves
    # there and API processes serve from there, so across machines a folder all of them mount.
    # (Its default reads ``home``, validated before it as it is declared before it.)
    artifacts_dir: Path = Field(default_factory=lambda data: Path(data["home"]) / "artifacts")
    # The key sealing secret run args in the database (a Fernet key); every process needs the
    # same one. Unset: the home's ``secret-key`` file, made on first use.
    secret_key: SecretStr | None = None
    # What API processes sign login tokens with (at least 32 characters); every API process
    # behind one address needs the same one. Unset: the home's ``jwt-secret`` file.
    jwt_secret: SecretStr | None = None
    worker_concurrency: int = Field(default=8, ge=1)
    lease_seconds: float = Field(default=30.0, gt=0)
    poll_seconds: float = Field(default=0.25, gt=0)
    # Resume every interrupted run without a click (SPEC 3.13); off: only the runs of
    # workflows declared with ``auto_resume=True``.
    auto_resume: bool = False
    # Automatic resumes of a run in a row without a step completing, before recovery gives up.
    auto_resume_limit: int = Field(default=3, ge=1)
    # A durable sleep with more than this many seconds left parks its run (SPEC 3.12): the
    # run holds no worker until it is due.
    park_after_seconds: float = Field(default=30.0, ge=0)
    live_poll_seconds: float = Field(default=0.25, gt=0)
    token_expiry_seconds: float = Field(default=12 * 3600, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=4101, ge=0, le=65535)
    # The host names the server answers for (comma-separated; "*" for any): a request
    # naming another is refused. The name given to --host is added.
    allowed_hosts: str = "localhost,127.0.0.1,::1"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # How long a user's rights (deleted? disabled?) are remembered between database reads.
    auth_cache_seconds: float = Field(default=2.0, ge=0)
    # The command line that starts each coding agent (split like a shell would): the
    # executable's name or path, optionally with arguments put before the step's own.
    claude_command: str = "claude"
    codex_command: str = "codex"
    gemini_command: str = "gemini"

    def agent_commands(self) -> dict[str, list[str]]:
        """Each agent's command line, as argv prefixes."""
        return {
            "claude": shlex.split(self.claude_command),
            "codex": shlex.split(self.codex_command),
            "gemini": shlex.split(self.gemini_command),
        }

    def allowed_host_names(self) -> list[str]:
        names = [name.strip() for name in self.allowed_hosts.split(",") if name.strip()]
        if self.host not in ("0.0.0.0", "::", ""):
            names.append(self.host)
        return names

    def open_database(self) -> Database:
        """The configured database, opened and migrated, sealing under ``secret_key`` (or
        the key file under ``home``)."""
        return Database.open(
            self.resolved_database_url(), files_dir=self.home, secret_key=_revealed(self.secret_key)
        )

    def worker(
        self,
        db: Database,
        *,
        concurrency: int | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> Worker:
        """A worker on ``db`` as these settings configure it."""
        return Worker(
            db,
            concurrency=concurrency or self.worker_concurrency,
            lease_seconds=self.lease_seconds,
            poll_seconds=self.poll_seconds,
            auto_resume=self.auto_resume,
            auto_resume_limit=self.auto_resume_limit,
            park_after_seconds=self.park_after_seconds,
            on_change=on_change,
            artifacts_dir=self.artifacts_dir,
            agent_commands=self.agent_commands(),
        )

    def configured_jwt_secret(self) -> str | None:
        """``STEPSTONE_JWT_SECRET`` as configured (None: unset)."""
        return _revealed(self.jwt_secret)

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'stepstone.db'}"


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
