"""One Settings object for the whole product (environment prefix ``CORDON_``)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["zh_CN", "en"]

# Each secret is 32 random bytes, kept as hex in its own file under the data folder.
SECRET_NAMES = ("session_key", "field_key", "lookup_key", "code_signing_key")
_SECRETS: dict[str, bytes] = {}  # secrets read from files, by absolute path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CORDON_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where Cordon keeps its files.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in the data folder.",
    )
    # Secret keys: given in the environment (hex) or generated into data_dir/secrets on first run.
    session_key: str | None = None
    field_key: str | None = Field(default=None, description="AES-256-GCM key for identity/phone.")
    lookup_key: str | None = Field(default=None, description="HMAC key for exact-match lookups.")
    code_signing_key: str | None = Field(
        default=None, description="Ed25519 private key seed signing health-code QR tokens."
    )
    default_language: Language = "zh_CN"
    timezone: str = "Asia/Shanghai"
    max_upload_bytes: int = 10 * 1024 * 1024
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    secure_cookies: bool = False
    code_pack: str = Field(default="guangxi-2021-12", description="Health-code rule pack in force.")
    code_token_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    code_lookup_per_minute: int = Field(
        default=10, ge=1, description="Resident code lookups allowed per client address a minute."
    )
    # Serving (cordon.serving): worker processes, the database pool of each, shared counters.
    workers: int = Field(
        default=0, ge=0, le=64, description="Worker processes; 0: 2 per core, at most 8."
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=200, description="Database connections kept open per worker process."
    )
    db_max_overflow: int = Field(
        default=15, ge=0, le=400, description="Extra connections a worker may open under a burst."
    )
    sqlite_busy_ms: int = Field(
        default=5000, ge=0, description="How long a SQLite statement waits for another writer."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for rate-limit counters shared by every worker and machine "
        "(e.g. redis://127.0.0.1:6379/0); without it, a small SQLite file in the data folder.",
    )
    audit_batch_ms: int = Field(
        default=200,
        ge=0,
        le=10_000,
        description="Residents' lookups are audited in batches written this often; 0: each "
        "entry in its own transaction before the answer.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed; none by default.",
    )
    jobs_workers: int = Field(
        default=1, ge=0, le=16, description="Job worker threads per server process (0: none)."
    )
    jobs_poll_seconds: float = Field(default=1.0, gt=0, description="How often workers look.")
    jobs_heartbeat_seconds: float = Field(default=5.0, gt=0)
    jobs_stale_seconds: float = Field(
        default=300.0, gt=0, description="A running job silent this long is resumed elsewhere."
    )
    codes_auto_refresh: bool = Field(
        default=True, description="Decide codes again by themselves when facts change."
    )
    export_direct_rows: int = Field(
        default=20_000,
        ge=0,
        description="Exports up to this many rows stream at once; larger ones run as a job.",
    )

    @property
    def lake_dir(self) -> Path:
        """The demo's simulated lake (movement data stays here, not in the database)."""
        return self.data_dir / "lake"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cordon.db').resolve()}"

    def secret(self, name: str) -> bytes:
        """The named secret key as bytes, generating and storing it on first use."""
        if name not in SECRET_NAMES:
            raise KeyError(name)
        given = getattr(self, name)
        if given:
            return bytes.fromhex(given)
        folder = self.data_dir / "secrets"
        path = folder / f"{name}.hex"
        known = _SECRETS.get(key := os.path.abspath(path))
        if known is not None:  # read once per process: every lookup signs with one
            return known
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        value = _SECRETS[key] = bytes.fromhex(path.read_text().strip())
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
