"""Projects and their credentials: the public token and hashed secret keys."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.kit.errors import Invalid, NotFound, Unauthorized
from bantico.kit.ids import new_id, random_string
from bantico.projects.models import Project, SecretKey

SECRET_KEY_PREFIX = "bsk_"
TOKEN_PREFIX = "btk_"
PRICING_PATH = re.compile(r"^/[^\s?#]{0,499}$")


@dataclass(frozen=True)
class NewProject:
    project: Project
    secret_key: str


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_project(session: Session, name: str) -> NewProject:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("project name must be 1 to 200 characters")
    project = Project(id=new_id("prj", 12), name=name, token=TOKEN_PREFIX + random_string(24))
    session.add(project)
    session.flush()
    return NewProject(project=project, secret_key=create_secret_key(session, project))


def create_secret_key(session: Session, project: Project) -> str:
    raw = SECRET_KEY_PREFIX + random_string(40)
    session.add(
        SecretKey(
            id=new_id("key", 12),
            project_id=project.id,
            key_hash=hash_secret(raw),
            hint=raw[-4:],
        )
    )
    session.flush()
    return raw


def project_for_secret(session: Session, raw: str) -> Project:
    row = session.execute(
        select(Project)
        .join(SecretKey, SecretKey.project_id == Project.id)
        .where(SecretKey.key_hash == hash_secret(raw), SecretKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        raise Unauthorized("unknown or revoked secret key")
    return row


def project_for_token(session: Session, token: str) -> Project:
    row = session.execute(select(Project).where(Project.token == token)).scalar_one_or_none()
    if row is None:
        raise Unauthorized("unknown project token; copy it from `bantico project create`")
    return row


def get_project(session: Session, project_id: str) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    return project


def first_project(session: Session) -> Project | None:
    return session.execute(select(Project).order_by(Project.created_at).limit(1)).scalar()
