"""Payments: every payment Bantico received, filtered by mode, dates and attribution, and each
payment's page with its attribution explained in plain words (and ready to send to support)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico import __version__
from bantico.attribution.explain import METHOD_NAMES, METHODS
from bantico.dashboard.auth import PageError, ProjectContext
from bantico.dashboard.render import render
from bantico.deps import SessionDep
from bantico.integrations.connections import default_mode
from bantico.kit.errors import NotFound
from bantico.kit.search import MAX_QUERY
from bantico.links.models import Link
from bantico.payments import schemas
from bantico.projects.models import Project
from bantico.reports import payments as queries

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MODES = ("live", "test")
ATTRIBUTED = {"": None, "yes": True, "no": False}
SORTS = ("", *queries.PAYMENT_SORTS)
ORDERS = ("", "asc", "desc")
AMOUNT_CURSOR = re.compile(r"^(\d{1,18})_(\d{1,18})$")
STEP_LABELS = {
    "metadata": "Dodo payment metadata",
    "session": "Context on the visitor",
    "identify": "Identified email",
    "result": "Result",
}
RESULT_LABELS = {"found": "found", "empty": "nothing there", "none": "not attributed"}


def links_by_id(session: Session, project_id: str, ids: Iterable[str | None]) -> dict[str, Link]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(
        select(Link).where(Link.project_id == project_id, Link.id.in_(wanted))
    ).scalars()
    return {link.id: link for link in rows}


def method_label(method: str) -> str:
    return "not attributed" if method == "none" else METHODS.get(method, method)


@dataclass
class PaymentFilters:
    """The list's filters as typed (to show again), their problems, and what they mean."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None

    def query(self, **extra: str) -> str:
        kept = {k: v for k, v in {**self.values, **extra}.items() if v}
        return "?" + urlencode(kept) if kept else ""

    @property
    def sort(self) -> str:
        return self.values["sort"] or "date"

    @property
    def order(self) -> str:
        return self.values["order"] or "desc"

    def next_order(self, sort: str) -> str:
        """Where a column header leads: the other direction if the list is sorted by it,
        else the largest or newest first."""
        if sort == self.sort:
            return "asc" if self.order == "desc" else "desc"
        return "desc"

    def sort_query(self, sort: str) -> str:
        """A column header's link (back to the first page)."""
        order = self.next_order(sort)
        if sort == "date" and order == "desc":
            return self.query(sort="", order="")
        return self.query(sort=sort, order=order)

    def aria_sort(self, sort: str) -> str:
        if sort != self.sort:
            return "none"
        return "ascending" if self.order == "asc" else "descending"


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def read_filters(request: Request, default_mode: str) -> PaymentFilters:
    params = request.query_params
    values = {
        "mode": params.get("mode", "").strip() or default_mode,
        "from": params.get("from", "").strip(),
        "to": params.get("to", "").strip(),
        "attributed": params.get("attributed", "").strip(),
        "link": params.get("link", "").strip(),
        "q": params.get("q", "").strip()[:MAX_QUERY],
        "sort": params.get("sort", "").strip(),
        "order": params.get("order", "").strip(),
    }
    # A sort or order from an old or edited URL falls back to newest first.
    if values["sort"] not in SORTS:
        values["sort"] = ""
    if values["order"] not in ORDERS:
        values["order"] = ""
    checked = PaymentFilters(values)
    if values["mode"] not in MODES:
        checked.errors["mode"] = "Choose live or test."
    if values["attributed"] not in ATTRIBUTED:
        checked.errors["attributed"] = "Choose all, attributed or unattributed."
    first, last = _day(values["from"]), _day(values["to"])
    if values["from"] and first is None:
        checked.errors["from"] = "Enter a date like 2026-01-31."
    if values["to"] and last is None:
        checked.errors["to"] = "Enter a date like 2026-01-31."
    if first and last and first > last:
        checked.errors["to"] = "Pick a day on or after the first day."
    if first:
        checked.since = datetime.combine(first, time(), UTC)
    if last:  # the whole last day is included
        checked.until = datetime.combine(last + timedelta(days=1), time(), UTC)
    return checked


def read_cursor(cursor: str, sort: str) -> tuple[int | None, int | None]:
    """The last row of the previous page: its id (and amount when sorted by amount); a cursor
    that does not fit the sort starts from the first page."""
    if sort == "amount":
        found = AMOUNT_CURSOR.match(cursor)
        return (int(found[2]), int(found[1])) if found else (None, None)
    if cursor.isascii() and cursor.isdigit() and len(cursor) <= 18:
        return int(cursor), None
    return None, None


@router.get("/app/p/{project_id}/payments")
def payments_page(request: Request, scope: ProjectContext, session: SessionDep) -> Response:
    """Payments newest first (or by amount, or oldest first), filtered by mode, dates,
    attribution, link and a search, one page at a time: each page continues after the last
    row of the previous one, whichever the sort."""
    project = scope.project
    filters = read_filters(request, default_mode(session, project.id))
    cursor = request.query_params.get("cursor", "")
    after_id, after_amount = read_cursor(cursor, filters.sort)
    link = None
    if filters.values["link"]:
        link = links_by_id(session, project.id, [filters.values["link"]]).get(
            filters.values["link"]
        )
        if link is None:
            filters.errors["link"] = "There is no such link in this project."
    items: list[schemas.PaymentOut] = []
    next_cursor = None
    if not filters.errors:
        found = queries.list_payments(
            session,
            project.id,
            mode=filters.values["mode"],
            since=filters.since,
            until=filters.until,
            limit=PAGE_SIZE,
            cursor=after_id,
            attributed=ATTRIBUTED[filters.values["attributed"]],
            link_id=link.id if link else None,
            q=filters.values["q"],
            sort=filters.sort,
            order=filters.order,
            cursor_amount=after_amount,
        )
        items, next_cursor = found.items, found.next_cursor
    link_ids = (p.attribution.link_id for p in items if p.attribution)
    return render(
        request,
        "payments.html",
        status_code=422 if filters.errors else 200,
        section="payments",
        filters=filters,
        values=filters.values,
        errors=filters.errors,
        link=link,
        payments=items,
        links=links_by_id(session, project.id, link_ids),
        next_url=filters.query(cursor=next_cursor) if next_cursor else None,
        first_url=filters.query() if cursor else None,
        method_short=METHOD_NAMES,
    )


@router.get("/app/p/{project_id}/payments/{payment_id}")
def payment_page(
    request: Request, scope: ProjectContext, session: SessionDep, payment_id: str
) -> Response:
    """One payment: its attribution and why, refunds, disputes, and a summary for support."""
    try:
        payment = queries.get_payment(session, scope.project.id, payment_id)
    except NotFound:
        raise PageError(
            404,
            "Payment not found",
            "This project has no payment with that id. Check the id, or look for the payment "
            "in the Payments list (it may belong to another project).",
        ) from None
    attribution = payment.attribution
    link = None
    if attribution and attribution.link_id:
        link = links_by_id(session, scope.project.id, [attribution.link_id]).get(
            attribution.link_id
        )
    return render(
        request,
        "payment_detail.html",
        section="payments",
        payment=payment,
        attribution=attribution,
        link=link,
        runs=[trace_run(run) for run in reversed(payment.trace)],
        support_text=support_summary(scope.project, payment, link),
        raw_json=json.dumps(payment.raw, indent=2, sort_keys=True, default=str),
        metadata_json=json.dumps(payment.metadata, indent=2, sort_keys=True, default=str),
        method_label=method_label,
        method_names=METHOD_NAMES,
        step_labels=STEP_LABELS,
        result_labels=RESULT_LABELS,
    )


def trace_run(run: dict[str, Any]) -> dict[str, Any]:
    """One run of the trace, read defensively: old runs may lack fields."""
    try:
        at: datetime | None = datetime.fromisoformat(str(run.get("at")))
    except ValueError:
        at = None
    steps = run.get("steps")
    return {
        "at": at,
        "reason": run.get("reason") or "unknown reason",
        "method": run.get("method") or "none",
        "steps": [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else [],
    }


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def support_summary(project: Project, payment: schemas.PaymentDetail, link: Link | None) -> str:
    """Plain text to paste into a support request. The customer's name and email are left out
    (the customer id is enough to look them up), also from the explanation."""
    total = payment.total.formatted or f"{payment.total.amount} {payment.total.currency}"
    settled = f" (settled {payment.settlement.formatted})" if payment.settlement else ""
    lines = [
        f"Bantico {__version__} · project {project.name} ({project.id})",
        f"Payment {payment.payment_id} from {payment.provider}, {payment.mode} mode, "
        f"status {payment.status}",
        f"Amount: {total}{settled}",
        f"Created: {_when(payment.created_at)} · received by {payment.received_via}",
        f"Customer id: {payment.customer.id or 'none'}",
    ]
    if payment.subscription_id:
        lines.append(f"Subscription: {payment.subscription_id} ({payment.charge_type or '?'})")
    if not payment.counts_as_revenue:
        lines.append(f"Not counted as revenue: {payment.excluded_reason or 'no reason given'}")
    attribution = payment.attribution
    if attribution:
        lines.append(
            f"Attribution: {attribution.method} ({method_label(attribution.method)}), "
            f"confidence {attribution.confidence:.0%}"
        )
        context = {
            "link": attribution.link_id,
            "campaign": attribution.campaign_id,
            "source": attribution.source,
            "medium": attribution.medium,
            "content": attribution.content,
            "lead": attribution.lead_id,
            "visitor": attribution.visitor_id,
        }
        lines.append(
            "Context: " + (", ".join(f"{k} {v}" for k, v in context.items() if v) or "none")
        )
        if link:
            lines.append(f"Link: /l/{link.key} → {link.destination_url}")
    lines.append("Metadata sent: " + json.dumps(payment.metadata, sort_keys=True, default=str))
    for refund in payment.refunds:
        amount = refund.amount.formatted if refund.amount else "unknown amount"
        lines.append(f"Refund {refund.refund_id}: {refund.status}, {amount}")
    for dispute in payment.disputes:
        amount = dispute.amount.formatted if dispute.amount else "unknown amount"
        lines.append(f"Dispute {dispute.dispute_id}: {dispute.status}, {amount} — {dispute.rule}")
    lines.append("")
    lines.append("Explanation:")
    lines.extend(f"- {line}" for line in payment.explanation)
    return _redact("\n".join(lines), payment.customer.email)


def _redact(text: str, email: str | None) -> str:
    if not email or not email.strip():
        return text
    return re.sub(re.escape(email.strip()), "[customer email]", text, flags=re.IGNORECASE)
