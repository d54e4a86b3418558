"""Server-side login sessions. The browser holds a random token; the database keeps only its
SHA-256, so sessions can be listed and revoked, and a copied database logs nobody in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bantico.accounts.models import LoginSession, User
from bantico.db import utcnow
from bantico.kit.ids import new_id

LIFETIME = timedelta(days=14)  # sliding: every use (at most hourly) pushes the expiry back
REFRESH_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Login:
    session: LoginSession
    user: User


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start(session: Session, user: User) -> str:
    """Open a session for `user`; returns the raw token for the cookie (never stored)."""
    now = utcnow()
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.expires_at < now, LoginSession.revoked_at.is_not(None)),
        )
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            id=new_id("ses", 12),
            user_id=user.id,
            token_hash=token_hash(raw),
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME,
        )
    )
    user.last_login_at = now
    session.flush()
    return raw


def resolve(session: Session, raw: str) -> Login | None:
    """The live session behind a cookie value, or None when unknown, expired or revoked."""
    if not raw or len(raw) > 200:
        return None
    row = session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == token_hash(raw))
    ).first()
    if row is None:
        return None
    login, user = row
    now = utcnow()
    if login.revoked_at is not None or login.expires_at <= now:
        return None
    if now - login.last_seen_at > REFRESH_AFTER:
        login.last_seen_at = now
        login.expires_at = now + LIFETIME
    return Login(login, user)


def revoke(session: Session, raw: str) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_hash(raw), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_others(session: Session, user_id: str, keep_id: str) -> int:
    """Log out every other browser of this user; returns how many sessions ended."""
    result = session.execute(
        update(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.id != keep_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > utcnow(),
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def active_count(session: Session, user_id: str) -> int:
    rows = session.execute(
        select(LoginSession.id).where(
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > utcnow(),
        )
    ).all()
    return len(rows)
