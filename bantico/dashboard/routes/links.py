"""Links: create tracked links, see what each one brought in, copy its short URL or QR code,
edit or archive it, and follow one link from its clicks to its payments."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bantico.dashboard.auth import PageError, ProjectContext
from bantico.dashboard.forms import Checked, FormData
from bantico.dashboard.render import flash, project_url, redirect, render
from bantico.dashboard.routes.payments import method_label
from bantico.deps import SessionDep, SettingsDep, public_base_url
from bantico.integrations.connections import default_mode
from bantico.kit.errors import Conflict, NotFound
from bantico.kit.money import format_amount
from bantico.links import schemas, service
from bantico.links.models import Link
from bantico.reports import funnel as funnel_steps
from bantico.reports import payments as queries
from bantico.reports.attribution import Row, attribution_report
from bantico.reports.filters import Filters, make_filters
from bantico.reports.funnel import funnel

router = APIRouter(include_in_schema=False)

CONTEXT_FIELDS = ("campaign_id", "source", "medium", "content", "lead_id")
PERIODS = (7, 30, 90, 365)
DEFAULT_DAYS = 90
LINK_PAYMENTS = 25
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
        int(days) if days.isdigit() and int(days) in PERIODS else DEFAULT_DAYS,
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


def _list_page(
    request: Request,
    session: Session,
    settings: SettingsDep,
    project_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    period = read_period(request, session, project_id)
    archived = request.query_params.get("archived") == "1"
    links = service.list_links(session, project_id, include_archived=archived)
    report = attribution_report(session, period.filters(project_id), "link")
    return render(
        request,
        "links.html",
        status_code=status_code,
        section="links",
        links=links,
        urls={link.id: short_url(request, settings, link) for link in links},
        clicks=service.click_counts(session, (link.id for link in links)),
        earned=earnings(report.rows),
        period=period,
        periods=PERIODS,
        archived=archived,
        values=values or {},
        errors=errors or {},
        base_url=public_base_url(request, settings),
    )


@router.get("/app/p/{project_id}/links")
def links_page(
    request: Request, scope: ProjectContext, session: SessionDep, settings: SettingsDep
) -> Response:
    """The project's links with their clicks, payments and revenue, and the form to add one."""
    return _list_page(request, session, settings, scope.project.id)


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
            scope.project.id,
            values=checked.values,
            errors=checked.errors,
            status_code=422,
        )
    response = redirect(project_url(scope.project, "links", link.id))
    flash(request, response, f"Link created: {short_url(request, settings, link)}")
    return response


# One link


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
        earned=earnings(report.rows).get(link.id, Earned()),
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
