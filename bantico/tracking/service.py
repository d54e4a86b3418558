"""Ingestion: store events, keep visitors and sessions current, and record touches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Table, bindparam, exists, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bantico.db import utcnow
from bantico.ingest import cache_versions
from bantico.ingest.caches import TTLCache
from bantico.ingest.queued_writes import BulkInsert, execute_soon
from bantico.kit.errors import Invalid
from bantico.kit.schemas import CONTEXT_FIELDS
from bantico.links.labels import ensure_labels
from bantico.links.models import Link
from bantico.projects.models import Project
from bantico.tracking import hooks, schemas
from bantico.tracking.foreign_ids import count_foreign
from bantico.tracking.models import Event, Identity, Touch, Visitor, VisitSession
from bantico.tracking.referrers import is_payment_source, referral_source

MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Resolved:
    """The context an event carries, and whether the loader should now carry it too."""

    context: schemas.Context | None
    replaces_cookie: bool


def _link_context(link: Link) -> schemas.Context:
    return schemas.Context(
        link_id=link.id,
        campaign_id=link.campaign_id,
        source=link.source,
        medium=link.medium,
        content=link.content,
        lead_id=link.lead_id,
    )


VISITORS: Table = Visitor.__table__  # type: ignore[assignment]
SESSIONS: Table = VisitSession.__table__  # type: ignore[assignment]
TOUCHES: Table = Touch.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
LINKS: Table = Link.__table__  # type: ignore[assignment]


# Built once and run with parameters: building `.values(...)` per event costs more than the insert.
ADD_TOUCH = insert(TOUCHES)
INSERT_EVENT = insert(EVENTS).returning(EVENTS.c.id)


# The writes nothing reads back, queued and sent in batches (see `execute_soon`). A second
# sighting of a visitor or a session queued in the same batch is folded into the first, so a
# visitor's events arriving together cost one upsert of the visitor and one of the session.
SEE_VISITOR = BulkInsert(
    VISITORS,
    ("project_id", "id", "first_seen_at", "last_seen_at"),
    conflict=("project_id", "id"),
    update=("last_seen_at",),
)
SEE_SESSION = BulkInsert(
    SESSIONS,
    ("project_id", "id", "visitor_id", "started_at", "last_seen_at", "landing_url", "referrer"),
    conflict=("project_id", "id"),
    update=("last_seen_at",),
)
QUEUE_EVENT = BulkInsert(
    EVENTS,
    (
        "project_id",
        "name",
        "occurred_at",
        "visitor_id",
        "session_id",
        "url",
        "referrer",
        "props",
        "click_id",
        *CONTEXT_FIELDS,
    ),
    defaults={"received_at": utcnow, "is_bot": lambda: False},
)


_TOUCH_COLUMNS = (
    "project_id",
    "visitor_id",
    "session_id",
    "occurred_at",
    "kind",
    "click_id",
    *CONTEXT_FIELDS,
)


# What makes a landing's touch the same as one the session already has.
_TOUCH_KEY = ("project_id", "visitor_id", "session_id", "kind", *CONTEXT_FIELDS)


def _new_touch_statement() -> Executable:
    """Insert a landing's touch unless the visitor's session already has the same one (a
    reload of a tagged page: the tags stay in the address bar). One statement, so it can be
    queued and sent with the batch's other rows, each row seeing the rows sent before it;
    NULL-safe comparisons (`IS` on SQLite, `IS NOT DISTINCT FROM` on PostgreSQL)."""
    values = [bindparam(name, type_=TOUCHES.c[name].type) for name in _TOUCH_COLUMNS]
    # The same values again under their own names (`same_*`): every parameter is named once.
    same = select(TOUCHES.c.id).where(
        *[TOUCHES.c[name] == bindparam(f"same_{name}") for name in _TOUCH_KEY[:4]],
        *[
            TOUCHES.c[name].is_not_distinct_from(bindparam(f"same_{name}"))
            for name in CONTEXT_FIELDS
        ],
    )
    return insert(TOUCHES).from_select(list(_TOUCH_COLUMNS), select(*values).where(~exists(same)))


ADD_NEW_TOUCH = _new_touch_statement()


# Which project each link id belongs to ("" for no link): links never change project.
_LINK_OWNERS: TTLCache[str, str] = TTLCache(ttl=300.0, max_size=50_000)
# The context a landing with a link id picks up, by link id (edits make the copies stale, see
# bantico/ingest/cache_versions.py); unknown ids are never kept.
_LINK_CONTEXTS: TTLCache[str, tuple[str, schemas.Context]] = TTLCache(
    ttl=30.0, max_size=10_000, version=cache_versions.LINKS
)
# Click ids a landing carried that match no click of its project: made up, stale (the click
# was deleted since) or another project's. A click is committed before its redirect answers,
# so the browser cannot carry its id before it is stored: an id unknown now stays unknown.
_UNKNOWN_CLICKS: TTLCache[tuple[str, str], bool] = TTLCache(ttl=300.0, max_size=50_000)

# Reads on the hot path go through the session's connection, not `session.execute`: they
# need none of the rows queued by this batch (see `execute_soon`), and an ORM statement would
# send those first, one small batch per request instead of one per transaction.
_LINK_OWNER = select(LINKS.c.project_id).where(LINKS.c.id == bindparam("link_id"))
_LINK_ROW = select(
    LINKS.c.project_id, *[LINKS.c[name] for name in ("id", *CONTEXT_FIELDS[1:])]
).where(LINKS.c.id == bindparam("link_id"))
_CLICK_EXISTS = (
    select(EVENTS.c.id)
    .where(
        EVENTS.c.click_id == bindparam("click_id"),
        EVENTS.c.project_id == bindparam("project_id"),
        EVENTS.c.name == "link_clicked",
    )
    .limit(1)
)


def own_context(
    session: Session, project_id: str, context: schemas.Context | None
) -> schemas.Context | None:
    """A context carried in from the outside never names another project's link: such an id
    is dropped, and counted for the diagnostics. (An id of no link at all joins nothing.)"""
    if context is None or not context.link_id:
        return context
    owner = _LINK_OWNERS.get(context.link_id)
    if owner is None:
        found = session.connection().execute(_LINK_OWNER, {"link_id": context.link_id})
        owner = found.scalar_one_or_none() or ""
        _LINK_OWNERS.put(context.link_id, owner)
    if owner in (project_id, ""):
        return context
    count_foreign(session, project_id, "linkId", context.link_id)
    return context.model_copy(update={"link_id": None})


def _link_landing(session: Session, project_id: str, link_id: str) -> schemas.Context | None:
    """The context of a landing with `link_id`, if that is a link of the project."""
    cached = _LINK_CONTEXTS.get(link_id)
    if cached is None:
        stamp = _LINK_CONTEXTS.stamp()  # before the read: an edit meanwhile outdates the copy
        row = session.connection().execute(_LINK_ROW, {"link_id": link_id}).first()
        if row is None:
            return None
        owner, *values = row
        cached = (owner, schemas.Context(**dict(zip(CONTEXT_FIELDS, values, strict=True))))
        _LINK_CONTEXTS.put(link_id, cached, stamp)
    owner, context = cached
    return context if owner == project_id else None


def _find_click(connection: Connection, click_id: str, project_id: str) -> Any:
    """The click, read on the connection (Core, not the ORM: the session's queued rows are
    not sent early, so the batch stays one executemany per statement)."""
    return connection.execute(
        _CLICK_EXISTS, {"click_id": click_id, "project_id": project_id}
    ).first()


def _click_unknown(session: Session, project_id: str, click_id: str) -> bool:
    """No click of the project has this id (one indexed read, remembered)."""
    if _UNKNOWN_CLICKS.get((project_id, click_id)):
        return True
    if _find_click(session.connection(), click_id, project_id) is not None:
        return False
    _UNKNOWN_CLICKS.put((project_id, click_id), True)
    return True


def _context_values(context: schemas.Context | None) -> dict[str, str | None]:
    if context is None:
        return dict.fromkeys(CONTEXT_FIELDS)
    return {name: getattr(context, name) for name in CONTEXT_FIELDS}


def _see_visitor(session: Session, project_id: str, visitor_id: str, now: datetime) -> None:
    """Insert the visitor, or move its `last_seen_at` to now (sent with the session's next
    statement, batched with other visitors)."""
    execute_soon(
        session,
        SEE_VISITOR,
        {"project_id": project_id, "id": visitor_id, "first_seen_at": now, "last_seen_at": now},
        key=(project_id, visitor_id),
    )


def _see_session(
    session: Session,
    project_id: str,
    visitor_id: str,
    session_id: str,
    now: datetime,
    url: str | None,
    referrer: str | None,
) -> None:
    """Insert the visit, or move its `last_seen_at` to now (sent with the session's next
    statement, batched with other visits)."""
    execute_soon(
        session,
        SEE_SESSION,
        {
            "project_id": project_id,
            "id": session_id,
            "visitor_id": visitor_id,
            "started_at": now,
            "last_seen_at": now,
            "landing_url": url,
            "referrer": referrer,
        },
        key=(project_id, session_id),
    )


def _add_touch(
    session: Session,
    project_id: str,
    visitor_id: str,
    session_id: str | None,
    now: datetime,
    kind: str,
    context: schemas.Context,
    click_id: str | None = None,
) -> None:
    session.execute(
        ADD_TOUCH,
        {
            "project_id": project_id,
            "visitor_id": visitor_id,
            "session_id": session_id,
            "occurred_at": now,
            "kind": kind,
            "click_id": click_id,
            **_context_values(context),
        },
    )


def _join_click(
    session: Session, project: Project, data: schemas.CollectIn, visitor_id: str, now: datetime
) -> schemas.Context | None:
    """Tie the redirect's click to this visitor; the click's link gives the context."""
    assert data.click_id is not None
    if _click_unknown(session, project.id, data.click_id):
        return None  # no extra statement: the landing costs what a page view costs
    click = session.execute(
        select(Event).where(
            Event.click_id == data.click_id,
            Event.project_id == project.id,
            Event.name == "link_clicked",
        )
    ).scalar_one_or_none()
    if click is None or click.link_id is None:
        return None
    link = session.get(Link, click.link_id)
    if link is None:
        return None
    context = _link_context(link)
    if click.visitor_id is None:
        click.visitor_id, click.session_id = visitor_id, data.session_id
        hooks.click_tied(session, project.id, visitor_id, click.id)  # the funnel may have it
    seen = session.execute(
        select(Touch.id).where(Touch.click_id == data.click_id, Touch.visitor_id == visitor_id)
    ).first()
    if seen is None:
        _add_touch(
            session,
            project.id,
            visitor_id,
            data.session_id,
            now,
            "click",
            context,
            click_id=data.click_id,
        )
    return context


def _landing_touch(
    session: Session, project: Project, data: schemas.CollectIn, visitor_id: str, now: datetime
) -> tuple[schemas.Context, str] | None:
    """A landing with a link id but no usable click, with UTM tags, or from another site."""
    if data.link_id:
        context = _link_landing(session, project.id, data.link_id)
        if context is not None:
            return context, "link"
    utm = data.utm
    if utm and (utm.source or utm.campaign or utm.medium) and not is_payment_source(utm.source):
        context = schemas.Context(
            source=utm.source, medium=utm.medium, campaign_id=utm.campaign, content=utm.content
        )
        ensure_labels(session, project.id, campaign_id=utm.campaign, lead_id=None)
        return context, "utm"
    # Only a page view lands; other events carry the page's referrer along.
    source = referral_source(data.referrer, data.url) if data.name == "page_view" else None
    if source:
        return schemas.Context(source=source, medium="referral"), "referral"
    return None


def _add_landing_touch(
    session: Session,
    project_id: str,
    visitor_id: str,
    session_id: str,
    now: datetime,
    kind: str,
    context: schemas.Context,
) -> None:
    """Add the landing's touch, unless the visitor's session already has the same one (a
    reload of a tagged page: the tags stay in the address bar, and that is not a new touch).
    Queued, and checked by the statement itself as it is sent with the batch."""
    row: dict[str, Any] = {
        "project_id": project_id,
        "visitor_id": visitor_id,
        "session_id": session_id,
        "occurred_at": now,
        "kind": kind,
        "click_id": None,
        **_context_values(context),
    }
    for name in _TOUCH_KEY:
        row[f"same_{name}"] = row[name]
    execute_soon(session, ADD_NEW_TOUCH, row)


def collect(session: Session, project: Project, data: schemas.CollectIn) -> Resolved:
    """Store one loader event. Returns the context the loader should keep, if it changed."""
    if data.visitor_id is None or data.session_id is None:
        raise Invalid("visitorId and sessionId are required")
    now = utcnow()
    visitor_id = data.visitor_id
    _see_visitor(session, project.id, visitor_id, now)
    _see_session(session, project.id, visitor_id, data.session_id, now, data.url, data.referrer)
    if data.name == "identify":
        if data.user is None:
            raise Invalid("identify needs a user object with an id or an email")
        record_identity(session, project, visitor_id, data.user.require_some(), now)
        return Resolved(None, False)

    carried = data.context if data.context and not data.context.is_empty() else None
    carried = own_context(session, project.id, carried)
    resolved = Resolved(carried, False)
    clicked = _join_click(session, project, data, visitor_id, now) if data.click_id else None
    if clicked is not None:
        resolved = Resolved(clicked, True)
    else:
        landing = _landing_touch(session, project, data, visitor_id, now)
        if landing is not None:
            context, kind = landing
            _add_landing_touch(session, project.id, visitor_id, data.session_id, now, kind, context)
            # A referral never displaces a tracked link or campaign the visitor already carries.
            if kind != "referral" or carried is None:
                resolved = Resolved(context, True)

    # Nothing needs the new event's id: send it with the batch's other events.
    execute_soon(
        session,
        QUEUE_EVENT,
        _event_values(
            project.id,
            data.name,
            now,
            visitor_id,
            data.session_id,
            data.url,
            data.referrer,
            resolved.context,
            data.props,
            click_id=None,
        ),
    )
    return resolved


def _insert_event(
    session: Session,
    project_id: str,
    name: str,
    occurred_at: datetime,
    visitor_id: str | None,
    session_id: str | None,
    url: str | None,
    referrer: str | None,
    context: schemas.Context | None,
    props: dict[str, object] | None,
    click_id: str | None,
) -> int:
    result = session.execute(
        INSERT_EVENT,
        _event_values(
            project_id,
            name,
            occurred_at,
            visitor_id,
            session_id,
            url,
            referrer,
            context,
            props,
            click_id,
        ),
    )
    return int(result.scalar_one())


def _event_values(
    project_id: str,
    name: str,
    occurred_at: datetime,
    visitor_id: str | None,
    session_id: str | None,
    url: str | None,
    referrer: str | None,
    context: schemas.Context | None,
    props: dict[str, object] | None,
    click_id: str | None,
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "name": name,
        "occurred_at": occurred_at,
        "visitor_id": visitor_id,
        "session_id": session_id,
        "url": url,
        "referrer": referrer,
        "props": props,
        "click_id": click_id,
        **_context_values(context),
    }


def latest_context(
    session: Session, project: Project, visitor_id: str, now: datetime
) -> schemas.Context | None:
    """The newest touch inside the project's attribution window, preferring links and UTM
    tags over referrals, as the loader's cookie does."""
    since = now - timedelta(days=project.attribution_window_days)
    touches = (
        session.execute(
            select(Touch)
            .where(
                Touch.project_id == project.id,
                Touch.visitor_id == visitor_id,
                Touch.occurred_at >= since,
                Touch.occurred_at <= now,
            )
            .order_by(Touch.occurred_at.desc(), Touch.id.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    chosen = next((t for t in touches if t.kind != "referral"), touches[0] if touches else None)
    if chosen is None:
        return None
    return schemas.Context(
        link_id=chosen.link_id,
        campaign_id=chosen.campaign_id,
        source=chosen.source,
        medium=chosen.medium,
        content=chosen.content,
        lead_id=chosen.lead_id,
    )


def _visitor_for_user(session: Session, project_id: str, user_id: str) -> str | None:
    return session.execute(
        select(Identity.visitor_id)
        .where(
            Identity.project_id == project_id,
            Identity.user_id == user_id,
            Identity.visitor_id.is_not(None),
        )
        .order_by(Identity.created_at.desc(), Identity.id.desc())
        .limit(1)
    ).scalar()


def record_server_event(session: Session, project: Project, data: schemas.EventIn) -> int:
    """Store an event sent by the founder's server; context defaults to the visitor's."""
    now = utcnow()
    occurred_at = data.occurred_at or now
    if occurred_at.tzinfo is None:
        raise Invalid("occurredAt needs a timezone, e.g. 2026-11-27T10:00:00Z")
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise Invalid("occurredAt is in the future")
    visitor_id = data.visitor_id
    if visitor_id is None and data.user_id:
        visitor_id = _visitor_for_user(session, project.id, data.user_id)
    if visitor_id is not None:
        _see_visitor(session, project.id, visitor_id, now)
        if data.session_id:
            _see_session(session, project.id, visitor_id, data.session_id, now, data.url, None)
    context = data.context if data.context and not data.context.is_empty() else None
    context = own_context(session, project.id, context)
    if context is None and visitor_id is not None:
        context = latest_context(session, project, visitor_id, occurred_at)
    elif context is not None:
        ensure_labels(session, project.id, campaign_id=context.campaign_id, lead_id=context.lead_id)
    props = dict(data.props or {})
    if data.user_id:
        props.setdefault("userId", data.user_id)
    return _insert_event(
        session,
        project.id,
        data.name,
        occurred_at,
        visitor_id,
        data.session_id,
        data.url,
        None,
        context,
        props or None,
        click_id=None,
    )


normalise_email = schemas.normalise_email


def record_identity(
    session: Session,
    project: Project,
    visitor_id: str | None,
    user: schemas.UserTraits,
    now: datetime | None = None,
) -> None:
    """Remember who the visitor is. Every call is kept; the visitor shows the newest."""
    now = now or utcnow()
    email = normalise_email(user.email)
    extra = dict(user.model_extra or {})
    session.add(
        Identity(
            project_id=project.id,
            visitor_id=visitor_id,
            user_id=user.id,
            email=email,
            name=user.name,
            traits=extra or None,
            created_at=now,
        )
    )
    if visitor_id is None:
        return
    _see_visitor(session, project.id, visitor_id, now)
    visitor = session.get(Visitor, (project.id, visitor_id))
    if visitor is not None:
        visitor.user_id = user.id or visitor.user_id
        visitor.email = email or visitor.email
        visitor.name = user.name or visitor.name
    session.flush()
    # Payments by this email that arrived before the identify() may now be attributable.
    hooks.identified(session, project.id, email)
