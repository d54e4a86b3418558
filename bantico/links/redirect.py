"""`GET /l/{key}`: record the click, then send the visitor on with the link's context."""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session, UOWTransaction

from bantico.db import TTLCache, execute_soon, group_commit
from bantico.ids import ALPHABET
from bantico.links.bots import is_bot
from bantico.links.models import Link
from bantico.links.service import find_by_key
from bantico.tracking.models import Event

router = APIRouter(tags=["redirect"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

CLICK_PARAM = "bantico_click"
LINK_PARAM = "bantico_link"
NO_STORE = {"Cache-Control": "no-store, max-age=0", "X-Robots-Tag": "noindex"}

EVENTS: Table = Event.__table__  # type: ignore[assignment]
# Built once and run with parameters: building `.values(...)` per click costs more than the insert.
RECORD_CLICK = insert(EVENTS)


class LinkContext(Protocol):
    """What a redirect needs of a link (a `Link` row or its cached copy)."""

    @property
    def id(self) -> str: ...
    @property
    def destination_url(self) -> str: ...
    @property
    def campaign_id(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def medium(self) -> str | None: ...
    @property
    def content(self) -> str | None: ...


def destination_with_context(link: LinkContext, click_id: str) -> str:
    parts = urlsplit(link.destination_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    utm = {
        "utm_source": link.source,
        "utm_medium": link.medium,
        "utm_campaign": link.campaign_id,
        "utm_content": link.content,
    }
    query += [(name, value) for name, value in utm.items() if value and name not in present]
    query += [(CLICK_PARAM, click_id), (LINK_PARAM, link.id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


_MARKER = "bnt0click0marker0x7f"


@dataclass(frozen=True)
class CachedLink:
    """A copy of the `Link` columns a redirect uses, with the destination pre-built around a
    placeholder so that each click only has to put its click id in."""

    id: str
    project_id: str
    destination_url: str
    campaign_id: str | None
    source: str | None
    medium: str | None
    content: str | None
    lead_id: str | None
    _template: tuple[str, str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, link: Link) -> CachedLink:
        copy = cls(
            link.id,
            link.project_id,
            link.destination_url,
            link.campaign_id,
            link.source,
            link.medium,
            link.content,
            link.lead_id,
        )
        template = destination_with_context(copy, _MARKER)
        if template.count(_MARKER) == 1:
            head, _, tail = template.partition(_MARKER)
            object.__setattr__(copy, "_template", (head, tail))
        return copy

    def destination(self, click_id: str) -> str:
        # Click ids are letters, digits and '_', which urlencode leaves as they are.
        if self._template is None or not _is_plain(click_id):
            return destination_with_context(self, click_id)
        head, tail = self._template
        return head + click_id + tail


def _is_plain(value: str) -> bool:
    return all(ch in _PLAIN for ch in value)


_PLAIN = frozenset(ALPHABET + "_")


# Links rarely change, and a redirect must not wait on a read for every click: each app keeps
# a copy of the links it redirected for up to 30 seconds. The copy holds no authoritative state.
# A change made through this process (create, edit, archive) clears it at once; with several
# worker processes the others may redirect with the old destination or context for up to
# 30 seconds after an edit. Unknown keys are never cached, so a new link works immediately.
LINK_TTL_SECONDS = 30.0
_link_caches: weakref.WeakSet[TTLCache[str, CachedLink]] = weakref.WeakSet()


def _forget_links() -> None:
    for cache in list(_link_caches):
        cache.clear()


@event.listens_for(Session, "after_flush")
def _links_changed(session: Session, _flush: UOWTransaction) -> None:
    if any(isinstance(obj, Link) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["bantico.links_changed"] = True
        _forget_links()


@event.listens_for(Session, "after_commit")
def _links_committed(session: Session) -> None:
    if session.info.pop("bantico.links_changed", False):
        _forget_links()


def _link_cache(request: Request) -> TTLCache[str, CachedLink]:
    committer = group_commit(request.app.state.sessionmaker)
    cache: TTLCache[str, CachedLink] = committer.cache("links-by-key", ttl=LINK_TTL_SECONDS)
    _link_caches.add(cache)
    return cache


@lru_cache(maxsize=4096)
def _is_bot(user_agent: str | None) -> bool:
    return is_bot(user_agent)


def new_click_id() -> str:
    """`clk_` and 16 random letters or digits, as `new_id("clk", 16)`, without 16 calls into
    `secrets.choice` (rejection sampling keeps each character uniform)."""
    chars: list[str] = []
    limit = 256 - 256 % len(ALPHABET)
    while len(chars) < 16:
        chars += [ALPHABET[b % len(ALPHABET)] for b in secrets.token_bytes(20) if b < limit]
    return "clk_" + "".join(chars[:16])


@router.get("/l/{key}")
@router.head("/l/{key}", include_in_schema=False)
async def follow_link(key: str, request: Request) -> Response:
    """Redirect (302) to the link's destination. People's clicks are counted; `HEAD` requests,
    crawlers and link unfurlers are redirected too but stored as bot clicks."""
    links = _link_cache(request)
    cached = links.get(key)
    user_agent = request.headers.get("user-agent")
    bot = request.method == "HEAD" or _is_bot(user_agent)
    click_id = new_click_id()
    referrer = request.headers.get("referer")

    def record(session: Session) -> CachedLink | None:
        link = cached
        if link is None:
            found = find_by_key(session, key)
            if found is None:
                return None
            link = CachedLink.of(found)
            links.put(key, link)
        values: dict[str, Any] = {
            "project_id": link.project_id,
            "name": "link_clicked",
            "click_id": click_id,
            "link_id": link.id,
            "campaign_id": link.campaign_id,
            "source": link.source,
            "medium": link.medium,
            "content": link.content,
            "lead_id": link.lead_id,
            "url": link.destination_url,
            "referrer": referrer,
            "is_bot": bot,
            "props": {"userAgent": user_agent[:300]} if bot and user_agent else None,
        }
        execute_soon(session, RECORD_CLICK, values)  # one executemany for the whole batch
        return link

    # The click is committed before the redirect is sent (see `GroupCommit`).
    link = await group_commit(request.app.state.sessionmaker).run(record)
    if link is None:
        return templates.TemplateResponse(
            request, "not_found.html", {"key": key}, status_code=404, headers=NO_STORE
        )
    return RedirectResponse(link.destination(click_id), 302, headers=NO_STORE)
