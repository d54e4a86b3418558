"""Tracked links: create, list, change, archive, and count their human clicks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bantico.db import utcnow
from bantico.kit.errors import Conflict, NotFound
from bantico.kit.ids import new_id, random_string
from bantico.links import hooks, schemas
from bantico.links.labels import ensure_labels
from bantico.links.models import Link
from bantico.tracking.models import Event

RANDOM_KEY_LENGTH = 7


def _key_taken(session: Session, key: str) -> bool:
    return session.execute(select(Link.id).where(Link.key == key)).first() is not None


def _new_key(session: Session) -> str:
    while True:
        key = random_string(RANDOM_KEY_LENGTH)
        if not _key_taken(session, key):
            return key


def create_link(session: Session, project_id: str, data: schemas.LinkCreate) -> Link:
    if data.key is not None and _key_taken(session, data.key):
        raise Conflict(f"key {data.key!r} is already used by another link; choose another")
    link = Link(
        id=new_id("lnk", 12),
        project_id=project_id,
        key=data.key or _new_key(session),
        destination_url=data.destination_url,
        campaign_id=data.campaign_id,
        source=data.source,
        medium=data.medium,
        content=data.content,
        lead_id=data.lead_id,
    )
    session.add(link)
    _flush_key(session, link.key)
    ensure_labels(session, project_id, campaign_id=data.campaign_id, lead_id=data.lead_id)
    session.flush()
    hooks.link_changed(session, project_id, link.id)
    return link


def _flush_key(session: Session, key: str) -> None:
    """Write the link now: a key checked as free may have been taken since by a concurrent
    request, which the unique index then refuses. That is a 409, not a 500."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"key {key!r} is already used by another link; choose another") from None


def get_link(session: Session, project_id: str, link_id: str) -> Link:
    link = session.get(Link, link_id)
    if link is None or link.project_id != project_id:
        raise NotFound(f"no link {link_id} in this project")
    return link


def list_links(session: Session, project_id: str, *, include_archived: bool = False) -> list[Link]:
    query = select(Link).where(Link.project_id == project_id).order_by(Link.created_at.desc())
    if not include_archived:
        query = query.where(Link.archived_at.is_(None))
    return list(session.execute(query).scalars())


def update_link(session: Session, project_id: str, link_id: str, data: schemas.LinkUpdate) -> Link:
    link = get_link(session, project_id, link_id)
    changes = data.model_dump(exclude_unset=True)
    new_key = changes.get("key")
    if new_key is None and "key" in changes:
        del changes["key"]
    elif new_key is not None and new_key != link.key and _key_taken(session, new_key):
        raise Conflict(f"key {new_key!r} is already used by another link; choose another")
    for field, value in changes.items():
        setattr(link, field, value)
    _flush_key(session, link.key)
    ensure_labels(session, project_id, campaign_id=link.campaign_id, lead_id=link.lead_id)
    session.flush()
    hooks.link_changed(session, project_id, link.id)
    return link


def archive_link(session: Session, project_id: str, link_id: str) -> Link:
    link = get_link(session, project_id, link_id)
    if link.archived_at is None:
        link.archived_at = utcnow()
    session.flush()
    return link


def click_counts(session: Session, link_ids: Iterable[str]) -> dict[str, int]:
    ids = list(link_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Event.link_id, func.count())
        .where(Event.link_id.in_(ids), Event.name == "link_clicked", Event.is_bot.is_(False))
        .group_by(Event.link_id)
    )
    return {link_id: count for link_id, count in rows if link_id is not None}


def find_by_key(session: Session, key: str) -> Link | None:
    return session.execute(select(Link).where(Link.key == key)).scalar_one_or_none()
