"""The one settings object. Nothing else reads the environment."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "please-change"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANTICO_", extra="ignore")

    database_url: str = "sqlite:///./bantico.db"
    public_url: str | None = None
    secret_key: str | None = None
    secret_key_file: Path = Path("bantico.secret")
    dodo_test_url: str = "https://test.dodopayments.com"
    dodo_live_url: str = "https://live.dodopayments.com"
    dodo_sync_interval_seconds: int = Field(default=300, ge=0)
    dodo_backfill_days: int = Field(default=90, ge=0, le=3650)
    # Dodo's Tier 0 allowance (docs/dodo.md §1); raise both after Dodo upgrades the account.
    dodo_rate_per_minute: int = Field(default=240, ge=1, le=100_000)
    dodo_rate_burst: int = Field(default=40, ge=1, le=10_000)
    # How often each server process rolls new events up for the reports (0: never; the
    # reports stay exact either way, reading what is not rolled up from the events).
    report_rollup_interval_seconds: float = Field(default=10.0, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; nobody's by default, so a client cannot pick its address.
    trusted_proxies: str = ""

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder(cls, value: str | None) -> str | None:
        if value is not None and (value.lower() in PLACEHOLDER_SECRETS or len(value) < 16):
            raise ValueError("BANTICO_SECRET_KEY must be a random string of at least 16 characters")
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _secret_from_file(self) -> Settings:
        """Without BANTICO_SECRET_KEY, use the key `bantico serve` generated on first start."""
        if self.secret_key is None and self.secret_key_file.is_file():
            self.secret_key = self.secret_key_file.read_text().strip() or None
        return self


def ensure_secret_key(settings: Settings) -> bool:
    """Generate and keep a secret key when none is configured; True when one was made."""
    if settings.secret_key:
        return False
    key = secrets.token_urlsafe(32)
    path = settings.secret_key_file
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(key + "\n")
    settings.secret_key = key
    return True


@lru_cache
def get_settings() -> Settings:
    return Settings()
