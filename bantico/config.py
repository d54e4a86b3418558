"""The one settings object. Nothing else reads the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "please-change"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANTICO_", extra="ignore")

    database_url: str = "sqlite:///./bantico.db"
    public_url: str | None = None
    secret_key: str | None = None
    dodo_test_url: str = "https://test.dodopayments.com"
    dodo_live_url: str = "https://live.dodopayments.com"
    dodo_sync_interval_seconds: int = Field(default=300, ge=0)
    dodo_backfill_days: int = Field(default=90, ge=0, le=3650)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
