"""The dashboard in a real headless Chromium (Debian's, never a downloaded one): first-run
setup, login, settings and connecting Dodo (the emulator), with a screenshot of each page in
test-artifacts/screenshots/ and no Content-Security-Policy violation anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from dodopayments import DodoPayments
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
)
from sqlalchemy.orm import Session

from bantico.accounts import setup
from bantico_emulators.dodo import checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import ONE_TIME_PRODUCT_ID, TEST_KEY
from tests.factories import make_project
from tests.support.dodo import Bantico

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
# Counted by the page itself; Playwright's init scripts are not subject to the page's CSP.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class Watched:
    """A page whose console errors and CSP violations are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self._response)
        page.add_init_script(WATCH_CSP)

    def _console(self, message: ConsoleMessage) -> None:
        # A form answered 401/422 is logged as "Failed to load resource"; that is expected.
        if message.text.startswith("Failed to load resource"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Response) -> None:
        if "/app/static/" in response.url and response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def shot(self, name: str) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], violations
        assert self.problems == [], self.problems
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def pay(emulator: RunningEmulator) -> None:
    with DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url) as sdk:
        created = sdk.checkout_sessions.create(
            product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
            customer={"email": "jane@example.com"},
            metadata={"linkId": "", "source": "newsletter"},
        )
    checkouts.complete_checkout(emulator.state, created.session_id)


def test_setup_login_settings_and_connect_dodo(
    browser: Browser, bantico: Bantico, emulator: RunningEmulator, session: Session
) -> None:
    make_project(session, name="My project")  # as `bantico serve` does on an empty database
    token = setup.issue_token(session)
    session.commit()
    pay(emulator)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    page = watched.page

    # First run: the setup link.
    page.goto(f"{bantico.url}/setup?token={token}")
    expect(page.get_by_role("heading", name="Set up Bantico")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.get_by_label("Email").fill("founder@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Your first project").fill("Acme")
    watched.shot("01-setup")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="Install", exact=True)).to_be_visible()
    expect(page.get_by_text("Your admin account is ready")).to_be_visible()
    expect(page.locator("#snippet-loader")).to_contain_text("window.BANTICO_TOKEN")
    watched.shot("02-install")

    # Log out, then in again.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Bantico")).to_be_visible()
    page.get_by_label("Email").fill("founder@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Password")).to_be_focused()
    watched.shot("03-login")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    watched.shot("04-reports-empty")

    # Settings: a mistake is explained next to its field, then saved.
    page.get_by_role("navigation", name="Acme").get_by_role("link", name="Settings").click()
    page.get_by_label("Attribution window (days)").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#f-attribution_window_days-error")).to_have_text(
        "Enter a whole number of days from 1 to 365."
    )
    expect(page.get_by_label("Attribution window (days)")).to_be_focused()
    watched.shot("05-settings-error")
    page.get_by_label("Attribution window (days)").fill("45")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    watched.shot("06-settings")

    # Integrations → Dodo Payments → Connect, then Sync now.
    page.get_by_role("link", name="Connect Dodo Payments").click()
    page.get_by_label("Dodo Payments API key").fill(TEST_KEY)
    watched.shot("07-dodo-connect")
    page.get_by_role("button", name="Connect Dodo Payments").click()
    expect(page.get_by_text("Connected to Dodo Payments in test mode.")).to_be_visible()
    expect(page.get_by_text("Registered", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Checked 1 payment (1 new)")).to_be_visible(timeout=30_000)
    # The finished status also refreshed the stored counts (an htmx out-of-band swap).
    expect(page.locator("#dodo-stored")).to_have_text(
        "1 payments, 0 refunds, 0 disputes (test mode)"
    )
    expect(page.get_by_role("button", name="Sync now")).to_be_enabled()
    watched.shot("08-dodo-synced")
    context.close()
