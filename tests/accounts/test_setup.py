from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.accounts import setup
from bantico.accounts.models import SetupToken
from bantico.accounts.sessions import token_hash
from bantico.projects.models import Project
from tests.factories import make_project

PASSWORD = "correct horse battery"


def test_the_token_works_once(session: Session) -> None:
    raw = setup.issue_token(session)
    assert session.execute(select(SetupToken.token_hash)).scalar_one() == token_hash(raw)
    result = setup.complete(session, raw, email="a@b.co", password=PASSWORD, project_name="Acme")
    assert result.user.email == "a@b.co"
    assert result.project.name == "Acme"
    with pytest.raises(setup.SetupDone):
        setup.complete(session, raw, email="b@b.co", password=PASSWORD, project_name="X")


def test_the_first_project_is_renamed_not_duplicated(session: Session) -> None:
    existing = make_project(session, name="My project").project
    raw = setup.issue_token(session)
    result = setup.complete(session, raw, email="a@b.co", password=PASSWORD, project_name="Acme")
    assert result.project is existing
    assert [p.name for p in session.execute(select(Project)).scalars()] == ["Acme"]


def test_expired_unknown_and_replaced_tokens_are_refused(session: Session) -> None:
    old = setup.issue_token(session)
    new = setup.issue_token(session)  # a restart prints a new link; the old one stops working
    with pytest.raises(setup.SetupLinkInvalid, match="expired or was already used"):
        setup.check_token(session, old)
    with pytest.raises(setup.SetupLinkInvalid):
        setup.check_token(session, "made-up")
    row = session.execute(select(SetupToken)).scalar_one()
    row.expires_at -= setup.LIFETIME + timedelta(seconds=1)
    with pytest.raises(setup.SetupLinkInvalid):
        setup.complete(session, new, email="a@b.co", password=PASSWORD, project_name="Acme")
