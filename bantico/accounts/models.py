"""Dashboard accounts: users, their login sessions, the one-time setup token and failed logins.

Only hashes of tokens are stored (a stolen database cannot be used to log in), and nothing
here holds an IP address: per-IP limits live in memory only (docs/product.md §2, privacy).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, BigIntPK, utcnow


class User(Base):
    """An admin of this Bantico. Every admin sees every project."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, PHC string
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class LoginSession(Base):
    """A server-side login session; the browser holds the random token, we keep its SHA-256."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SetupToken(Base):
    """The one-time token `bantico serve` prints on a database without users."""

    __tablename__ = "setup_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login, by the SHA-256 of the lower-cased email, for the per-email limit."""

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "email_hash", "failed_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
