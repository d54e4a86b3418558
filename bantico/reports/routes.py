"""`/api/v1/reports/*`: attribution, time series and funnel, as JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from bantico.deps import ProjectDep, SessionDep
from bantico.kit.errors import Invalid
from bantico.reports import present
from bantico.reports.attribution import attribution_report
from bantico.reports.filters import Dimension, Filters, Mode, make_filters
from bantico.reports.funnel import funnel
from bantico.reports.live import MAX_LIMIT, live
from bantico.reports.summary import summary
from bantico.reports.timeseries import timeseries

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
Format = Literal["json", "csv"]
# The document says a report comes as JSON or, with `format=csv`, as CSV.
JSON_OR_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: JSON, or CSV with `format=csv`",
        "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
    }
}


def report_filters(
    project: ProjectDep,
    mode: Mode = "live",
    model: Annotated[
        str, Query(description="last_touch (default), first_touch or linear")
    ] = "last_touch",
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Filters:
    return make_filters(project.id, mode=mode, model=model, since=since, until=until)


FiltersDep = Annotated[Filters, Depends(report_filters)]


def scope(link_id: str | None, campaign_id: str | None) -> tuple[str | None, str | None]:
    if link_id and campaign_id:
        raise Invalid("give linkId or campaignId, not both")
    if link_id:
        return "link", link_id
    if campaign_id:
        return "campaign", campaign_id
    return None, None


def _reply(data: dict[str, Any], csv_text: str, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(
            csv_text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(present.jsonable(data))


@router.get("/attribution", responses=JSON_OR_CSV)
def attribution(
    filters: FiltersDep,
    session: SessionDep,
    group_by: Annotated[Dimension, Query(alias="groupBy")] = "campaign",
    format: Format = "json",
) -> Response:
    """Clicks, unique visitors, signups, payments, gross / refunded / net revenue (settlement
    currency), conversion rate and average order value per link, campaign, source, medium,
    content or lead. Unattributed revenue is its own row (key null). In test mode the
    conversion rate is null and `note` says why (visits have no mode)."""
    data = present.attribution_out(session, attribution_report(session, filters, group_by))
    return _reply(data, present.attribution_csv(data), format, f"attribution-by-{group_by}")


@router.get("/timeseries", responses=JSON_OR_CSV)
def series(
    filters: FiltersDep,
    session: SessionDep,
    interval: Literal["day", "week", "month"] = "day",
    link_id: Annotated[str | None, Query(alias="linkId")] = None,
    campaign_id: Annotated[str | None, Query(alias="campaignId")] = None,
    format: Format = "json",
) -> Response:
    """Clicks, visitors and revenue per day, week or month (UTC), overall or for one link or
    campaign."""
    dimension, value = scope(link_id, campaign_id)
    points = timeseries(session, filters, interval, dimension, value)
    data = present.timeseries_out(filters, interval, points)
    return _reply(data, present.timeseries_csv(data), format, f"timeseries-{interval}")


@router.get("/funnel", responses=JSON_OR_CSV)
def steps(
    filters: FiltersDep,
    session: SessionDep,
    link_id: Annotated[str | None, Query(alias="linkId")] = None,
    campaign_id: Annotated[str | None, Query(alias="campaignId")] = None,
    format: Format = "json",
) -> Response:
    """Visitors who reached each of the six core steps, in order, overall or for one link or
    campaign."""
    dimension, value = scope(link_id, campaign_id)
    data = present.funnel_out(filters, funnel(session, filters, dimension, value))
    return _reply(data, present.funnel_csv(data), format, "funnel")


@router.get("/summary")
def headline(filters: FiltersDep, session: SessionDep) -> JSONResponse:
    """The headline figures of the range (visitors, clicks, signups, paying customers, net
    revenue in the main settlement currency, conversion = paying visitors / visitors, and
    revenue per visitor), each with its value over the previous range of the same length and
    the relative change (null when there is nothing to compare with). Conversion and revenue
    per visitor are null in test mode: visits have no mode."""
    return JSONResponse(
        present.jsonable({**present.filters_out(filters), **summary(session, filters)})
    )


@router.get("/live")
def now(
    project: ProjectDep,
    session: SessionDep,
    mode: Mode = "live",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items in the feed")] = 20,
) -> JSONResponse:
    """Now: `visitors`, the distinct visitors with a human event in the last five minutes,
    `clicks`, the human link clicks in them, and `feed`, the latest `limit` (1 to 100, default
    20) human link clicks, signups (`signup_completed`) and payments of `mode`, newest first.
    Each item has its `kind` (click, signup, payment), its time `at` (when the event happened;
    a payment's creation at the provider) and its context: link (`linkId`, `linkKey`,
    `destination`), `campaignId` and `campaign` (its name), `source`, `medium`; a payment
    also its `paymentId`, `status`, `amount` (with `formatted`) and attribution `method`.
    Bots never count; test and live payments never mix (clicks and signups have no mode).
    Poll it: the dashboard asks every 10 seconds."""
    data = live(session, project.id, mode=mode, limit=limit)
    return JSONResponse(present.jsonable(data))
