"""`GET /l/{key}`: record the click, then send the visitor on with the link's context."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from bantico.db import utcnow
from bantico.ingest import cache_versions
from bantico.ingest.caches import TTLCache
from bantico.ingest.fastpath import Delegate, answer_exception, header, respond
from bantico.ingest.group_commit import group_commit
from bantico.ingest.queued_writes import BulkInsert, execute_soon
from bantico.kit.html import templates
from bantico.kit.ids import ALPHABET
from bantico.links.bots import is_bot
from bantico.links.models import Link
from bantico.links.service import find_by_key
from bantico.tracking.models import Event

router = APIRouter(tags=["redirect"])
PAGES = templates("bantico.links")

CLICK_PARAM = "bantico_click"
LINK_PARAM = "bantico_link"
NO_STORE = {"Cache-Control": "no-store, max-age=0", "X-Robots-Tag": "noindex"}

EVENTS: Table = Event.__table__  # type: ignore[assignment]
# A click, queued and sent with the batch's other clicks (one executemany).
RECORD_CLICK = BulkInsert(
    EVENTS,
    (
        "project_id",
        "name",
        "click_id",
        "link_id",
        "campaign_id",
        "source",
        "medium",
        "content",
        "lead_id",
        "url",
        "referrer",
        "is_bot",
        "props",
    ),
    defaults={"occurred_at": utcnow, "received_at": utcnow},
)
# A browser's Referer can be longer than the column (PostgreSQL refused it with a 500): the
# click is kept with the referrer cut to the column's length.
REFERRER_LENGTH: int = EVENTS.c.referrer.type.length  # type: ignore[attr-defined]


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
# What `RedirectResponse` leaves unquoted in a Location header.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"
_PLAIN = frozenset(ALPHABET + "_")


# Links rarely change, and a redirect must not wait on a read for every click: each process
# keeps a copy of the links it redirected for up to 30 seconds. The copy holds no authoritative
# state. A change to a link (edit, archive, delete) makes every copy stale at once in the
# process that made it, and in every other process sharing the database within
# `cache_versions.CHECK_SECONDS` (see bantico/ingest/cache_versions.py). Unknown keys are
# never kept, so a new link works immediately everywhere.
LINK_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class CachedLink:
    """A copy of the `Link` columns a redirect uses, with its Location header pre-built (and
    pre-quoted, as `RedirectResponse` would) around a placeholder for the click id."""

    id: str
    project_id: str
    destination_url: str
    campaign_id: str | None
    source: str | None
    medium: str | None
    content: str | None
    lead_id: str | None
    _location: tuple[str, str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, link: Link) -> CachedLink:
        """A copy of `link`."""
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
            location = (quote(head, safe=_LOCATION_SAFE), quote(tail, safe=_LOCATION_SAFE))
            object.__setattr__(copy, "_location", location)
        return copy

    def location(self, click_id: str) -> str | None:
        """The pre-built Location header for `click_id`, or None if there is none."""
        # Click ids are letters, digits and '_', which neither urlencode nor quote change.
        if self._location is None or not _PLAIN.issuperset(click_id):
            return None
        return self._location[0] + click_id + self._location[1]

    def redirect(self, click_id: str) -> Response:
        """The same response as `RedirectResponse(destination_with_context(...), 302, ...)`."""
        location = self.location(click_id)
        if location is None:
            return RedirectResponse(destination_with_context(self, click_id), 302, headers=NO_STORE)
        response = Response(status_code=302, headers=NO_STORE)
        response.headers["location"] = location
        return response


@lru_cache(maxsize=4096)
def _is_bot_cached(user_agent: str) -> bool:
    return is_bot(user_agent)


def _is_bot(user_agent: str | None) -> bool:
    """`is_bot`, remembered for the User-Agents seen most (browsers send a handful)."""
    if user_agent is None or len(user_agent) > 512:
        return is_bot(user_agent)
    return _is_bot_cached(user_agent)


# Random bytes to click-id characters in one `bytes.translate`: byte b becomes
# ALPHABET[b % len(ALPHABET)], and the bytes at or over the largest multiple of len(ALPHABET)
# are dropped (rejection sampling keeps each character uniform).
_CLICK_LIMIT = 256 - 256 % len(ALPHABET)
_CLICK_TABLE = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))
_CLICK_REJECT = bytes(range(_CLICK_LIMIT, 256))


def new_click_id() -> str:
    """`clk_` and 16 random letters or digits, as `new_id("clk", 16)`, without 16 calls into
    `secrets.choice`."""
    chars = b""
    while len(chars) < 16:
        chars += secrets.token_bytes(24).translate(_CLICK_TABLE, _CLICK_REJECT)
    return "clk_" + chars[:16].decode("ascii")


async def record_click(
    factory: sessionmaker[Session],
    key: str,
    *,
    head: bool,
    user_agent: str | None,
    referrer: str | None,
) -> tuple[CachedLink | None, str]:
    """Record a click on `key` (committed before this returns, see `GroupCommit`): the link
    (None for an unknown key, nothing then stored) and the click's id."""
    committer = group_commit(factory)
    links: TTLCache[str, CachedLink] = committer.cache(
        "links-by-key", ttl=LINK_TTL_SECONDS, version=cache_versions.LINKS
    )
    bot = head or _is_bot(user_agent)
    click_id = new_click_id()

    def record(session: Session) -> CachedLink | None:
        committer.versions.poll(session)  # another process's edits, read when due
        link = links.get(key)
        if link is None:
            stamp = links.stamp()  # before the read: an edit meanwhile outdates the copy
            found = find_by_key(session, key)
            if found is None:
                return None
            link = CachedLink.of(found)
            links.put(key, link, stamp)
        execute_soon(
            session,
            RECORD_CLICK,
            {  # one executemany for the whole batch
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
                "referrer": referrer and referrer[:REFERRER_LENGTH],
                "is_bot": bot,
                "props": {"userAgent": user_agent[:300]} if bot and user_agent else None,
            },
        )
        return link

    return await committer.run(record), click_id


def _not_found(key: str) -> Response:
    html = PAGES.get_template("not_found.html").render(key=key)
    return HTMLResponse(html, status_code=404, headers=NO_STORE)


@router.get("/l/{key}")
@router.head("/l/{key}", include_in_schema=False)
async def follow_link(key: str) -> Response:
    """Redirect (302) to the link's destination. People's clicks are counted; `HEAD` requests,
    crawlers and link unfurlers are redirected too but stored as bot clicks."""
    return Delegate(lambda scope, receive, send: follow_link_asgi(scope, receive, send, key))


# The one implementation of `GET|HEAD /l/{key}`, served by the fast path
# (bantico/ingest/fastpath.py) in front of the routing, and by the route above for whatever
# the fast path leaves to the app.
_REDIRECT_HEADERS = [
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in NO_STORE.items()
] + [(b"content-length", b"0")]


async def follow_link_asgi(scope: Scope, receive: Receive, send: Send, key: str) -> None:
    try:
        link, click_id = await record_click(
            scope["app"].state.sessionmaker,
            key,
            head=scope["method"] == "HEAD",
            user_agent=header(scope, b"user-agent"),
            referrer=header(scope, b"referer"),
        )
    except Exception as error:
        await answer_exception(scope, receive, send, error)
        return
    if link is None:
        await _not_found(key)(scope, receive, send)
        return
    location = link.location(click_id)
    if location is None:
        await link.redirect(click_id)(scope, receive, send)
        return
    await respond(send, 302, [*_REDIRECT_HEADERS, (b"location", location.encode("latin-1"))])
