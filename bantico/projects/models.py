from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, utcnow
from bantico.ingest import cache_versions


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    pricing_path: Mapped[str] = mapped_column(String(500), default="/pricing")
    attribution_window_days: Mapped[int] = mapped_column(default=30)
    honour_gpc: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SecretKey(Base):
    """A project secret API key. Only its SHA-256 is stored; keys are long random strings."""

    __tablename__ = "secret_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


# The loader's endpoints keep copies of projects by token (bantico/tracking/routes.py).
cache_versions.watch(Project, cache_versions.PROJECTS)
