"""`/api/v1/links`: tracked links, managed with a project secret key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status

from bantico.deps import ProjectDep, SessionDep, SettingsDep, public_base_url
from bantico.kit.search import MAX_QUERY
from bantico.links import schemas, service
from bantico.links.models import Link

router = APIRouter(prefix="/api/v1/links", tags=["links"])


def to_schema(link: Link, base_url: str, clicks: int) -> schemas.Link:
    return schemas.Link(
        id=link.id,
        key=link.key,
        url=f"{base_url}/l/{link.key}",
        destination_url=link.destination_url,
        campaign_id=link.campaign_id,
        source=link.source,
        medium=link.medium,
        content=link.content,
        lead_id=link.lead_id,
        clicks=clicks,
        created_at=link.created_at,
        updated_at=link.updated_at,
        archived_at=link.archived_at,
    )


def _one(request: Request, settings: SettingsDep, session: SessionDep, link: Link) -> schemas.Link:
    clicks = service.click_counts(session, [link.id]).get(link.id, 0)
    return to_schema(link, public_base_url(request, settings), clicks)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_link(
    data: schemas.LinkCreate,
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.Link:
    """Create a tracked link. Its short URL redirects to `destinationUrl` with attribution."""
    link = service.create_link(session, project.id, data)
    return _one(request, settings, session, link)


@router.get("")
def list_links(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    include_archived: Annotated[bool, Query(alias="includeArchived")] = False,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    sort: Literal["created", "clicks", "key"] = "created",
    order: Literal["asc", "desc"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> schemas.LinkList:
    """List the project's links with their human click counts, `limit` at a time (follow
    `nextOffset`). `q` keeps the links whose key, destination, campaign or source contains it
    (any case; `%` and `_` are plain characters). `sort`: `created` (default, newest first),
    `clicks` (most first) or `key` (A to Z); `order=asc|desc` reverses either."""
    page = service.search_links(
        session,
        project.id,
        q=q,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
        include_archived=include_archived,
    )
    counts = service.click_counts(session, (link.id for link in page.links))
    base = public_base_url(request, settings)
    return schemas.LinkList(
        items=[to_schema(ln, base, counts.get(ln.id, 0)) for ln in page.links],
        total=page.total,
        next_offset=offset + len(page.links) if page.has_next else None,
    )


@router.get("/{link_id}")
def get_link(
    link_id: str, request: Request, project: ProjectDep, session: SessionDep, settings: SettingsDep
) -> schemas.Link:
    """One link with its click count."""
    return _one(request, settings, session, service.get_link(session, project.id, link_id))


@router.patch("/{link_id}")
def update_link(
    link_id: str,
    data: schemas.LinkUpdate,
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.Link:
    """Change a link's destination, context or key. Fields sent as null are cleared."""
    link = service.update_link(session, project.id, link_id, data)
    return _one(request, settings, session, link)


@router.delete("/{link_id}")
def archive_link(
    link_id: str, request: Request, project: ProjectDep, session: SessionDep, settings: SettingsDep
) -> schemas.Link:
    """Archive a link: it leaves the list, but its short URL keeps redirecting so that links
    already shared never break."""
    link = service.archive_link(session, project.id, link_id)
    return _one(request, settings, session, link)
