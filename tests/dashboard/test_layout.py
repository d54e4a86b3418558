"""Every dashboard page fits a 1280 px laptop and a 390 px phone (issue 12), in a real headless
Chromium, on a small made-up history: no sideways page scroll, every column of the payments and
links tables inside its box at 1280, short URLs, amounts and dates on one line, and on a phone the
reports, payments and links tables as one card per row. A screenshot of each page at each width
goes to test-artifacts/screenshots/layout-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from bantico.accounts.service import create_user
from bantico.demo.history import DemoProject, generate_history
from bantico_emulators.dodo.server import RunningEmulator
from tests.conftest import Project
from tests.dashboard.test_browser import Watched
from tests.support.dodo import Bantico

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "founder@example.com", "correct horse battery"
LONG_DESTINATION = (
    "https://demo-shop.example/pricing/annual-plans-for-teams-and-agencies"
    "?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday-2026&ref=header-cta-b"
)
WIDE, PHONE = (1280, 800), (390, 844)

# Measured by the page: the page's own width, and the elements that must not wrap.
MEASURE = """() => {
  // On one line: the boxes of its text all overlap vertically.
  const oneLine = (e) => {
    const range = document.createRange();
    range.selectNodeContents(e);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    if (!rects.length) return true;
    return Math.max(...rects.map((r) => r.top)) < Math.min(...rects.map((r) => r.bottom)) - 2;
  };
  const lines = (selector) => [...document.querySelectorAll(selector)]
    .filter((e) => !oneLine(e))
    .map((e) => selector + ": " + e.textContent.trim());
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wrapped: [
      ...lines(".links-table code[id^='short-']"),
      ...lines(".links-table td.num"),
      ...lines(".payments-table td.nowrap"),
      ...lines(".payments-table time"),
      ...lines(".payments-table td:first-child code"),
      ...lines(".report-table td.num"),
    ],
  };
}"""
# At 1280: the last column header of a table, against the box it scrolls in.
HEADERS_INSIDE = """(selector) => {
  const table = document.querySelector(selector);
  const box = table.closest(".table-scroll").getBoundingClientRect();
  return [...table.querySelectorAll("thead th")]
    .filter((th) => th.getBoundingClientRect().right > box.right + 0.5
                    || th.getBoundingClientRect().left < box.left - 0.5)
    .map((th) => th.textContent.trim() || "(actions)");
}"""
# On a phone: each row of a card table fits the table's box, and its key number comes first.
CARDS = """(selector) => {
  const table = document.querySelector(selector);
  const box = table.getBoundingClientRect();
  const row = table.querySelector("tbody tr");
  const cells = [...row.children].filter((c) => c.offsetParent !== null);
  const top = (c) => c.getBoundingClientRect().top;
  const title = row.querySelector(".card-title"), key = row.querySelector(".card-key");
  return {
    rowWidth: row.getBoundingClientRect().width,
    tableWidth: box.width,
    headVisible: table.querySelector("thead").getBoundingClientRect().height > 1,
    overflowing: cells.filter((c) => c.getBoundingClientRect().right > box.right + 0.5).length,
    keyAfterTitle: top(title) < top(key),
    keyBeforeOthers: cells.filter((c) => c !== title && c !== key)
                          .every((c) => top(key) <= top(c)),
    label: getComputedStyle(key, "::before").content,
  };
}"""


def test_every_page_fits_a_laptop_and_a_phone(
    browser: Browser,
    bantico: Bantico,
    emulator: RunningEmulator,
    project: Project,
    session: Session,
) -> None:
    demo = DemoProject(project.id, project.token, project.secret_key)
    generate_history(
        bantico.app.state.sessionmaker, bantico.client, emulator.state, demo, visitors=30, seed=3
    )
    long_link = bantico.client.post(
        "/api/v1/links",
        headers=project.headers,
        json={"destinationUrl": LONG_DESTINATION, "campaignId": "black-friday-2026"},
    )
    assert long_link.status_code == 201, long_link.text
    create_user(session, EMAIL, PASSWORD)
    session.commit()

    context = browser.new_context(viewport={"width": WIDE[0], "height": WIDE[1]})
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{bantico.url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/reports**")

    base = f"{bantico.url}/app/p/{project.id}"
    page.goto(f"{base}/payments")
    payment = page.locator(".payments-table tbody a[href*='/payments/']").first
    paid_link = page.locator(".payments-table tbody a[href*='/links/']").first
    pages = {
        "reports": f"{base}/reports",
        "links": f"{base}/links",
        "link": f"{base}/links/{long_link.json()['id']}",
        "link-paid": f"{bantico.url}{paid_link.get_attribute('href')}",
        "payments": f"{base}/payments",
        "payment": f"{bantico.url}{payment.get_attribute('href')}",
        "troubleshooting": f"{base}/troubleshooting",
        "install": f"{base}/install",
        "settings": f"{base}/settings",
    }

    for width, height in (WIDE, PHONE):
        page.set_viewport_size({"width": width, "height": height})
        for name, url in pages.items():
            page.goto(url)
            page.wait_for_load_state("load")
            measured = page.evaluate(MEASURE)
            assert measured["scrollWidth"] <= measured["innerWidth"], (name, width, measured)
            assert measured["wrapped"] == [], (name, width)
            if width == WIDE[0] and name in ("links", "payments"):
                assert page.evaluate(HEADERS_INSIDE, f".{name}-table") == [], (name, width)
            if width == PHONE[0] and name in ("reports", "links", "payments"):
                table = "#report-table" if name == "reports" else f".{name}-table"
                cards_fit(page.evaluate(CARDS, table), name)
            if name == "links":
                destinations_are_cut(page, width)
            watched.shot(f"layout-{name}-{width}")
    context.close()


def cards_fit(cards: dict[str, Any], name: str) -> None:
    assert not cards["headVisible"], name
    assert cards["rowWidth"] <= cards["tableWidth"] + 0.5, (name, cards)
    assert cards["overflowing"] == 0, (name, cards)
    assert cards["keyAfterTitle"] and cards["keyBeforeOthers"], (name, cards)
    assert cards["label"] in ('"Net"', '"Net revenue"', '"Amount"'), (name, cards)


def destinations_are_cut(page: Page, width: int) -> None:
    """A long destination is cut with an ellipsis on one line, the whole URL in its title."""
    destination = page.locator(".links-destination", has_text="black-friday")
    assert destination.get_attribute("title") == LONG_DESTINATION
    box = destination.evaluate(
        "(e) => ({lines: e.getClientRects().length, cut: e.scrollWidth > e.clientWidth,"
        " right: e.getBoundingClientRect().right, cell: e.closest('td')"
        ".getBoundingClientRect().right})"
    )
    assert box["lines"] == 1 and box["cut"], (width, box)
    assert box["right"] <= box["cell"] + 0.5, (width, box)
