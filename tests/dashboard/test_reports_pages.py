"""The Reports page: a small shop whose every number is computed by hand, under each grouping
and model, live and test apart, the CSV downloads and the data the charts are drawn from."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.integrations.dodo import payloads
from bantico.payments import service
from bantico_emulators.dodo.server import RunningEmulator
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.dashboard import test_browser
from tests.dashboard.conftest import EMAIL, PASSWORD, Admin
from tests.factories import customer, make_link, make_shop_links
from tests.integrations.dodo import support
from tests.support.dodo import Bantico


@pytest.fixture
def shop(project: Project, session: Session) -> dict[str, str]:
    """Alice clicks dm, goes through pricing and signup, pays 50.00 and gets 10.00 back. Bob
    clicks nl, later dm, and pays 30.00. Carol clicks nl and leaves. Dave pays 20.00 with no
    context at all. One test-mode payment of 99.00 names dm. All USD, settled in full."""
    dm, nl = make_shop_links(session, project_id=project.id)

    alice = Browser(project, "v_alice_00001")
    alice.click("dm")
    alice.send("pricing_view", url="https://shop.example/pricing")
    alice.send("signup_started")
    alice.send("signup_completed")
    pay(
        session,
        project,
        "pay_a",
        customer=customer("alice"),
        total_amount=5000,
        settlement_amount=5000,
        metadata={**(alice.context or {}), "visitorId": alice.visitor_id},
    )
    refund = support.refund("ref_a", "pay_a", amount=1000, is_partial=True)
    service.store_refund(session, project.id, payloads.refund(refund, "live"))
    session.commit()

    bob = Browser(project, "v_bob_0000001")
    bob.click("nl")
    bob.new_session()
    bob.click("dm")
    pay(
        session,
        project,
        "pay_b",
        customer=customer("bob"),
        total_amount=3000,
        settlement_amount=3000,
        metadata={**(bob.context or {}), "visitorId": bob.visitor_id},
    )

    Browser(project, "v_carol_00001").click("nl")
    pay(
        session,
        project,
        "pay_d",
        customer=customer("dave"),
        total_amount=2000,
        settlement_amount=2000,
        metadata={},
    )
    pay(
        session,
        project,
        "pay_t",
        mode="test",
        customer=customer("tess"),
        total_amount=9900,
        settlement_amount=9900,
        metadata={"linkId": dm.id},
    )
    return {"dm": dm.id, "nl": nl.id}


class Page(HTMLParser):
    """Just enough of the page: each table's rows (as cell texts) and the chart data."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text = html
        self.tables: dict[str, list[tuple[str | None, list[str]]]] = {}
        self.charts: dict[str, Any] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id"):
            self._table = found["id"]
            self.tables[self._table or ""] = []
        elif tag == "tr" and self._table:
            self._row = []
            self.tables[self._table].append((found.get("data-key"), self._row))
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []
        if "data-chart" in found and found.get("id"):
            self.charts[found["id"] or ""] = json.loads(found["data-chart"] or "null")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def open_reports(client: TestClient, project: Project, **params: str) -> Page:
    response = client.get(f"/app/p/{project.id}/reports", params=params)
    assert response.status_code == 200, response.text
    return Page(response.text)


def rows(page: Page, table: str = "report-table") -> list[list[str]]:
    """The body and total rows, without the header."""
    return [cells for key, cells in page.tables[table] if key is not None]


LINK_DM = "/l/dm → https://shop.example/pricing"
LINK_NL = "/l/nl → https://shop.example/pricing"
#            clicks visitors signups payments gross refunded net conversion aov
TOTAL = ["Total", "4", "—", "1", "3", "100.00 USD", "10.00 USD", "90.00 USD", "—", "33.33 USD"]


def test_last_touch_by_link_with_totals(
    signed_in: TestClient, project: Project, shop: dict[str, str]
) -> None:
    page = open_reports(signed_in, project, groupBy="link")
    assert rows(page) == [
        [LINK_DM, "2", "2", "1", "2", "80.00 USD", "10.00 USD", "70.00 USD", "100%", "40.00 USD"],
        [LINK_NL, "2", "2", "0", "0", "0.00 USD", "0.00 USD", "0.00 USD", "0%", "—"],
        ["No link", "0", "0", "0", "1", "20.00 USD", "0.00 USD", "20.00 USD", "—", "20.00 USD"],
        TOTAL,
    ]
    keys = [key for key, _ in page.tables["report-table"] if key is not None]
    assert keys == [shop["dm"], shop["nl"], "", "total"]


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (
            "campaign",
            [
                ["spring26", "2", "2", "1", "2", "80.00 USD", "10.00 USD", "70.00 USD"],
                ["newsletter-11", "2", "2", "0", "0", "0.00 USD", "0.00 USD", "0.00 USD"],
                ["Unattributed", "0", "0", "0", "1", "20.00 USD", "0.00 USD", "20.00 USD"],
            ],
        ),
        (
            "source",
            [
                ["linkedin", "2", "2", "1", "2", "80.00 USD", "10.00 USD", "70.00 USD"],
                ["newsletter", "2", "2", "0", "0", "0.00 USD", "0.00 USD", "0.00 USD"],
                ["Unattributed", "0", "0", "0", "1", "20.00 USD", "0.00 USD", "20.00 USD"],
            ],
        ),
        (
            "medium",
            [
                ["dm", "2", "2", "1", "2", "80.00 USD", "10.00 USD", "70.00 USD"],
                ["email", "2", "2", "0", "0", "0.00 USD", "0.00 USD", "0.00 USD"],
                ["Unattributed", "0", "0", "0", "1", "20.00 USD", "0.00 USD", "20.00 USD"],
            ],
        ),
        (
            # nl has no content (nor lead): its clicks land in the Unattributed row.
            "content",
            [
                ["hero", "2", "2", "1", "2", "80.00 USD", "10.00 USD", "70.00 USD"],
                ["Unattributed", "2", "2", "0", "1", "20.00 USD", "0.00 USD", "20.00 USD"],
            ],
        ),
        (
            "lead",
            [
                ["lead_42", "2", "2", "1", "2", "80.00 USD", "10.00 USD", "70.00 USD"],
                ["Unattributed", "2", "2", "0", "1", "20.00 USD", "0.00 USD", "20.00 USD"],
            ],
        ),
    ],
)
def test_each_grouping(
    signed_in: TestClient,
    project: Project,
    shop: dict[str, str],
    group_by: str,
    expected: list[list[str]],
) -> None:
    found = rows(open_reports(signed_in, project, groupBy=group_by))
    assert [r[:8] for r in found[:-1]] == expected
    assert found[-1] == TOTAL


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            "first_touch",
            [
                [LINK_DM, "1", "50.00 USD", "10.00 USD", "40.00 USD", "50%", "50.00 USD"],
                [LINK_NL, "1", "30.00 USD", "0.00 USD", "30.00 USD", "50%", "30.00 USD"],
            ],
        ),
        (
            "linear",  # Bob's payment is split between nl and dm
            [
                [LINK_DM, "1.5", "65.00 USD", "10.00 USD", "55.00 USD", "75%", "43.33 USD"],
                [LINK_NL, "0.5", "15.00 USD", "0.00 USD", "15.00 USD", "25%", "30.00 USD"],
            ],
        ),
    ],
)
def test_models(
    signed_in: TestClient,
    project: Project,
    shop: dict[str, str],
    model: str,
    expected: list[list[str]],
) -> None:
    found = rows(open_reports(signed_in, project, groupBy="link", model=model))
    assert [[r[0], *r[4:]] for r in found[:2]] == expected
    assert found[2][0] == "No link" and found[2][4:8] == ["1", "20.00 USD", "0.00 USD", "20.00 USD"]
    assert found[3] == TOTAL


def test_live_and_test_are_apart(
    signed_in: TestClient,
    project: Project,
    session: Session,
    settings: Settings,
    shop: dict[str, str],
) -> None:
    as_test = open_reports(signed_in, project, groupBy="link", mode="test")
    # Live clicks against test payments: no conversion rate, and the page says why.
    assert "so conversion is shown in live mode only" in as_test.text
    assert rows(as_test) == [
        [LINK_DM, "2", "2", "1", "1", "99.00 USD", "0.00 USD", "99.00 USD", "—", "99.00 USD"],
        [LINK_NL, "2", "2", "0", "0", "0.00 USD", "0.00 USD", "0.00 USD", "—", "—"],
        ["Total", "4", "—", "1", "1", "99.00 USD", "0.00 USD", "99.00 USD", "—", "99.00 USD"],
    ]
    # Without a choice the page shows the mode of the connected Dodo account (else live).
    page = signed_in.get(f"/app/p/{project.id}/reports").text
    assert 'name="mode" value="live" checked' in page and "Live payments" in page
    assert "Dodo Payments is not connected" in page
    support.connect_for_webhooks(session, settings, project.id, "whsec_x")
    page = signed_in.get(f"/app/p/{project.id}/reports").text
    assert 'name="mode" value="test" checked' in page and "Test mode:" in page
    assert rows(Page(page))[-1][5] == "99.00 USD"
    as_live = open_reports(signed_in, project, mode="live")
    assert rows(as_live)[-1][5] == "100.00 USD" and "live mode only" not in as_live.text


def test_dates(signed_in: TestClient, project: Project, shop: dict[str, str]) -> None:
    today = datetime.now(UTC).date()
    week = open_reports(signed_in, project, range="7")
    assert len(week.charts["revenue-chart"]["x"]) == 7
    assert len(open_reports(signed_in, project).charts["revenue-chart"]["x"]) == 30
    quarter = open_reports(signed_in, project, range="90", interval="day")
    assert len(quarter.charts["revenue-chart"]["x"]) == 90

    earlier = {
        "range": "custom",
        "from": (today - timedelta(days=60)).isoformat(),
        "to": (today - timedelta(days=31)).isoformat(),
    }
    response = signed_in.get(f"/app/p/{project.id}/reports", params=earlier)
    assert response.status_code == 200
    assert "No clicks, visits or payments in this range." in response.text
    assert f'value="{earlier["from"]}"' in response.text
    custom = {**earlier, "to": today.isoformat()}
    assert rows(open_reports(signed_in, project, **custom))[-1] == TOTAL

    backwards = {**earlier, "from": earlier["to"], "to": earlier["from"]}
    response = signed_in.get(f"/app/p/{project.id}/reports", params=backwards)
    assert response.status_code == 422
    assert "The end date must be on or after the start date." in response.text
    assert 'aria-invalid="true"' in response.text and "report-table" not in response.text
    response = signed_in.get(
        f"/app/p/{project.id}/reports", params={"range": "custom", "from": "soon", "to": ""}
    )
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in response.text and "Enter a date." in response.text
    csv_response = signed_in.get(f"/app/p/{project.id}/reports/funnel.csv", params=backwards)
    assert csv_response.status_code == 422
    # Unknown choices (an edited URL) fall back to the defaults.
    assert rows(open_reports(signed_in, project, groupBy="planet", model="best"))[0][0] == (
        "spring26"
    )


def test_charts_data(signed_in: TestClient, project: Project, shop: dict[str, str]) -> None:
    page = open_reports(signed_in, project, range="7")
    revenue = page.charts["revenue-chart"]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert revenue["interval"] == "day"
    assert revenue["x"][-1] == int(today.timestamp())
    assert revenue["x"][0] == int((today - timedelta(days=6)).timestamp())
    assert revenue["clicks"] == [0, 0, 0, 0, 0, 0, 4]
    assert revenue["net"] == [{"currency": "USD", "values": [0, 0, 0, 0, 0, 0, 90.0]}]
    assert revenue["empty"] is False
    assert page.charts["funnel-chart"] == {
        "empty": False,
        "labels": [
            "Clicked a link",
            "Viewed a page",
            "Viewed pricing",
            "Started signing up",
            "Signed up",
            "Paid",
        ],
        "visitors": [3, 3, 1, 1, 1, 1],
    }
    assert [r[1:] for r in rows(page, "funnel-table")] == [
        ["3", "100%", "—"],
        ["3", "100%", "100%"],
        ["1", "33.3%", "33.3%"],
        ["1", "33.3%", "100%"],
        ["1", "33.3%", "100%"],
        ["1", "33.3%", "100%"],
    ]
    assert rows(page, "revenue-table")[-1] == [today.date().isoformat(), "4", "3", "3", "90.00 USD"]
    weekly = open_reports(signed_in, project, range="90", interval="week").charts["revenue-chart"]
    assert weekly["interval"] == "week"
    assert all(datetime.fromtimestamp(x, UTC).weekday() == 0 for x in weekly["x"])
    assert sum(weekly["clicks"]) == 4 and sum(weekly["net"][0]["values"]) == 90.0


def test_empty_charts_say_so_instead_of_drawing_empty_axes(
    signed_in: TestClient, project: Project
) -> None:
    page = signed_in.get(f"/app/p/{project.id}/reports")
    assert page.status_code == 200
    assert 'id="revenue-chart"' not in page.text and 'id="funnel-chart"' not in page.text
    assert "No clicks or revenue in these dates yet" in page.text
    assert "No visitors in these dates yet" in page.text


def download(client: TestClient, project: Project, name: str, **params: str) -> str:
    response = client.get(f"/app/p/{project.id}/reports/{name}.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.text


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_downloads(signed_in: TestClient, project: Project, shop: dict[str, str]) -> None:
    page = signed_in.get(f"/app/p/{project.id}/reports", params={"groupBy": "campaign"}).text
    query = "groupBy=campaign&amp;model=last_touch&amp;mode=live&amp;range=30&amp;interval=day"
    for name in ("attribution", "timeseries", "funnel"):
        assert f'href="/app/p/{project.id}/reports/{name}.csv?{query}"' in page

    # Whole shares print as integers (linear credit can give 0.5); amounts in major units.
    assert download(signed_in, project, "attribution", groupBy="campaign").splitlines() == [
        "campaign,label,currency,clicks,unique_visitors,signups,payments,gross,refunded,net,"
        "conversion_rate,average_order_value",
        "spring26,spring26,USD,2,2,1,2,80.00,10.00,70.00,1,40.00",
        "newsletter-11,newsletter-11,USD,2,2,0,0,0.00,0.00,0.00,0,",
        ",Unattributed,USD,0,0,0,1,20.00,0.00,20.00,,20.00",
    ]
    linear = table(download(signed_in, project, "attribution", groupBy="link", model="linear"))
    assert (linear[0]["link"], linear[0]["payments"], linear[0]["gross"]) == (
        shop["dm"],
        "1.5",
        "65.00",
    )
    test_mode = table(download(signed_in, project, "attribution", groupBy="link", mode="test"))
    assert [r["gross"] for r in test_mode] == ["99.00", "0.00"]

    series_text = download(signed_in, project, "timeseries", range="7")
    assert series_text.startswith(
        "bucket,clicks,unique_visitors,currency,payments,gross,refunded,net\n"
    )
    series = table(series_text)
    assert len(series) == 7
    assert series[-1] == {
        "bucket": datetime.now(UTC).date().isoformat(),
        "clicks": "4",
        "unique_visitors": "3",
        "currency": "USD",
        "payments": "3",
        "gross": "100.00",
        "refunded": "10.00",
        "net": "90.00",
    }
    steps = table(download(signed_in, project, "funnel"))
    assert [(s["step"], s["visitors"]) for s in steps] == [
        ("link_clicked", "3"),
        ("page_view", "3"),
        ("pricing_view", "1"),
        ("signup_started", "1"),
        ("signup_completed", "1"),
        ("payment_completed", "1"),
    ]
    response = signed_in.get(f"/app/p/{project.id}/reports/funnel.csv?range=7&mode=test")
    today = datetime.now(UTC).date()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="funnel-test-{today - timedelta(days=6)}-to-{today}.csv"'
    )


def test_reports_need_a_login(client: TestClient, project: Project) -> None:
    for path in ("reports", "reports/attribution.csv"):
        response = client.get(f"/app/p/{project.id}/{path}", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_labels_are_escaped(signed_in: TestClient, project: Project, session: Session) -> None:
    evil = '<img src=x onerror="alert(1)">'
    make_link(session, project_id=project.id, key="x", campaign_id=evil)
    session.commit()
    Browser(project, "v_mallory_0001").click("x")
    page = signed_in.get(f"/app/p/{project.id}/reports").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


@pytest.mark.browser
def test_reports_in_a_browser(
    browser: Chromium,
    bantico: Bantico,
    emulator: RunningEmulator,
    admin: Admin,
    project: Project,
    shop: dict[str, str],
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    watched = test_browser.Watched(context.new_page())
    page = watched.page
    page.goto(f"{bantico.url}/login?next=/app/p/{project.id}/reports")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

    # Both charts are drawn by the vendored uPlot, on canvases, from the data attributes.
    expect(page.locator("#revenue-chart canvas")).to_have_count(1)
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)
    expect(page.locator("#revenue-chart .chart-fallback")).to_have_count(0)
    expect(page.locator("#revenue-chart .u-legend")).to_contain_text("Net revenue (USD)")
    width = page.locator("#revenue-chart canvas").evaluate("c => c.width")
    assert width > 300
    expect(page.locator("#report-table tfoot")).to_contain_text("90.00 USD")

    # The form by keyboard: pick a grouping, the table follows, the URL can be shared.
    page.get_by_label("Group by").select_option("source")
    page.get_by_label("Attribution model").select_option("linear")
    page.get_by_role("button", name="Show the report").press("Enter")
    expect(page.get_by_role("heading", name="Revenue by source")).to_be_visible()
    assert "groupBy=source" in page.url and "model=linear" in page.url
    expect(page.locator("#report-table tbody tr").first).to_contain_text("linkedin")
    expect(page.locator("#revenue-chart canvas")).to_have_count(1)
    # Editing a date switches the range to custom dates (reports.js).
    page.get_by_label("From").fill((datetime.now(UTC).date() - timedelta(days=3)).isoformat())
    page.get_by_label("From").dispatch_event("change")
    expect(page.get_by_label("Dates")).to_have_value("custom")
    page.get_by_label("Dates").select_option("30")
    page.get_by_label("Group by").select_option("campaign")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("heading", name="Revenue by campaign")).to_be_visible()
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)
    watched.shot("reports")
    # On a phone, by link (the longest labels): the page never scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{bantico.url}/app/p/{project.id}/reports?groupBy=link")
    expect(page.get_by_role("heading", name="Revenue by link")).to_be_visible()
    # Anything wider than its box and not scrolling inside it, for the message.
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.scrollWidth > e.clientWidth"
        " && getComputedStyle(e).overflowX === 'visible' && e.clientWidth > 0)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth)"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
    context.close()


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31")]
)
@pytest.mark.parametrize("page", ["", "/attribution.csv", "/timeseries.csv", "/funnel.csv"])
def test_custom_dates_out_of_the_calendar_are_a_form_error(
    signed_in: TestClient, project: Project, start: str, end: str, page: str
) -> None:
    response = signed_in.get(
        f"/app/p/{project.id}/reports{page}?range=custom&from={start}&to={end}"
    )
    assert response.status_code == 422, response.text
    if not page:
        assert "Enter a date from 2000 to 2099." in html.unescape(response.text)


def test_the_headline_figures_come_first_against_the_previous_period(
    signed_in: TestClient, project: Project, shop: dict[str, str]
) -> None:
    page = open_reports(signed_in, project, range="7")
    text = page.text
    assert text.index('class="headline"') < text.index('id="report-table"')
    tiles = dict(
        re.findall(
            r'id="headline-(\w+)">\s*<span class="headline-label">[^<]*</span>\s*'
            r'<span class="headline-value">([^<]*)</span>',
            text,
        )
    )
    assert tiles["clicks"] == "4" and tiles["visitors"] == "3"
    assert tiles["netRevenue"].endswith(" USD") and tiles["conversionRate"].endswith("%")
    # Nothing happened the week before: no change to show, said in words.
    assert text.count("no earlier period to compare") == 7
    as_test = open_reports(signed_in, project, range="7", mode="test").text
    assert re.search(r'id="headline-conversionRate">.*?headline-value">—<', as_test, re.S)


def test_the_chart_draws_the_previous_period_bucket_for_bucket(
    signed_in: TestClient, project: Project, session: Session, shop: dict[str, str]
) -> None:
    assert "previous" not in open_reports(signed_in, project, range="7").charts["revenue-chart"]
    # A sale eight days ago: the sixth day of the previous seven (13 to 7 days ago).
    pay(
        session,
        project,
        "pay_last_week",
        customer=customer("olga"),
        total_amount=1500,
        settlement_amount=1500,
        metadata={},
        at=datetime.now(UTC) - timedelta(days=8),
    )
    revenue = open_reports(signed_in, project, range="7").charts["revenue-chart"]
    assert revenue["previous"] == {"currency": "USD", "values": [0, 0, 0, 0, 0, 15.0, 0]}
    assert len(revenue["previous"]["values"]) == len(revenue["x"])


def test_the_now_card_comes_first_and_answers_alone(
    signed_in: TestClient, project: Project, shop: dict[str, str]
) -> None:
    text = open_reports(signed_in, project).text
    assert text.index('id="live-card"') < text.index('class="headline"')
    fragment_url = f"/app/p/{project.id}/reports/live?mode=live"
    assert f'hx-get="{fragment_url}" hx-trigger="every 10s" hx-swap="outerHTML"' in text
    alone = signed_in.get(fragment_url)
    assert alone.status_code == 200, alone.text
    assert "<html" not in alone.text and alone.text.count('id="live-card"') == 1
    for answer in (text, alone.text):
        # Alice, Bob and Carol came a moment ago; four human clicks (not the unfurler's).
        assert "<strong>3 visitors</strong> in the last 5 minutes · 4 clicks" in answer
        kinds = re.findall(r'<li class="live-item (\w+)">', answer)
        assert kinds[:3] == ["payment", "payment", "payment"] and kinds.count("click") == 4
        assert "signup" in kinds and "just now" in answer
        assert f'href="/app/p/{project.id}/payments/pay_a">50.00 USD</a>' in answer
        assert "pay_t" not in answer and "99.00 USD" not in answer
    as_test = signed_in.get(f"/app/p/{project.id}/reports/live?mode=test").text
    assert "99.00 USD" in as_test and "pay_a" not in as_test
    assert 'hx-get="' + f'/app/p/{project.id}/reports/live?mode=test"' in as_test
    # The page's mode is the card's.
    assert "?mode=test" in open_reports(signed_in, project, mode="test").text


def test_the_now_card_when_nothing_happened(signed_in: TestClient, project: Project) -> None:
    card = signed_in.get(f"/app/p/{project.id}/reports/live").text
    assert "<strong>0 visitors</strong> in the last 5 minutes · 0 clicks" in card
    assert "No clicks, signups or live payments yet" in card


def test_the_now_card_needs_a_login(client: TestClient, project: Project) -> None:
    response = client.get(f"/app/p/{project.id}/reports/live", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.browser
def test_the_now_card_polls_itself_in_a_browser(
    browser: Chromium,
    bantico: Bantico,
    emulator: RunningEmulator,
    admin: Admin,
    project: Project,
    shop: dict[str, str],
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    watched = test_browser.Watched(context.new_page())
    page = watched.page
    page.goto(f"{bantico.url}/login?next=/app/p/{project.id}/reports")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    card = page.locator("#live-card")
    expect(card).to_contain_text("3 visitors in the last 5 minutes")
    # A fourth visitor comes; within one 10-second poll the card says so, by itself.
    Browser(project, "v_erin_000001").send("page_view")
    expect(card).to_contain_text("4 visitors in the last 5 minutes", timeout=15_000)
    expect(page.locator("#live-card")).to_have_count(1)  # replaced, not nested
    # On the phone the card and each of its lines stay inside the screen.
    fits = card.evaluate(
        "(c) => c.getBoundingClientRect().right <= window.innerWidth"
        " && [...c.querySelectorAll('li')].every((li) => li.scrollWidth <= li.clientWidth)"
    )
    assert fits, "the Now card is wider than a phone"
    watched.shot("reports-now-phone")
    context.close()
