"""One realistic month of a small shop, with every reported number computed by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bantico.integrations.dodo import payloads
from bantico.payments import service
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.factories import customer, make_link, make_shop_links
from tests.integrations.dodo import support

pytestmark = pytest.mark.usefixtures("traffic_source")


@pytest.fixture
def shop(project: Project, session: Session) -> dict[str, Any]:
    dm, nl = make_shop_links(session, project_id=project.id)
    project.client.get(
        "/l/dm", headers={"User-Agent": "Slackbot-LinkExpanding 1.0"}, follow_redirects=False
    )

    a = Browser(project, "v_alice_00001")
    a.click("dm")
    a.send("pricing_view", url="https://shop.example/pricing")
    a.send("signup_started")
    a.send("signup_completed")
    a.identify("alice@example.com")
    pay(
        session,
        project,
        "pay_a",
        customer=customer("alice"),
        settlement_amount=4600,
        metadata={**(a.context or {}), "visitorId": a.visitor_id},
    )
    refund = support.refund("ref_a", "pay_a", amount=1000, is_partial=True)
    service.store_refund(session, project.id, payloads.refund(refund, "live"))
    session.commit()

    b = Browser(project, "v_bob_0000001")
    b.click("nl")
    b.new_session()
    b.click("dm")
    pay(
        session,
        project,
        "pay_b",
        customer=customer("bob"),
        total_amount=10000,
        settlement_amount=9500,
        metadata={**(b.context or {}), "visitorId": b.visitor_id},
    )

    c = Browser(project, "v_carol_00001")
    c.click("nl")
    c.identify("carol@example.com")
    pay(
        session,
        project,
        "pay_c1",
        customer={**customer("carol"), "email": " Carol@Example.COM"},
        total_amount=2000,
        settlement_amount=1900,
        metadata={},
        subscription_id="sub_c",
        charge_type="new",
    )
    pay(
        session,
        project,
        "pay_c2",
        customer=customer("carol"),
        total_amount=2000,
        settlement_amount=1900,
        metadata={},
        subscription_id="sub_c",
        charge_type="renewal",
        at=datetime.now(UTC) + timedelta(seconds=2),
    )

    pay(
        session,
        project,
        "pay_d",
        customer=customer("dave"),
        total_amount=3000,
        settlement_amount=2800,
        metadata={"linkId": "", "campaignId": ""},
    )
    pay(
        session,
        project,
        "pay_zero",
        customer=customer("erin"),
        total_amount=0,
        settlement_amount=0,
        metadata={"linkId": dm.id},
    )
    pay(
        session,
        project,
        "pay_test",
        mode="test",
        customer=customer("tess"),
        total_amount=50000,
        settlement_amount=47000,
        metadata={"linkId": dm.id},
    )
    return {"dm": dm.id, "nl": nl.id}


def report(project: Project, path: str, **params: Any) -> Any:
    window = {
        "from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    response = project.client.get(
        f"/api/v1/reports/{path}", headers=project.headers, params={**window, **params}
    )
    assert response.status_code == 200, response.text
    return response.json() if params.get("format") != "csv" else response.text


def by_key(data: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {row["key"]: row for row in data["rows"]}


def test_last_touch_by_link(project: Project, shop: dict[str, str]) -> None:
    rows = by_key(report(project, "attribution", groupBy="link"))
    dm, nl, none = rows[shop["dm"]], rows[shop["nl"]], rows[None]
    assert (dm["clicks"], dm["uniqueVisitors"], dm["signups"], dm["payments"]) == (2, 2, 1, 2)
    assert dm["gross"] == {"amount": 14100, "currency": "USD", "formatted": "141.00 USD"}
    assert dm["refunded"]["amount"] == 939  # 1000/4900 of the 4600 settled
    assert dm["net"]["amount"] == 13161
    assert dm["conversionRate"] == 1.0 and dm["averageOrderValue"]["amount"] == 7050
    assert dm["label"] == "/l/dm → https://shop.example/pricing"
    assert (nl["clicks"], nl["uniqueVisitors"], nl["payments"], nl["gross"]["amount"]) == (
        2,
        2,
        2,
        3800,
    )
    assert (none["payments"], none["gross"]["amount"], none["clicks"]) == (1, 2800, 0)
    assert list(rows) == [shop["dm"], shop["nl"], None]
    [total] = report(project, "attribution", groupBy="link")["totals"]
    assert (total["payments"], total["gross"]["amount"], total["net"]["amount"]) == (
        5,
        20700,
        19761,
    )


def test_campaign_source_and_lead(project: Project, shop: dict[str, str]) -> None:
    campaigns = by_key(report(project, "attribution", groupBy="campaign"))
    assert {k: (r["payments"], r["gross"]["amount"]) for k, r in campaigns.items()} == {
        "spring26": (2, 14100),
        "newsletter-11": (2, 3800),
        None: (1, 2800),
    }
    assert campaigns[None]["label"] == "Unattributed"
    sources = by_key(report(project, "attribution", groupBy="source"))
    assert sources["linkedin"]["clicks"] == 2 and sources["newsletter"]["clicks"] == 2
    leads = by_key(report(project, "attribution", groupBy="lead"))
    assert leads["lead_42"]["gross"]["amount"] == 14100
    assert leads[None]["gross"]["amount"] == 3800 + 2800


def test_models(project: Project, shop: dict[str, str]) -> None:
    linear = by_key(report(project, "attribution", groupBy="link", model="linear"))
    assert (linear[shop["dm"]]["payments"], linear[shop["dm"]]["gross"]["amount"]) == (1.5, 9350)
    assert (linear[shop["nl"]]["payments"], linear[shop["nl"]]["gross"]["amount"]) == (2.5, 8550)
    first = by_key(report(project, "attribution", groupBy="link", model="first_touch"))
    assert (first[shop["dm"]]["payments"], first[shop["dm"]]["gross"]["amount"]) == (1, 4600)
    assert (first[shop["nl"]]["payments"], first[shop["nl"]]["gross"]["amount"]) == (3, 13300)
    bad = project.client.get("/api/v1/reports/attribution?model=best", headers=project.headers)
    assert bad.status_code == 422


def test_test_mode_is_kept_apart(project: Project, shop: dict[str, str]) -> None:
    rows = by_key(report(project, "attribution", groupBy="link", mode="test"))
    assert rows[shop["dm"]]["payments"] == 1 and rows[shop["dm"]]["gross"]["amount"] == 47000
    assert rows[shop["dm"]]["clicks"] == 2  # traffic has no mode
    assert all(r["payments"] == 0 for k, r in rows.items() if k != shop["dm"])


def test_timeseries(project: Project, shop: dict[str, str]) -> None:
    data = report(project, "timeseries", interval="day")
    today = datetime.now(UTC).date().isoformat()
    [point] = [p for p in data["points"] if p["bucket"] == today]
    assert point["clicks"] == 4 and point["uniqueVisitors"] == 3
    [usd] = point["revenue"]
    assert (usd["payments"], usd["gross"]["amount"], usd["net"]["amount"]) == (5, 20700, 19761)
    assert sum(p["clicks"] for p in data["points"]) == 4
    only_nl = report(project, "timeseries", interval="month", linkId=shop["nl"])
    assert sum(p["revenue"][0]["gross"]["amount"] for p in only_nl["points"]) == 3800
    weeks = report(project, "timeseries", interval="week")["points"]
    assert all(datetime.fromisoformat(p["bucket"]).weekday() == 0 for p in weeks)


def test_funnel(project: Project, shop: dict[str, str]) -> None:
    steps = {s["step"]: s["visitors"] for s in report(project, "funnel")["steps"]}
    assert steps == {
        "link_clicked": 3,
        "page_view": 3,
        "pricing_view": 1,
        "signup_started": 1,
        "signup_completed": 1,
        "payment_completed": 1,
    }
    dm = {s["step"]: s["visitors"] for s in report(project, "funnel", linkId=shop["dm"])["steps"]}
    assert (dm["link_clicked"], dm["page_view"], dm["payment_completed"]) == (2, 2, 1)
    nl = {
        s["step"]: s["visitors"]
        for s in report(project, "funnel", campaignId="newsletter-11")["steps"]
    }
    assert (nl["link_clicked"], nl["pricing_view"], nl["payment_completed"]) == (2, 0, 0)


def test_csv_exports(project: Project, shop: dict[str, str]) -> None:
    text = report(project, "attribution", groupBy="campaign", format="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    spring = next(r for r in rows if r["campaign"] == "spring26")
    assert (spring["gross"], spring["refunded"], spring["net"]) == ("141.00", "9.39", "131.61")
    assert next(r for r in rows if r["campaign"] == "")["label"] == "Unattributed"
    assert report(project, "timeseries", format="csv").startswith("bucket,clicks,")
    assert "payment_completed,1" in report(project, "funnel", format="csv")


def test_report_errors(project: Project) -> None:
    c, h = project.client, project.headers
    assert c.get("/api/v1/reports/attribution?groupBy=planet", headers=h).status_code == 422
    assert c.get("/api/v1/reports/attribution?mode=both", headers=h).status_code == 422
    backwards = c.get("/api/v1/reports/funnel?from=2026-02-01&to=2026-01-01", headers=h)
    assert backwards.status_code == 422 and "before" in backwards.json()["error"]["message"]
    both = c.get("/api/v1/reports/funnel?linkId=a&campaignId=b", headers=h)
    assert both.status_code == 422
    assert c.get("/api/v1/reports/attribution").status_code == 401


def test_report_in_the_terminal(
    project: Project, shop: dict[str, str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from typer.testing import CliRunner

    from bantico import terminal
    from bantico.cli import app
    from bantico.config import get_settings

    monkeypatch.setenv("BANTICO_DATABASE_URL", database_url)
    # Rich reads COLUMNS once, when the console is made: pin the width, whatever the terminal.
    monkeypatch.setattr(terminal.console, "_width", 200)
    get_settings.cache_clear()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    runner = CliRunner()
    try:
        shown = runner.invoke(app, ["report", "--by", "campaign", "--to", tomorrow])
        as_json = runner.invoke(
            app, ["report", "--by", "link", "--model", "linear", "--json", "--to", tomorrow]
        )
        wrong = runner.invoke(app, ["report", "--by", "planet"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "spring26" in shown.output and "141.00 USD" in shown.output
    assert "Unattributed" in shown.output
    rows = {r["key"]: r for r in json.loads(as_json.output)["rows"]}
    assert rows[shop["nl"]]["payments"] == 2.5
    assert wrong.exit_code == 2 and "--by must be" in wrong.output


def test_csv_cells_cannot_become_formulas(project: Project, session: Session) -> None:
    make_link(session, project_id=project.id, key="evil", campaign_id='=HYPERLINK("x")')
    session.commit()
    Browser(project, "v_evil_000001").click("evil")
    text = report(project, "attribution", groupBy="campaign", format="csv")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_summary_against_the_previous_period(
    project: Project, session: Session, shop: dict[str, str]
) -> None:
    # One payment two days ago: in the previous period of the report's two days.
    pay(
        session,
        project,
        "pay_old",
        customer=customer("zed"),
        total_amount=1000,
        settlement_amount=1000,
        metadata={},
        at=datetime.now(UTC) - timedelta(days=2),
    )
    data = report(project, "summary")
    figures = {name: f["value"] for name, f in data["figures"].items()}
    assert data["currency"] == "USD"
    # Alice, Bob and Carol visited; 4 human clicks (the unfurler is not one); Alice signed up.
    # Alice, Bob, Carol (twice) and Dave paid: 4 customers, 3 of them visitors seen.
    assert figures == {
        "visitors": 3,
        "clicks": 4,
        "signups": 1,
        "payingCustomers": 4,
        "netRevenue": 19761,
        "conversionRate": 1.0,
        "revenuePerVisitor": 6587,
    }
    before = {name: f["previous"] for name, f in data["figures"].items()}
    assert before["netRevenue"] == 1000 and before["payingCustomers"] == 1
    assert before["visitors"] == 0 and before["conversionRate"] is None
    changes = {name: f["change"] for name, f in data["figures"].items()}
    assert changes["netRevenue"] == pytest.approx(18.761) and changes["payingCustomers"] == 3.0
    assert changes["visitors"] is None  # nothing to compare with
    length = datetime.fromisoformat(data["to"]) - datetime.fromisoformat(data["from"])
    assert datetime.fromisoformat(data["previousTo"]) == datetime.fromisoformat(data["from"])
    assert (
        datetime.fromisoformat(data["previousFrom"])
        == datetime.fromisoformat(data["from"]) - length
    )

    as_test = {
        name: f["value"] for name, f in report(project, "summary", mode="test")["figures"].items()
    }
    assert as_test["netRevenue"] == 47000 and as_test["payingCustomers"] == 1
    assert as_test["conversionRate"] is None and as_test["revenuePerVisitor"] is None
