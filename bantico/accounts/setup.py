"""First run: `bantico serve` prints a one-time setup link while the database has no admin.
The link's token is stored hashed, expires, and is claimed atomically, so it works once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bantico.accounts.models import SetupToken, User
from bantico.accounts.service import create_user, has_users
from bantico.accounts.sessions import token_hash
from bantico.db import utcnow
from bantico.kit.errors import BanticoError, Invalid
from bantico.kit.ids import new_id
from bantico.projects import service as projects
from bantico.projects.models import Project

LIFETIME = timedelta(hours=24)


class SetupLinkInvalid(BanticoError):
    status_code = 403
    code = "setup_link_invalid"


class SetupDone(BanticoError):
    status_code = 409
    code = "setup_done"


@dataclass(frozen=True)
class SetupResult:
    user: User
    project: Project


def issue_token(session: Session) -> str:
    """A fresh setup token (earlier unused ones stop working); the raw value is never stored."""
    session.execute(delete(SetupToken).where(SetupToken.used_at.is_(None)))
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        SetupToken(
            id=new_id("stp", 12),
            token_hash=token_hash(raw),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    session.flush()
    return raw


def check_token(session: Session, raw: str) -> SetupToken:
    if has_users(session):
        raise SetupDone("Setup is already done. Log in with the admin account.")
    row = session.execute(
        select(SetupToken).where(SetupToken.token_hash == token_hash(raw or ""))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise SetupLinkInvalid(
            "This setup link has expired or was already used. Restart `bantico serve` "
            "to print a new one."
        )
    return row


def complete(
    session: Session, raw: str, *, email: str, password: str, project_name: str
) -> SetupResult:
    """Create the admin and the first project (or rename the one `serve` made), once."""
    check_token(session, raw)
    claimed = session.execute(
        update(SetupToken)
        .where(
            SetupToken.token_hash == token_hash(raw),
            SetupToken.used_at.is_(None),
            SetupToken.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise SetupLinkInvalid("This setup link was just used. Log in instead.")
    user = create_user(session, email, password)
    project = projects.first_project(session)
    if project is None:
        project = projects.create_project(session, project_name).project
    else:
        name = project_name.strip()
        if not name or len(name) > 200:
            raise Invalid("project name must be 1 to 200 characters")
        project.name = name
    session.flush()
    return SetupResult(user, project)
