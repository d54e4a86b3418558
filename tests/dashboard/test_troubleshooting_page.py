"""The Troubleshooting page: the diagnostics checklist in words and icons, failing on a fresh
project and passing once Dodo (the emulator), the loader and the checkout are set up."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import TEST_KEY
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.dashboard.conftest import EMAIL, PASSWORD, Admin, log_in
from tests.dashboard.test_browser import Watched
from tests.factories import make_link
from tests.support.dodo import Bantico

CHECK = re.compile(r'<li class="card check check-(\w+)" id="check-(\w+)"')


def statuses(html: str) -> dict[str, str]:
    return {check: status for status, check in CHECK.findall(html)}


def section(html: str, check: str) -> str:
    start = html.index(f'id="check-{check}"')
    return html[start : html.index("</li>", start)]


def set_up(bantico: Bantico, project: Project, session: Session) -> dict[str, Any]:
    """Connect Dodo with a test key, then one visitor clicks, is identified and pays."""
    connected = bantico.client.put(
        "/api/v1/integrations/dodo", headers=project.headers, json={"apiKey": TEST_KEY}
    )
    assert connected.status_code == 200, connected.text
    link = make_link(session, project_id=project.id, key="dm")
    session.commit()
    visitor = Browser(project, "v_trouble_0001")
    visitor.click("dm")
    visitor.identify("ok@example.com")
    pay(
        session,
        project,
        "pay_ok",
        mode="test",
        metadata={"linkId": link.id},
        customer={"customer_id": "cus_ok", "email": "ok@example.com", "name": "Ok"},
    )
    return {"link": link.id}


def test_a_fresh_project_fails_with_the_fixes(signed_in: TestClient, project: Project) -> None:
    response = signed_in.get(f"/app/p/{project.id}/troubleshooting")
    assert response.status_code == 200
    html = response.text
    assert statuses(html) == {
        "dodo_connected": "fail",
        "webhooks": "fail",
        "metadata": "warn",
        "metadata_matches": "warn",
        "loader": "fail",
        "identify": "warn",
        "foreign_ids": "pass",
    }
    assert "3 failed, 3 with a warning, 1 passed." in html
    assert "Nothing to check yet: no payments in the last 30 days." in section(
        html, "metadata_matches"
    )
    # Icon and word, not colour alone; what was seen, and the fix with a link to where.
    dodo = section(html, "dodo_connected")
    assert '<span class="status-icon" aria-hidden="true">✕</span> Fail' in dodo
    assert "Dodo Payments is not connected." in dodo
    assert "bantico dodo connect" in dodo
    assert f'href="/app/p/{project.id}/settings/integrations/dodo"' in dodo
    loader = section(html, "loader")
    assert "No page view has ever been received." in loader
    assert f'href="/app/p/{project.id}/install"' in loader
    assert "How to fix it" not in section(html, "foreign_ids")  # a pass has nothing to fix
    # "Run again" is a GET form: nothing to protect, and the URL can be shared.
    form = html[html.index('class="run-again"') - 80 : html.index("Run the checks again")]
    assert 'method="get"' in form and "csrf_token" not in form
    assert 'name="mode" value="live" checked' in html
    as_test = signed_in.get(f"/app/p/{project.id}/troubleshooting?mode=test").text
    assert 'name="mode" value="test" checked' in as_test
    assert signed_in.get(f"/app/p/{project.id}/troubleshooting?mode=both").status_code == 200


def test_everything_passes_after_setup(
    bantico: Bantico,
    emulator: RunningEmulator,
    admin: Admin,
    project: Project,
    session: Session,
) -> None:
    set_up(bantico, project, session)
    assert log_in(bantico.client).status_code == 303
    page = bantico.client.get(f"/app/p/{project.id}/troubleshooting")
    assert page.status_code == 200
    assert set(statuses(page.text).values()) == {"pass"}, statuses(page.text)
    assert "Everything checks out." in page.text and "against test payments" in page.text
    assert "Connected in test mode" in section(page.text, "dodo_connected")

    live = bantico.client.get(f"/app/p/{project.id}/troubleshooting?mode=live").text
    assert statuses(live)["metadata"] == "warn"
    assert "No payments in the last 30 days to check." in live

    emulator.state.revoke_key(TEST_KEY)
    again = bantico.client.get(f"/app/p/{project.id}/troubleshooting").text
    assert statuses(again)["dodo_connected"] == "fail"
    assert "revoked" in section(again, "dodo_connected")


def test_troubleshooting_needs_a_login(client: TestClient, project: Project) -> None:
    response = client.get(f"/app/p/{project.id}/troubleshooting", follow_redirects=False)
    assert response.status_code == 303


def test_troubleshooting_in_a_browser(
    browser: Chromium,
    bantico: Bantico,
    emulator: RunningEmulator,
    admin: Admin,
    project: Project,
    session: Session,
) -> None:
    set_up(bantico, project, session)
    pay(  # a checkout that forgot the metadata: two checks warn
        session,
        project,
        "pay_bare",
        mode="test",
        metadata={},
        customer={"customer_id": "cus_x", "email": "x@example.com", "name": "X"},
    )
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{bantico.url}/login?next=/app/p/{project.id}/troubleshooting")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Troubleshooting")).to_be_visible()
    expect(page.locator("#check-metadata")).to_contain_text("Warning")
    expect(page.locator("#check-metadata")).to_contain_text("1 of 2 payments")
    expect(page.locator("#check-dodo_connected")).to_contain_text("Pass")
    expect(page.get_by_role("status")).to_contain_text("2 with a warning, 5 passed")

    # Run again, by keyboard.
    button = page.get_by_role("button", name="Run the checks again")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "mode=test" in page.url
    expect(page.get_by_role("heading", name="Troubleshooting")).to_be_visible()
    watched.shot("troubleshooting")
    context.close()
