"""Tracked links: create, list, change, archive, and count their human clicks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bantico.attribution.models import Credit
from bantico.db import utcnow
from bantico.kit.errors import Conflict, NotFound
from bantico.kit.ids import new_id, random_string
from bantico.kit.search import contains
from bantico.links import hooks, schemas
from bantico.links.labels import ensure_labels
from bantico.links.models import Link
from bantico.payments.models import Payment
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


# Searching, sorting and paging the list

SORTS = ("created", "clicks", "revenue", "key")
ORDERS = ("asc", "desc")
# Each sort's natural direction: the newest, the most clicked, the most earning first; keys A-Z.
DEFAULT_ORDER = {"created": "desc", "clicks": "desc", "revenue": "desc", "key": "asc"}


@dataclass(frozen=True)
class RevenueWindow:
    """Which payments `sort="revenue"` counts: one mode, [since, until), last touch."""

    mode: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class LinkPage:
    links: list[Link]
    total: int  # links matching the search, on every page
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.links) < self.total


def _filtered(query: Select[Any], project_id: str, q: str, include_archived: bool) -> Select[Any]:
    query = query.where(Link.project_id == project_id)
    if not include_archived:
        query = query.where(Link.archived_at.is_(None))
    if q:
        columns = (Link.key, Link.destination_url, Link.campaign_id, Link.source)
        query = query.where(or_(*(contains(column, q) for column in columns)))
    return query


def _clicks_by_link(project_id: str) -> Any:
    return (
        select(Event.link_id.label("link_id"), func.count().label("value"))
        .where(
            Event.project_id == project_id,
            Event.name == "link_clicked",
            Event.is_bot.is_(False),
            Event.link_id.is_not(None),
        )
        .group_by(Event.link_id)
        .subquery()
    )


def _net_by_link(project_id: str, window: RevenueWindow) -> Any:
    """Net revenue per link under last touch, in the smallest unit of each payment's settlement
    currency (a project settles in one currency, so the sums compare)."""
    settled = func.coalesce(Payment.settlement_amount, Payment.total_amount)
    return (
        select(
            Credit.link_id.label("link_id"),
            func.sum(Credit.weight * (settled - Payment.refunded_settlement)).label("value"),
        )
        .join(Payment, Payment.id == Credit.payment_id)
        .where(
            Credit.project_id == project_id,
            Credit.model == "last_touch",
            Credit.link_id.is_not(None),
            Payment.mode == window.mode,
            Payment.counts_as_revenue.is_(True),
            Payment.created_at >= window.since,
            Payment.created_at < window.until,
        )
        .group_by(Credit.link_id)
        .subquery()
    )


def search_links(
    session: Session,
    project_id: str,
    *,
    q: str = "",
    sort: str = "created",
    order: str | None = None,
    limit: int = 50,
    offset: int = 0,
    include_archived: bool = False,
    revenue: RevenueWindow | None = None,
) -> LinkPage:
    """One page of the project's links whose key, destination, campaign or source contains
    `q` (any case), sorted by `sort` in `order` (by default its natural direction), ties
    broken newest first. Sorting by clicks or revenue joins one aggregate over the project's
    clicks or credits; `revenue` is required for the latter."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    order = order or DEFAULT_ORDER[sort]
    if order not in ORDERS:
        raise ValueError("order must be asc or desc")
    q = q.strip()
    query = _filtered(select(Link), project_id, q, include_archived)
    key: list[Any]
    if sort == "created":
        key = [Link.created_at]
    elif sort == "key":
        key = [func.lower(Link.key), Link.key]
    else:
        if sort == "clicks":
            counted = _clicks_by_link(project_id)
        elif revenue is None:
            raise ValueError("sorting by revenue needs the payments to count")
        else:
            counted = _net_by_link(project_id, revenue)
        query = query.outerjoin(counted, counted.c.link_id == Link.id)
        key = [func.coalesce(counted.c.value, 0)]
    ordered = [k.desc() if order == "desc" else k.asc() for k in key]
    query = query.order_by(*ordered, Link.created_at.desc(), Link.id.desc())
    links = list(session.execute(query.limit(limit).offset(offset)).scalars())
    total = session.execute(
        _filtered(select(func.count()).select_from(Link), project_id, q, include_archived)
    ).scalar_one()
    return LinkPage(links, int(total), offset, limit)


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


DIRECT = "Direct or unknown"
REFERRERS_READ = 1000  # distinct referrer URLs read per link, the most frequent first


def top_referrers(
    session: Session,
    project_id: str,
    link_id: str,
    *,
    since: datetime,
    until: datetime,
    limit: int = 10,
) -> list[tuple[str, int]]:
    """The sites the link's human clicks in [since, until) came from: (hostname, clicks), the
    most first; clicks without a referrer (or with one that is no web address) count as
    `DIRECT`. Grouped by the full referrer in SQL, then by hostname here."""
    rows = session.execute(
        select(Event.referrer, func.count().label("n"))
        .where(
            Event.project_id == project_id,
            Event.name == "link_clicked",
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.is_bot.is_(False),
            Event.link_id == link_id,
        )
        .group_by(Event.referrer)
        .order_by(func.count().desc())
        .limit(REFERRERS_READ)
    )
    found: dict[str, int] = {}
    for referrer, count in rows:
        host = referrer_host(referrer)
        found[host] = found.get(host, 0) + int(count)
    return sorted(found.items(), key=lambda item: (-item[1], item[0] == DIRECT, item[0]))[:limit]


def referrer_host(referrer: str | None) -> str:
    try:
        parts = urlsplit((referrer or "").strip())
        host = parts.hostname if parts.scheme.lower() in ("http", "https") else None
    except ValueError:
        host = None
    if not host:
        return DIRECT
    return host.removeprefix("www.")


def find_by_key(session: Session, key: str) -> Link | None:
    return session.execute(select(Link).where(Link.key == key)).scalar_one_or_none()
