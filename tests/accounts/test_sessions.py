from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.accounts import sessions
from bantico.accounts.models import LoginSession
from bantico.accounts.service import create_user


def test_only_the_hash_of_the_token_is_stored(session: Session) -> None:
    user = create_user(session, "a@b.co", "correct horse battery")
    raw = sessions.start(session, user)
    row = session.execute(select(LoginSession)).scalar_one()
    assert row.token_hash == sessions.token_hash(raw) != raw
    login = sessions.resolve(session, raw)
    assert login is not None and login.user is user
    assert sessions.resolve(session, raw + "x") is None
    assert sessions.resolve(session, "") is None
    assert user.last_login_at is not None


def test_expired_and_revoked_sessions_log_nobody_in(session: Session) -> None:
    user = create_user(session, "a@b.co", "correct horse battery")
    expired, revoked, kept = (sessions.start(session, user) for _ in range(3))
    row = session.execute(
        select(LoginSession).where(LoginSession.token_hash == sessions.token_hash(expired))
    ).scalar_one()
    row.expires_at -= sessions.LIFETIME + timedelta(seconds=1)
    sessions.revoke(session, revoked)
    assert sessions.resolve(session, expired) is None
    assert sessions.resolve(session, revoked) is None
    assert sessions.resolve(session, kept) is not None


def test_use_slides_the_expiry(session: Session) -> None:
    user = create_user(session, "a@b.co", "correct horse battery")
    raw = sessions.start(session, user)
    row = session.execute(select(LoginSession)).scalar_one()
    row.last_seen_at -= timedelta(days=3)
    row.expires_at -= timedelta(days=3)
    before = row.expires_at
    assert sessions.resolve(session, raw) is not None
    assert row.expires_at > before + timedelta(days=2)


def test_revoke_others_keeps_this_one(session: Session) -> None:
    user = create_user(session, "a@b.co", "correct horse battery")
    mine = sessions.start(session, user)
    others = [sessions.start(session, user) for _ in range(2)]
    login = sessions.resolve(session, mine)
    assert login is not None
    assert sessions.active_count(session, user.id) == 3
    assert sessions.revoke_others(session, user.id, login.session.id) == 2
    assert all(sessions.resolve(session, raw) is None for raw in others)
    assert sessions.resolve(session, mine) is not None
    assert sessions.active_count(session, user.id) == 1
