"""Now, the card at the top of Reports: visitors of the last five minutes and the latest clicks,
signups and payments. The card asks this fragment for itself again every 10 seconds (htmx
polling; no script of ours)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from bantico.dashboard.auth import ProjectContext
from bantico.dashboard.render import project_url, render_fragment
from bantico.deps import SessionDep
from bantico.integrations.connections import default_mode
from bantico.kit.moments import ago, plural
from bantico.reports.live import live

router = APIRouter(include_in_schema=False)

CARD_ITEMS = 10  # a card, not a log: the API gives up to 100
KINDS = {"click": "Click", "signup": "Signup", "payment": "Payment"}


def _item(item: dict[str, Any], project_id: str, now: datetime) -> dict[str, Any]:
    """One feed item as what (the link clicked, the amount paid), where from (campaign ·
    source, else the link) and when."""
    kind = item["kind"]
    link = f"/l/{item['linkKey']}" if item.get("linkKey") else None
    where = " · ".join(p for p in (item.get("campaign"), item.get("source")) if p)
    what, url = "", None
    if kind == "click":
        what = link or "a tracked link"
    elif kind == "payment":
        what = item["amount"]["formatted"]
        if item["status"] != "succeeded":
            what += f" ({item['status']})"
        url = project_url(project_id, "payments", item["paymentId"])
        if item["method"] == "none":
            where = "unattributed"
    if kind != "click" and not where:
        where = link or "no link context"
    return {
        "kind": kind,
        "label": KINDS[kind],
        "what": what,
        "where": where,
        "at": item["at"],
        "ago": ago(item["at"], now),
        "url": url,
    }


def live_card(session: Session, project_id: str, mode: str) -> dict[str, Any]:
    """The card's data: the counts in words and the feed."""
    data = live(session, project_id, mode=mode, limit=CARD_ITEMS)
    return {
        "mode": mode,
        "visitors": data["visitors"],
        "visitors_text": plural(data["visitors"], "visitor"),
        "clicks_text": plural(data["clicks"], "click"),
        "feed": [_item(item, project_id, data["now"]) for item in data["feed"]],
    }


@router.get("/app/p/{project_id}/reports/live")
def live_fragment(request: Request, scope: ProjectContext, session: SessionDep) -> Response:
    """The Now card alone, for htmx to swap in."""
    mode = request.query_params.get("mode")
    if mode not in ("live", "test"):
        mode = default_mode(session, scope.project.id)
    return render_fragment(
        request, "_reports_live.html", live=live_card(session, scope.project.id, mode)
    )
