"""Admins: create, authenticate (with the per-email limit) and change passwords."""

from __future__ import annotations

import re

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.accounts import limits
from bantico.accounts.models import User
from bantico.accounts.passwords import hash_password, needs_rehash, verify_password
from bantico.kit.errors import BanticoError, Conflict, Invalid
from bantico.kit.ids import new_id

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1000


class WrongCredentials(BanticoError):
    status_code = 401
    code = "wrong_credentials"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """A plain-words reason the email cannot be used, or None."""
    email = normalise_email(email)
    if not email:
        return "Enter your email address."
    if len(email) > 320 or not EMAIL.match(email):
        return "Enter an email address like name@example.com."
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    if not password.strip():
        return "The password cannot be only spaces."
    return None


def has_users(session: Session) -> bool:
    return bool(session.execute(select(exists().where(User.id.is_not(None)))).scalar())


def user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def create_user(session: Session, email: str, password: str) -> User:
    problem = email_problem(email) or password_problem(password)
    if problem:
        raise Invalid(problem)
    if user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(
        id=new_id("usr", 12), email=normalise_email(email), password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with this email and password. Raises TooManyAttempts once the email has had
    too many recent failures (even for the right password), else WrongCredentials. The
    attempt is counted before the password is checked (limits.reserve_attempt)."""
    limits.reserve_attempt(sessionmaker(session.get_bind()), email)
    user = user_by_email(session, email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise WrongCredentials("Wrong email or password.")
    limits.clear_email_failures(session, email)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise WrongCredentials("The current password is not right.")
    problem = password_problem(new)
    if problem:
        raise Invalid(problem)
    user.password_hash = hash_password(new)
