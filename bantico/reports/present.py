"""Turning report rows into API objects and CSV: rounded minor units plus formatted amounts."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.kit.money import exponent, format_amount
from bantico.links.models import Campaign, Lead, Link
from bantico.reports.attribution import Report, Row
from bantico.reports.filters import Filters
from bantico.reports.funnel import Step
from bantico.reports.timeseries import Point, Revenue

UNATTRIBUTED = "Unattributed"


def money(amount: float, currency: str) -> dict[str, Any]:
    minor = round(amount)
    return {"amount": minor, "currency": currency, "formatted": format_amount(minor, currency)}


def major(amount: float, currency: str) -> str:
    digits = exponent(currency)
    return f"{Decimal(round(amount)).scaleb(-digits):.{digits}f}"


def labels(
    session: Session, project_id: str, dimension: str, keys: Iterable[str | None]
) -> dict[str | None, str]:
    wanted = [k for k in keys if k]
    found: dict[str | None, str] = {None: UNATTRIBUTED if dimension != "link" else "No link"}
    if dimension == "link" and wanted:
        query = select(Link).where(Link.project_id == project_id, Link.id.in_(wanted))
        for link in session.execute(query).scalars():
            found[link.id] = f"/l/{link.key} → {link.destination_url}"
    elif dimension in ("campaign", "lead") and wanted:
        model = Campaign if dimension == "campaign" else Lead
        for row in session.execute(
            select(model.key, model.name).where(
                model.project_id == project_id, model.key.in_(wanted)
            )
        ):
            found[row.key] = row.name or row.key
    if dimension != "link":
        found[None] = UNATTRIBUTED
    return {**{k: k for k in wanted}, **found}


def main_currency(rows: list[Row]) -> str:
    counts = Counter(r.currency for r in rows if r.currency)
    return counts.most_common(1)[0][0] if counts else "USD"


# Visits have no mode: in test mode the clicks and visitors are the site's real traffic while the
# payments are test purchases, so a conversion rate between them would mean nothing.
TEST_MODE_NOTE = (
    "Test mode counts test payments against all of the site's clicks and visitors (visits have "
    "no mode), so conversion is shown in live mode only."
)


def row_out(row: Row, label: str, currency: str, *, conversion: bool = True) -> dict[str, Any]:
    cur = row.currency or currency
    return {
        "key": row.key,
        "label": label,
        "currency": cur,
        "clicks": row.clicks,
        "uniqueVisitors": row.visitors,
        "signups": row.signups,
        "payments": round(row.payments, 4),
        "gross": money(row.gross, cur),
        "refunded": money(row.refunded, cur),
        "net": money(row.net, cur),
        "conversionRate": round(row.payments / row.visitors, 4)
        if row.visitors and conversion
        else None,
        "averageOrderValue": money(row.gross / row.payments, cur) if row.payments else None,
    }


def totals(rows: list[Row], currency: str) -> list[dict[str, Any]]:
    by_currency: dict[str, Row] = {}
    for row in rows:
        cur = row.currency or currency
        total = by_currency.setdefault(cur, Row("total", cur))
        total.clicks += row.clicks
        total.visitors += row.visitors
        total.signups += row.signups
        total.payments += row.payments
        total.gross += row.gross
        total.refunded += row.refunded
    out = []
    for cur, total in by_currency.items():
        item = row_out(total, "Total", cur)
        item["uniqueVisitors"] = None  # visitors can appear in several rows; no honest sum
        item["conversionRate"] = None
        out.append(item)
    return out


def filters_out(filters: Filters) -> dict[str, Any]:
    return {
        "mode": filters.mode,
        "model": filters.model,
        "from": filters.since,
        "to": filters.until,
    }


def attribution_out(session: Session, report: Report) -> dict[str, Any]:
    names = labels(
        session, report.filters.project_id, report.dimension, [r.key for r in report.rows]
    )
    currency = main_currency(report.rows)
    live = report.filters.mode == "live"
    return {
        "groupBy": report.dimension,
        **filters_out(report.filters),
        "rows": [
            row_out(r, names.get(r.key, r.key or UNATTRIBUTED), currency, conversion=live)
            for r in report.rows
        ],
        "totals": totals(report.rows, currency),
        "note": None if live else TEST_MODE_NOTE,
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """CSV-safe: no spreadsheet formulas from labels people typed, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def to_csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue()


def attribution_csv(data: dict[str, Any]) -> str:
    header = [
        data["groupBy"],
        "label",
        "currency",
        "clicks",
        "unique_visitors",
        "signups",
        "payments",
        "gross",
        "refunded",
        "net",
        "conversion_rate",
        "average_order_value",
    ]
    rows = []
    for r in data["rows"]:
        aov = r["averageOrderValue"]
        rows.append(
            [
                r["key"] or "",
                r["label"],
                r["currency"],
                r["clicks"],
                r["uniqueVisitors"],
                r["signups"],
                r["payments"],
                major(r["gross"]["amount"], r["currency"]),
                major(r["refunded"]["amount"], r["currency"]),
                major(r["net"]["amount"], r["currency"]),
                r["conversionRate"],
                major(aov["amount"], r["currency"]) if aov else None,
            ]
        )
    return to_csv(header, rows)


def jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: jsonable(v) for k, v in data.items()}
    if isinstance(data, list):
        return [jsonable(v) for v in data]
    if isinstance(data, datetime | date):
        return data.isoformat()
    return data


def timeseries_out(filters: Filters, interval: str, points: list[Point]) -> dict[str, Any]:
    currencies = sorted({cur for p in points for cur in p.revenue}) or ["USD"]
    out = []
    for point in points:
        item: dict[str, Any] = {
            "bucket": point.bucket.isoformat(),
            "clicks": point.clicks,
            "uniqueVisitors": point.visitors,
            "revenue": [],
        }
        for cur in currencies:
            rev = point.revenue.get(cur, Revenue())
            item["revenue"].append(
                {
                    "currency": cur,
                    "payments": round(rev.payments, 4),
                    "gross": money(rev.gross, cur),
                    "refunded": money(rev.refunded, cur),
                    "net": money(rev.gross - rev.refunded, cur),
                }
            )
        out.append(item)
    return {"interval": interval, **filters_out(filters), "currencies": currencies, "points": out}


def timeseries_csv(data: dict[str, Any]) -> str:
    header = [
        "bucket",
        "clicks",
        "unique_visitors",
        "currency",
        "payments",
        "gross",
        "refunded",
        "net",
    ]
    rows = []
    for point in data["points"]:
        for rev in point["revenue"]:
            cur = rev["currency"]
            rows.append(
                [
                    point["bucket"],
                    point["clicks"],
                    point["uniqueVisitors"],
                    cur,
                    rev["payments"],
                    major(rev["gross"]["amount"], cur),
                    major(rev["refunded"]["amount"], cur),
                    major(rev["net"]["amount"], cur),
                ]
            )
    return to_csv(header, rows)


def funnel_out(filters: Filters, steps: list[Step]) -> dict[str, Any]:
    first = steps[0].visitors if steps else 0
    out, previous = [], None
    for step in steps:
        out.append(
            {
                "step": step.name,
                "visitors": step.visitors,
                "ofFirst": round(step.visitors / first, 4) if first else None,
                "ofPrevious": round(step.visitors / previous, 4) if previous else None,
            }
        )
        previous = step.visitors
    return {**filters_out(filters), "steps": out}


def funnel_csv(data: dict[str, Any]) -> str:
    return to_csv(
        ["step", "visitors", "of_first", "of_previous"],
        [[s["step"], s["visitors"], s["ofFirst"], s["ofPrevious"]] for s in data["steps"]],
    )


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}".replace(".0%", "%")


HEADLINE_LABELS = {
    "visitors": "Visitors",
    "clicks": "Clicks",
    "signups": "Signups",
    "payingCustomers": "Paying customers",
    "netRevenue": "Net revenue",
    "conversionRate": "Conversion",
    "revenuePerVisitor": "Revenue per visitor",
}


def headline(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary's figures as tiles: the value in words, and the change against the
    previous period with its direction (none when there is nothing to compare with)."""
    currency = data["currency"]
    tiles = []
    for name, figure in data["figures"].items():
        value = figure["value"]
        if value is None:
            shown = "—"
        elif name in ("netRevenue", "revenuePerVisitor"):
            shown = format_amount(round(value), currency)
        elif name == "conversionRate":
            shown = percent(value)
        else:
            shown = f"{value:,}"
        change = figure["change"]
        direction = (
            None if change is None else "up" if change > 0 else "down" if change < 0 else "flat"
        )
        tiles.append(
            {
                "name": name,
                "label": HEADLINE_LABELS[name],
                "value": shown,
                "change": None if change is None else f"{abs(change):.0%}",
                "direction": direction,
            }
        )
    return tiles
