"""Links: create tracked links, see what each one brought in, copy its short URL or QR code,
edit or archive it, and follow one link from its clicks to its payments."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bantico.attribution.models import Credit
from bantico.dashboard.auth import PageError, ProjectContext
from bantico.dashboard.forms import Checked, FormData
from bantico.dashboard.render import flash, project_url, redirect, render
from bantico.dashboard.routes.payments import method_label
from bantico.deps import SessionDep, SettingsDep, public_base_url
from bantico.integrations.connections import default_mode
from bantico.kit.errors import Conflict, NotFound
from bantico.kit.money import format_amount
from bantico.kit.search import MAX_QUERY
from bantico.links import schemas, service
from bantico.links.models import Link
from bantico.projects.models import Project
from bantico.reports import funnel as funnel_steps
from bantico.reports import payments as queries
from bantico.reports.attribution import Row, attribution_report
from bantico.reports.filters import Filters, make_filters
from bantico.reports.funnel import funnel
from bantico.reports.revenue import credited_revenue
from bantico.reports.timeseries import Point, timeseries

router = APIRouter(include_in_schema=False)

CONTEXT_FIELDS = ("campaign_id", "source", "medium", "content", "lead_id")
PERIODS = (7, 30, 90, 365)
DEFAULT_DAYS = 90
LINK_PAYMENTS = 25
PAGE_SIZE = 50
# On a link's own page the first step is that link.
STEP_LABELS = {**funnel_steps.STEP_LABELS, "link_clicked": "Clicked the link"}


@dataclass(frozen=True)
class Period:
    """Which payments the numbers count: one mode, the last `days` whole days (UTC)."""

    mode: str
    days: int

    def filters(self, project_id: str) -> Filters:
        tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(), UTC)
        return make_filters(
            project_id,
            mode=self.mode,
            model="last_touch",
            since=tomorrow - timedelta(days=self.days),
            until=tomorrow,
        )


def read_period(request: Request, session: Session, project_id: str) -> Period:
    mode = request.query_params.get("mode", "")
    days = request.query_params.get("days", "")
    return Period(
        mode if mode in ("live", "test") else default_mode(session, project_id),
        int(days) if days.isascii() and days.isdigit() and int(days) in PERIODS else DEFAULT_DAYS,
    )


def short_url(request: Request, settings: SettingsDep, link: Link) -> str:
    return f"{public_base_url(request, settings)}/l/{link.key}"


def find_link(session: Session, project_id: str, link_id: str) -> Link:
    try:
        return service.get_link(session, project_id, link_id)
    except NotFound:
        raise PageError(
            404,
            "Link not found",
            "This project has no link at this address. It may belong to another project.",
        ) from None


# Forms: the schemas validate; these turn their complaints into plain words per field.


def _plain(name: str, error: dict[str, Any], value: str) -> str:
    if name == "destination_url":
        parts = urlsplit(value.strip())
        if not value.strip():
            return "Enter the address the link sends visitors to, like https://example.com."
        if parts.scheme.lower() not in ("http", "https"):
            return "Start the address with https:// or http://, like https://example.com/pricing."
        if not parts.hostname:
            return "Add the site after https://, like https://example.com/pricing."
        return "Use at most 2,048 characters."
    if name == "key":
        return "Use 1 to 64 letters, digits, - or _, starting with a letter or digit (no spaces)."
    if error.get("type") == "string_too_long":
        return "Use at most 200 characters."
    return str(error.get("msg", "Check this value."))


def check_link(form: dict[str, str], *, with_key: bool) -> Checked:
    names = ("destination_url", *CONTEXT_FIELDS, *(("key",) if with_key else ()))
    checked = Checked({name: form.get(name, "").strip() for name in names})
    model = schemas.LinkCreate if with_key else schemas.LinkUpdate
    try:
        checked.clean["data"] = model.model_validate(checked.values)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "destination_url"
            checked.errors.setdefault(name, _plain(name, dict(error), checked.values.get(name, "")))
    return checked


KEY_TAKEN = (
    "Another link already uses this key. Choose another, or leave it empty for a random one."
)


# The list


@dataclass
class Earned:
    """One link's report rows (one per settlement currency; traffic sits on the first)."""

    rows: list[Row] = field(default_factory=list)

    @property
    def payments(self) -> str:
        count = sum(row.payments for row in self.rows)
        return f"{count:.0f}" if count == round(count) else f"{count:.2f}"

    def amounts(self, kind: str) -> list[str]:
        return [
            format_amount(round(getattr(row, kind)), row.currency)
            for row in self.rows
            if row.currency and (row.payments or row.gross)
        ]

    def traffic(self, kind: str) -> int:
        return sum(int(getattr(row, kind)) for row in self.rows)


def earnings(rows: list[Row]) -> dict[str | None, Earned]:
    found: dict[str | None, Earned] = defaultdict(Earned)
    for row in rows:
        found[row.key].rows.append(row)
    return found


def page_earnings(
    session: Session, filters: Filters, link_ids: list[str]
) -> dict[str | None, Earned]:
    """What the page's links earned under `filters`: one query for all of them."""
    if not link_ids:
        return {}
    link_id = Credit.__table__.c.link_id
    query = credited_revenue(filters, link_id).where(link_id.in_(link_ids))
    return earnings(
        [
            Row(key, currency, payments=float(n or 0), gross=float(g or 0), refunded=float(r or 0))
            for key, currency, n, g, r in session.execute(query)
        ]
    )


@dataclass(frozen=True)
class ListView:
    """The list's search, sort and page as asked (unknown values fall back to the defaults),
    and the URLs that keep them."""

    base: str
    period: Period
    archived: bool
    q: str
    sort: str
    order: str
    page: int

    def url(self, **changes: Any) -> str:
        state = {
            "q": self.q,
            "sort": self.sort,
            "order": self.order,
            "page": self.page,
            "mode": self.period.mode,
            "days": self.period.days,
            "archived": "1" if self.archived else "",
            **changes,
        }
        if state["sort"] == "created" and state["order"] == "desc":
            state["sort"] = state["order"] = ""
        if state["page"] == 1:
            state["page"] = ""
        kept = {k: v for k, v in state.items() if v not in ("", None)}
        return self.base + ("?" + urlencode(kept) if kept else "")

    def next_order(self, sort: str) -> str:
        """Where a column header leads: the other direction if the list is sorted by it."""
        if sort == self.sort:
            return "asc" if self.order == "desc" else "desc"
        return service.DEFAULT_ORDER[sort]

    def sort_url(self, sort: str) -> str:
        return self.url(sort=sort, order=self.next_order(sort), page=1)

    def aria_sort(self, sort: str) -> str:
        if sort != self.sort:
            return "none"
        return "ascending" if self.order == "asc" else "descending"


def read_list_view(request: Request, period: Period, base: str) -> ListView:
    params = request.query_params
    sort = params.get("sort", "")
    sort = sort if sort in service.SORTS else "created"
    order = params.get("order", "")
    order = order if order in service.ORDERS else service.DEFAULT_ORDER[sort]
    page = params.get("page", "")
    return ListView(
        base=base,
        period=period,
        archived=params.get("archived") == "1",
        q=params.get("q", "").strip()[:MAX_QUERY],
        sort=sort,
        order=order,
        page=int(page) if page.isascii() and page.isdigit() and len(page) <= 6 and int(page) else 1,
    )


def _list_page(
    request: Request,
    session: Session,
    settings: SettingsDep,
    project: Project,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    period = read_period(request, session, project.id)
    filters = period.filters(project.id)
    view = read_list_view(request, period, project_url(project, "links"))

    def find(page: int) -> service.LinkPage:
        return service.search_links(
            session,
            project.id,
            q=view.q,
            sort=view.sort,
            order=view.order,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            include_archived=view.archived,
            revenue=service.RevenueWindow(filters.mode, filters.since, filters.until),
        )

    found = find(view.page)
    pages = max(1, -(-found.total // PAGE_SIZE))
    if view.page > pages:  # past the end (links were archived meanwhile): show the last page
        view = replace(view, page=pages)
        found = find(pages)
    links = found.links
    ids = [link.id for link in links]
    return render(
        request,
        "links.html",
        status_code=status_code,
        section="links",
        links=links,
        found=found,
        view=view,
        pages=pages,
        urls={link.id: short_url(request, settings, link) for link in links},
        clicks=service.click_counts(session, ids),
        earned=page_earnings(session, filters, ids),
        period=period,
        periods=PERIODS,
        archived=view.archived,
        values=values or {},
        errors=errors or {},
        base_url=public_base_url(request, settings),
    )


@router.get("/app/p/{project_id}/links")
def links_page(
    request: Request, scope: ProjectContext, session: SessionDep, settings: SettingsDep
) -> Response:
    """The project's links with their clicks, payments and revenue, and the form to add one."""
    return _list_page(request, session, settings, scope.project)


@router.post("/app/p/{project_id}/links")
def create_link(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
) -> Response:
    checked = check_link(form, with_key=True)
    link = None
    if checked.ok:
        try:
            link = service.create_link(session, scope.project.id, checked.clean["data"])
        except Conflict:
            checked.errors["key"] = KEY_TAKEN
    if link is None:
        return _list_page(
            request,
            session,
            settings,
            scope.project,
            values=checked.values,
            errors=checked.errors,
            status_code=422,
        )
    response = redirect(project_url(scope.project, "links", link.id))
    flash(request, response, f"Link created: {short_url(request, settings, link)}")
    return response


# One link

CHART_DAYS = 30
CHART_HEIGHT = 100  # of the bars' area, in the SVG's units; each day is 20 wide


@dataclass(frozen=True)
class Bar:
    """One day of the clicks chart, placed in the SVG."""

    day: date
    clicks: int
    x: int
    y: int
    height: int


def click_bars(points: list[Point]) -> list[Bar]:
    most = max((point.clicks for point in points), default=0) or 1
    bars = []
    for number, point in enumerate(points):
        height = round(point.clicks / most * CHART_HEIGHT)
        if point.clicks and not height:
            height = 1
        bars.append(Bar(point.bucket, point.clicks, number * 20 + 2, CHART_HEIGHT - height, height))
    return bars


def revenue_per_click(earned: Earned, clicks: int) -> list[str]:
    """Net revenue per human click, in each settlement currency (rounded to its smallest
    unit); nothing without clicks."""
    if not clicks:
        return []
    return [
        format_amount(round(row.net / clicks), row.currency)
        for row in earned.rows
        if row.currency and (row.payments or row.gross)
    ]


@router.get("/app/p/{project_id}/links/{link_id}")
def link_page(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    link_id: str,
) -> Response:
    """One link: its details, QR code, funnel, numbers and the payments attributed to it."""
    project_id = scope.project.id
    link = find_link(session, project_id, link_id)
    period = read_period(request, session, project_id)
    filters = period.filters(project_id)
    steps = funnel(session, filters, "link", link.id)
    report = attribution_report(session, filters, "link")
    earned = earnings(report.rows).get(link.id, Earned())
    chart = Period(period.mode, CHART_DAYS).filters(project_id)
    bars = click_bars(timeseries(session, chart, "day", "link", link.id))
    payments = queries.list_payments(
        session,
        project_id,
        mode=period.mode,
        since=None,
        until=None,
        limit=LINK_PAYMENTS,
        cursor=None,
        link_id=link.id,
    )
    return render(
        request,
        "link_detail.html",
        section="links",
        link=link,
        url=short_url(request, settings, link),
        clicks=service.click_counts(session, [link.id]).get(link.id, 0),
        period=period,
        periods=PERIODS,
        steps=steps,
        step_labels=STEP_LABELS,
        first_step=steps[0].visitors if steps else 0,
        earned=earned,
        per_click=revenue_per_click(earned, earned.traffic("clicks")),
        bars=bars,
        chart_days=CHART_DAYS,
        chart_clicks=sum(bar.clicks for bar in bars),
        referrers=service.top_referrers(
            session, project_id, link.id, since=filters.since, until=filters.until
        ),
        payments=payments.items,
        more_payments=payments.next_cursor is not None,
        method_label=method_label,
    )


@router.get("/app/p/{project_id}/links/{link_id}/edit")
def edit_link_page(
    request: Request, scope: ProjectContext, session: SessionDep, link_id: str
) -> Response:
    link = find_link(session, scope.project.id, link_id)
    values = {name: getattr(link, name) or "" for name in ("destination_url", *CONTEXT_FIELDS)}
    return render(request, "link_edit.html", section="links", link=link, values=values, errors={})


@router.post("/app/p/{project_id}/links/{link_id}/edit")
def edit_link(
    request: Request, scope: ProjectContext, session: SessionDep, link_id: str, form: FormData
) -> Response:
    link = find_link(session, scope.project.id, link_id)
    checked = check_link(form, with_key=False)
    if not checked.ok:
        return render(
            request,
            "link_edit.html",
            status_code=422,
            section="links",
            link=link,
            values=checked.values,
            errors=checked.errors,
        )
    service.update_link(session, scope.project.id, link.id, checked.clean["data"])
    response = redirect(project_url(scope.project, "links", link.id))
    flash(
        request,
        response,
        "Link saved. Its short URL is unchanged; new clicks carry the new context.",
    )
    return response


@router.post("/app/p/{project_id}/links/{link_id}/archive")
def archive_link(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    link_id: str,
) -> Response:
    link = find_link(session, scope.project.id, link_id)
    service.archive_link(session, scope.project.id, link.id)
    response = redirect(project_url(scope.project, "links"))
    flash(
        request,
        response,
        f"Link archived. {short_url(request, settings, link)} still redirects to "
        f"{link.destination_url}, so places where you shared it keep working; it is only "
        "hidden from this list.",
    )
    return response


# QR codes of the short URL: SVG for the page and for print, PNG for everything else.

SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _qr_response(
    request: Request, settings: SettingsDep, link: Link, kind: str, download: bool
) -> Response:
    code = segno.make(short_url(request, settings, link), error="m", micro=False)
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=8, border=4, dark="#000", light="#fff", xmldecl=False)
        media_type = "image/svg+xml"
    else:
        code.save(buffer, kind="png", scale=10, border=4, dark="#000", light="#fff")
        media_type = "image/png"
    name = f"bantico-link-{SAFE_NAME.sub('_', link.key)}.{kind}"
    disposition = "attachment" if download else "inline"
    return Response(
        buffer.getvalue(),
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


@router.get("/app/p/{project_id}/links/{link_id}/qr.svg")
def link_qr_svg(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    link_id: str,
) -> Response:
    """The short URL's QR code as SVG (`?download=1` to save it as a file)."""
    link = find_link(session, scope.project.id, link_id)
    download = request.query_params.get("download") == "1"
    return _qr_response(request, settings, link, "svg", download)


@router.get("/app/p/{project_id}/links/{link_id}/qr.png")
def link_qr_png(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    link_id: str,
) -> Response:
    """The short URL's QR code as PNG, to download."""
    link = find_link(session, scope.project.id, link_id)
    download = request.query_params.get("download", "1") == "1"
    return _qr_response(request, settings, link, "png", download)
