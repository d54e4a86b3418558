"""`GET /l/{key}`: record the click, then send the visitor on with the link's context."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import insert

from bantico.deps import SessionDep
from bantico.ids import new_id
from bantico.links.bots import is_bot
from bantico.links.models import Link
from bantico.links.service import find_by_key
from bantico.tracking.models import Event

router = APIRouter(tags=["redirect"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

CLICK_PARAM = "bantico_click"
LINK_PARAM = "bantico_link"
NO_STORE = {"Cache-Control": "no-store, max-age=0", "X-Robots-Tag": "noindex"}


def destination_with_context(link: Link, click_id: str) -> str:
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


@router.get("/l/{key}")
@router.head("/l/{key}", include_in_schema=False)
def follow_link(key: str, request: Request, session: SessionDep) -> Response:
    """Redirect (302) to the link's destination. People's clicks are counted; `HEAD` requests,
    crawlers and link unfurlers are redirected too but stored as bot clicks."""
    link = find_by_key(session, key)
    if link is None:
        return templates.TemplateResponse(
            request, "not_found.html", {"key": key}, status_code=404, headers=NO_STORE
        )
    user_agent = request.headers.get("user-agent")
    bot = request.method == "HEAD" or is_bot(user_agent)
    click_id = new_id("clk", 16)
    session.execute(
        insert(Event).values(
            project_id=link.project_id,
            name="link_clicked",
            click_id=click_id,
            link_id=link.id,
            campaign_id=link.campaign_id,
            source=link.source,
            medium=link.medium,
            content=link.content,
            lead_id=link.lead_id,
            url=link.destination_url,
            referrer=request.headers.get("referer"),
            is_bot=bot,
            props={"userAgent": user_agent[:300]} if bot and user_agent else None,
        )
    )
    return RedirectResponse(destination_with_context(link, click_id), 302, headers=NO_STORE)


