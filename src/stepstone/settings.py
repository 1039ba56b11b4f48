"""Runtime settings, read from the environment (``STEPSTONE_*``) by entry points only."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEPSTONE_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".stepstone")
    database_url: str | None = None
    worker_concurrency: int = Field(default=8, ge=1)
    lease_seconds: float = Field(default=30.0, gt=0)
    poll_seconds: float = Field(default=0.25, gt=0)
    live_poll_seconds: float = Field(default=0.25, gt=0)
    token_expiry_seconds: float = Field(default=12 * 3600, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=4101, ge=0, le=65535)

    @property
    def artifacts_dir(self) -> Path:
        """Where runs' artifacts are kept: ``home/artifacts/<run id>/``."""
        return self.home / "artifacts"

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'stepstone.db'}"
