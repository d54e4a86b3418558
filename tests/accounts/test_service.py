from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.accounts import limits
from bantico.accounts.models import LoginFailure, User
from bantico.accounts.passwords import verify_password
from bantico.accounts.service import (
    WrongCredentials,
    authenticate,
    change_password,
    create_user,
    email_problem,
    has_users,
    password_problem,
)
from bantico.kit.errors import Conflict, Invalid

PASSWORD = "correct horse battery"


def test_passwords_are_stored_as_argon2id(session: Session) -> None:
    assert not has_users(session)
    user = create_user(session, "  Ada@Example.COM ", PASSWORD)
    assert has_users(session)
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)


def test_account_rules_in_plain_words(session: Session) -> None:
    assert email_problem("") == "Enter your email address."
    assert email_problem("nope") == "Enter an email address like name@example.com."
    assert email_problem("a@b.co") is None
    assert password_problem("short") == "Use at least 10 characters."
    assert password_problem(" " * 12) == "The password cannot be only spaces."
    with pytest.raises(Invalid):
        create_user(session, "a@b.co", "short")
    create_user(session, "a@b.co", PASSWORD)
    with pytest.raises(Conflict):
        create_user(session, "A@B.CO", PASSWORD)


def test_authenticate(session: Session) -> None:
    create_user(session, "a@b.co", PASSWORD)
    session.commit()  # attempts are counted in a transaction of their own, as in a request
    assert authenticate(session, "A@b.co ", PASSWORD).email == "a@b.co"
    session.commit()
    with pytest.raises(WrongCredentials, match="Wrong email or password"):
        authenticate(session, "a@b.co", "wrong password")
    with pytest.raises(WrongCredentials, match="Wrong email or password"):
        authenticate(session, "nobody@b.co", PASSWORD)


def test_five_failures_lock_the_email_even_for_the_right_password(session: Session) -> None:
    create_user(session, "a@b.co", PASSWORD)
    session.commit()
    for _ in range(limits.EMAIL_FAILURES):
        with pytest.raises(WrongCredentials):
            authenticate(session, "a@b.co", "wrong password")
    with pytest.raises(limits.TooManyAttempts, match=r"Try again in 15 minutes") as caught:
        authenticate(session, "a@b.co", PASSWORD)
    assert 0 < caught.value.retry_after <= 15 * 60
    # Only a hash of the email is kept, never an address.
    rows = session.execute(select(LoginFailure)).scalars().all()
    assert {row.email_hash for row in rows} == {limits.email_key("a@b.co")}
    assert {c.name for c in LoginFailure.__table__.columns} == {"id", "email_hash", "failed_at"}


def test_failures_expire_and_success_clears_them(session: Session) -> None:
    create_user(session, "a@b.co", PASSWORD)
    session.commit()
    for _ in range(limits.EMAIL_FAILURES):
        with pytest.raises(WrongCredentials):
            authenticate(session, "a@b.co", "wrong password")
    for row in session.execute(select(LoginFailure)).scalars():
        row.failed_at -= limits.WINDOW
    session.commit()
    assert authenticate(session, "a@b.co", PASSWORD).email == "a@b.co"
    assert session.execute(select(LoginFailure)).first() is None


def test_change_password(session: Session) -> None:
    user = create_user(session, "a@b.co", PASSWORD)
    with pytest.raises(WrongCredentials):
        change_password(session, user, "wrong password", "another long one")
    with pytest.raises(Invalid):
        change_password(session, user, PASSWORD, "short")
    change_password(session, user, PASSWORD, "another long one")
    session.commit()
    assert authenticate(session, "a@b.co", "another long one") is user
    assert session.execute(select(User)).scalar_one().email == "a@b.co"
