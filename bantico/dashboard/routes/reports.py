"""Reports: revenue and traffic by link, campaign, source, medium, content or lead under one
attribution model, over time, and the funnel, with CSV downloads.

The controls are a GET form, so every view is a URL that can be bookmarked or shared. The CSV
routes take the same query and sit behind the login (the JSON API needs a secret key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from bantico.dashboard.auth import PageError, ProjectContext
from bantico.dashboard.render import render
from bantico.dashboard.routes.live import live_card
from bantico.deps import SessionDep
from bantico.integrations.connections import default_mode
from bantico.integrations.dodo.models import DodoIntegration
from bantico.kit.money import exponent
from bantico.reports import present
from bantico.reports.attribution import attribution_report
from bantico.reports.filters import EARLIEST, LATEST, Filters, make_filters
from bantico.reports.funnel import STEP_LABELS, funnel
from bantico.reports.summary import previous, summary
from bantico.reports.timeseries import timeseries

router = APIRouter(include_in_schema=False)

DIMENSIONS = {
    "link": "Link",
    "campaign": "Campaign",
    "source": "Source",
    "medium": "Medium",
    "content": "Content",
    "lead": "Lead",
}
MODELS = {"last_touch": "Last touch", "first_touch": "First touch", "linear": "Linear"}
MODES = {"live": "Live", "test": "Test"}
RANGES = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "custom": "Custom dates"}
INTERVALS = {"day": "Day", "week": "Week", "month": "Month"}
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class ReportView:
    """What the form asked for, with defaults filled in. `start` and `end` are whole UTC days,
    both shown (the filters' `until` is the day after `end`)."""

    group_by: str
    model: str
    mode: str
    range: str
    start: date
    end: date
    interval: str
    errors: dict[str, str] = field(default_factory=dict)
    entered: dict[str, str] = field(default_factory=dict)

    def filters(self, project_id: str) -> Filters:
        return make_filters(
            project_id,
            mode=self.mode,
            model=self.model,
            since=datetime.combine(self.start, datetime.min.time(), UTC),
            until=datetime.combine(self.end + timedelta(days=1), datetime.min.time(), UTC),
        )

    def query(self) -> str:
        """The view as a query string. Presets keep no dates, so a shared link stays "the last
        30 days" rather than freezing the days it was made on."""
        params = {
            "groupBy": self.group_by,
            "model": self.model,
            "mode": self.mode,
            "range": self.range,
            "interval": self.interval,
        }
        if self.range == "custom":
            params.update({"from": self.start.isoformat(), "to": self.end.isoformat()})
        return urlencode(params)

    @property
    def values(self) -> dict[str, str]:
        """The form's values: dates as entered when they were wrong, else the days shown."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), **self.entered}


def _choice(value: str | None, choices: dict[str, str], default: str) -> str:
    # Unknown values only come from edited URLs: show the default rather than an error page.
    return value if value in choices else default


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        errors[name] = "Enter a date."
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None
    if not EARLIEST.date() <= day < LATEST.date():
        errors[name] = f"Enter a date from {EARLIEST.year} to {LATEST.year - 1}."
        return None
    return day


def read_view(request: Request, scope: ProjectContext, session: SessionDep) -> ReportView:
    query = request.query_params
    today = datetime.now(UTC).date()
    chosen = _choice(query.get("range"), RANGES, "30")
    errors: dict[str, str] = {}
    entered: dict[str, str] = {}
    start, end = today - timedelta(days=29), today
    if chosen == "custom":
        entered = {"from": query.get("from", "").strip(), "to": query.get("to", "").strip()}
        first = _day(entered["from"], "from", errors)
        last = _day(entered["to"], "to", errors)
        if first and last and first > last:
            errors["to"] = "The end date must be on or after the start date."
        elif first and last and (last - first).days >= MAX_DAYS:
            errors["to"] = "Choose at most three years."
        elif first and last:
            start, end, entered = first, last, {}
    else:
        start = today - timedelta(days=int(chosen) - 1)
    days = (end - start).days + 1
    interval = "day" if days <= 92 else "week" if days <= 731 else "month"
    return ReportView(
        group_by=_choice(query.get("groupBy"), DIMENSIONS, "campaign"),
        model=_choice(query.get("model"), MODELS, "last_touch"),
        mode=_choice(query.get("mode"), MODES, "") or default_mode(session, scope.project.id),
        range=chosen,
        start=start,
        end=end,
        interval=_choice(query.get("interval"), INTERVALS, interval),
        errors=errors,
        entered=entered,
    )


ViewDep = Annotated[ReportView, Depends(read_view)]


def _major(amount: int, currency: str) -> float:
    return float(amount / 10 ** exponent(currency))


def _epoch(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).timestamp())


def revenue_chart(data: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The time series for reports.js: bucket starts (Unix seconds), net revenue per currency
    in major units, and clicks; with `previous` (the series of the period before, of the same
    length), its net revenue in the main currency, bucket for bucket, for a faint line."""
    points = data["points"]
    nets = [r["net"]["amount"] for p in points for r in p["revenue"]]
    chart: dict[str, Any] = {
        "empty": not any(p["clicks"] for p in points) and not any(nets),
        "interval": data["interval"],
        "x": [_epoch(p["bucket"]) for p in points],
        "clicks": [p["clicks"] for p in points],
        "net": [
            {
                "currency": currency,
                "values": [_major(p["revenue"][i]["net"]["amount"], currency) for p in points],
            }
            for i, currency in enumerate(data["currencies"])
        ],
    }
    if previous is not None:
        currency = (data["currencies"] or previous["currencies"] or ["USD"])[0]
        before = [_net_in(p, previous["currencies"], currency) for p in previous["points"]]
        before = (before + [None] * len(points))[: len(points)]  # bucket for bucket
        if any(before):
            chart["previous"] = {"currency": currency, "values": before}
    return chart


def _net_in(point: dict[str, Any], currencies: list[str], currency: str) -> float | None:
    if currency not in currencies:
        return 0.0
    return _major(point["revenue"][currencies.index(currency)]["net"]["amount"], currency)


def funnel_chart(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "empty": not any(s["visitors"] for s in data["steps"]),
        "labels": [STEP_LABELS[s["step"]] for s in data["steps"]],
        "visitors": [s["visitors"] for s in data["steps"]],
    }


def number(value: float | int | None) -> str:
    """Counts, and fractional payments under the linear model: 1,234 · 1.5 · 0.33."""
    if value is None:
        return "—"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"


percent = present.percent


def _filename(kind: str, view: ReportView) -> str:
    return f"{kind}-{view.mode}-{view.start.isoformat()}-to-{view.end.isoformat()}.csv"


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _valid(view: ReportView, project_id: str) -> Filters:
    if view.errors:
        raise PageError(422, "Check the dates", " ".join(view.errors.values()))
    return view.filters(project_id)


@router.get("/app/p/{project_id}/reports")
def reports_page(
    request: Request, scope: ProjectContext, session: SessionDep, view: ViewDep
) -> Response:
    context: dict[str, Any] = {
        "section": "reports",
        "view": view,
        "dimensions": DIMENSIONS,
        "models": MODELS,
        "modes": MODES,
        "ranges": RANGES,
        "intervals": INTERVALS,
        "dodo_connected": session.get(DodoIntegration, scope.project.id) is not None,
        "number": number,
        "percent": percent,
    }
    if view.errors:
        return render(request, "reports.html", status_code=422, **context)
    filters = view.filters(scope.project.id)
    table = present.attribution_out(session, attribution_report(session, filters, view.group_by))
    series = present.timeseries_out(
        filters, view.interval, timeseries(session, filters, view.interval)
    )
    before = previous(filters)
    previous_series = present.timeseries_out(
        before, view.interval, timeseries(session, before, view.interval)
    )
    steps = present.funnel_out(filters, funnel(session, filters))
    return render(
        request,
        "reports.html",
        **context,
        headline=present.headline(summary(session, filters)),
        live=live_card(session, scope.project.id, view.mode),
        table=table,
        series=series,
        steps=steps,
        step_labels=STEP_LABELS,
        revenue_chart=revenue_chart(series, previous_series),
        funnel_chart=funnel_chart(steps),
        has_traffic=any(p["clicks"] or p["uniqueVisitors"] for p in series["points"]),
    )


@router.get("/app/p/{project_id}/reports/attribution.csv")
def attribution_csv(scope: ProjectContext, session: SessionDep, view: ViewDep) -> Response:
    """The report table as CSV (amounts in major units of the settlement currency)."""
    filters = _valid(view, scope.project.id)
    data = present.attribution_out(session, attribution_report(session, filters, view.group_by))
    return _csv(present.attribution_csv(data), _filename(f"attribution-by-{view.group_by}", view))


@router.get("/app/p/{project_id}/reports/timeseries.csv")
def timeseries_csv(scope: ProjectContext, session: SessionDep, view: ViewDep) -> Response:
    """Clicks, visitors and revenue per day, week or month as CSV."""
    filters = _valid(view, scope.project.id)
    points = timeseries(session, filters, view.interval)
    data = present.timeseries_out(filters, view.interval, points)
    return _csv(present.timeseries_csv(data), _filename(f"timeseries-{view.interval}", view))


@router.get("/app/p/{project_id}/reports/funnel.csv")
def funnel_csv(scope: ProjectContext, session: SessionDep, view: ViewDep) -> Response:
    """The six funnel steps as CSV."""
    filters = _valid(view, scope.project.id)
    data = present.funnel_out(filters, funnel(session, filters))
    return _csv(present.funnel_csv(data), _filename("funnel", view))
