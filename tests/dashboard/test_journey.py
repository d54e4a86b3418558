"""The whole founder journey in a real headless Chromium: first-run setup → connect Dodo (the
emulator) → create a tracked link → a visitor clicks it, lands on the founder's site (another
origin, with the loader) and pays through the emulator's hosted checkout with bantico.context()
in the metadata → the payment shows up attributed in the reports, with its explanation.

Every page is saved as a screenshot in test-artifacts/screenshots/journey-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dodopayments import DodoPayments
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bantico.accounts import setup
from bantico.payments.models import Payment
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import ONE_TIME_PRODUCT_ID, TEST_KEY
from tests.dashboard.test_browser import SCREENSHOTS, Watched
from tests.factories import make_project
from tests.support.browser import USER_AGENT
from tests.support.dodo import Bantico
from tests.support.servers import serve

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme — Pricing</title></head>
<body><h1>Acme Pro</h1><p>$49, once.</p>
<button id="buy">Buy Acme Pro</button>
<script>window.BANTICO_TOKEN = "__TOKEN__";</script>
<script src="__BANTICO__/bantico.js"></script>
<script>
document.getElementById("buy").addEventListener("click", async () => {
  const response = await fetch("/checkout", {method: "POST",
    headers: {"content-type": "application/json"}, body: JSON.stringify(bantico.context())});
  window.location = (await response.json()).checkoutUrl;
});
</script></body></html>"""


def shop_app(bantico_url: str, token: str, dodo_url: str) -> Any:
    """The founder's own site: a pricing page and a server route that opens a Dodo checkout
    with the official SDK, passing bantico.context() into the metadata."""

    async def pricing(_: Request) -> Response:
        return HTMLResponse(
            SHOP_PAGE.replace("__TOKEN__", token).replace("__BANTICO__", bantico_url)
        )

    async def checkout(request: Request) -> Response:
        context = await request.json()
        metadata = {
            key: str(context.get(key) or "")
            for key in (
                "linkId",
                "campaignId",
                "source",
                "medium",
                "content",
                "leadId",
                "visitorId",
                "sessionId",
            )
        }
        with DodoPayments(bearer_token=TEST_KEY, base_url=dodo_url) as client:
            created = client.checkout_sessions.create(
                product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
                customer={"email": "jane@example.com", "name": "Jane"},
                return_url=f"{request.base_url}thanks",
                metadata=metadata,
            )
        return JSONResponse({"checkoutUrl": created.checkout_url})

    async def thanks(_: Request) -> Response:
        return HTMLResponse("<!doctype html><title>Thanks</title><h1>Thank you!</h1>")

    return Starlette(
        routes=[
            Route("/pricing", pricing),
            Route("/thanks", thanks),
            Route("/checkout", checkout, methods=["POST"]),
        ]
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 850}, user_agent=USER_AGENT)
    context.set_default_timeout(15_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context.new_page()
    context.close()


def test_the_founder_journey(
    page: Page, bantico: Bantico, emulator: RunningEmulator, session: Session
) -> None:
    project = make_project(session, name="My project")  # as `bantico serve` does
    token = setup.issue_token(session)
    session.commit()
    watched = Watched(page)

    # 1. First run: the founder creates the admin account and names the project.
    page.goto(f"{bantico.url}/setup?token={token}")
    page.get_by_label("Email").fill("founder@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Your first project").fill("Acme")
    watched.shot("journey-01-setup")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="Install", exact=True)).to_be_visible()
    watched.shot("journey-02-install")

    # 2. Settings > Integrations > Dodo Payments > Connect, with the emulator's test key.
    nav = page.get_by_role("navigation", name="Acme")
    nav.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Connect Dodo Payments").click()
    page.get_by_label("Dodo Payments API key").fill(TEST_KEY)
    page.get_by_role("button", name="Connect Dodo Payments").click()
    expect(page.get_by_text("Connected to Dodo Payments in test mode.")).to_be_visible()
    expect(page.get_by_text("Registered", exact=True)).to_be_visible()
    watched.shot("journey-03-dodo-connected")

    # 3. A tracked link to the founder's pricing page.
    with serve(lambda _url: shop_app(bantico.url, project.project.token, emulator.test_url)) as url:
        shop = url.replace("127.0.0.1", "localhost")  # another origin than Bantico's
        nav.get_by_role("link", name="Links").click()
        page.get_by_label("Destination URL").fill(f"{shop}/pricing")
        page.get_by_label("Campaign").fill("launch-week")
        page.get_by_label("Source").fill("linkedin")
        page.get_by_label("Medium").fill("dm")
        page.get_by_label("Lead").fill("lead_jane")
        page.get_by_label("Custom key (optional)").fill("jane")
        page.get_by_role("button", name="Create the link").click()
        expect(page.get_by_role("heading", name="/l/jane")).to_be_visible()
        watched.shot("journey-04-link")

        # 4. The visitor clicks it, lands on the shop with the loader, and buys.
        page.goto(f"{bantico.url}/l/jane")
        expect(page.get_by_role("heading", name="Acme Pro")).to_be_visible()
        page.wait_for_function("() => window.bantico && bantico.context().campaignId")
        assert "bantico_click" not in page.url
        context = page.evaluate("bantico.context()")
        assert (context["campaignId"], context["leadId"]) == ("launch-week", "lead_jane")
        page.screenshot(path=str(_shot("journey-05-shop")), full_page=True)
        page.get_by_role("button", name="Buy Acme Pro").click()
        expect(page.get_by_role("button", name="Pay")).to_be_visible()
        page.screenshot(path=str(_shot("journey-06-checkout")), full_page=True)
        page.get_by_role("button", name="Pay").click()
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
        assert "payment_id=pay_" in page.url and "status=succeeded" in page.url
        assert emulator.state.deliveries.wait_idle()

    stored = session.execute(select(Payment)).scalar_one()
    assert stored.received_via == "webhook" and stored.payment_metadata["leadId"] == "lead_jane"

    # 5. The reports show the revenue on the link's campaign; the payment explains itself.
    page.goto(f"{bantico.url}/app/p/{project.project.id}/reports?groupBy=campaign&mode=test")
    row = page.get_by_role("row").filter(has_text="launch-week")
    expect(row).to_contain_text("49.00")
    watched.shot("journey-07-reports")
    nav = page.get_by_role("navigation", name="Acme")
    nav.get_by_role("link", name="Payments").click()
    page.get_by_label("Mode").select_option("test")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=stored.provider_payment_id).click()
    expect(page.get_by_role("heading", name="Why, in plain words")).to_be_visible()
    expect(
        page.get_by_role("listitem").filter(has_text="Attributed from the Dodo payment metadata")
    ).to_contain_text("launch-week")
    expect(page.locator("main")).to_contain_text("launch-week")
    watched.shot("journey-08-payment")
    nav.get_by_role("link", name="Troubleshooting").click()
    expect(page.get_by_role("heading", name="Troubleshooting")).to_be_visible()
    watched.shot("journey-09-troubleshooting")


def _shot(name: str) -> Path:
    """Pages of other origins (the shop, the checkout) are outside the dashboard's CSP watch."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
