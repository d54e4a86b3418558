"""The Links pages: create (and explain what is wrong), list with clicks and revenue, copy, QR
codes, edit, archive, and one link's funnel and payments."""

from __future__ import annotations

import html
import io
import re

import pytest
import segno
from fastapi.testclient import TestClient
from playwright import sync_api as playwright
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.links.models import Link
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.dashboard.conftest import Admin, post_form
from tests.dashboard.test_browser import Watched
from tests.factories import make_link, make_project
from tests.integrations.dodo import support
from tests.support.dodo import Bantico

EVERY_FIELD = {
    "destination_url": "https://shop.example/pricing?plan=pro",
    "campaign_id": "spring26",
    "source": "linkedin",
    "medium": "dm",
    "content": "hero",
    "lead_id": "lead_42",
    "key": "spring-dm",
}


def links_url(project: Project, *parts: str) -> str:
    return "/".join([f"/app/p/{project.id}/links", *parts])


def link_row(page: str, link_id: str) -> list[str]:
    """The cells of one link's row in the list."""
    row = next(r for r in page.split("<tr>") if f'id="short-{link_id}"' in r)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def stored(session: Session, project: Project) -> list[Link]:
    session.expire_all()
    return list(session.execute(select(Link).where(Link.project_id == project.id)).scalars())


def test_create_a_link_with_every_field(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    response = post_form(signed_in, links_url(project), **EVERY_FIELD)
    assert response.status_code == 303, response.text
    [link] = stored(session, project)
    assert response.headers["location"] == links_url(project, link.id)
    assert (
        link.key,
        link.destination_url,
        link.campaign_id,
        link.source,
        link.medium,
        link.content,
        link.lead_id,
    ) == ("spring-dm", *[EVERY_FIELD[k] for k in list(EVERY_FIELD)[:-1]])
    page = signed_in.get(response.headers["location"]).text
    assert "Link created: https://bnt.example/l/spring-dm" in page
    assert (
        '<pre id="short-url" tabindex="0"><code>https://bnt.example/l/spring-dm</code></pre>'
        in page
    )
    assert 'data-copy="short-url"' in page
    # Without a custom key Bantico picks one; empty context fields stay empty.
    response = post_form(
        signed_in, links_url(project), destination_url="https://shop.example/", key=""
    )
    assert response.status_code == 303
    new = next(ln for ln in stored(session, project) if ln.key != "spring-dm")
    assert re.fullmatch(r"[A-Za-z0-9_-]{7}", new.key) and new.campaign_id is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("destination_url", "", "Enter the address the link sends visitors to"),
        ("destination_url", "ftp://shop.example/", "Start the address with https:// or http://"),
        ("destination_url", "javascript:alert(1)", "Start the address with https:// or http://"),
        ("destination_url", "shop.example/pricing", "Start the address with https:// or http://"),
        ("destination_url", "https://", "Add the site after https://"),
        ("destination_url", "https://shop.example/" + "a" * 2048, "Use at most 2,048 characters."),
        ("campaign_id", "c" * 201, "Use at most 200 characters."),
        ("lead_id", "l" * 201, "Use at most 200 characters."),
        ("key", "has space", "Use 1 to 64 letters, digits, - or _"),
        ("key", "-starts-with-dash", "Use 1 to 64 letters, digits, - or _"),
    ],
)
def test_invalid_links_are_explained_next_to_the_field(
    signed_in: TestClient,
    project: Project,
    session: Session,
    field: str,
    value: str,
    message: str,
) -> None:
    response = post_form(signed_in, links_url(project), **{**EVERY_FIELD, field: value})
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="f-{field}-error">([^<]+)</p>', response.text)
    assert error is not None and html.unescape(error.group(1)).startswith(message)
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', response.text)
    assert 'value="lead_42"' in response.text or field == "lead_id"  # what was typed stays
    assert stored(session, project) == []


def test_a_taken_key_is_explained(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    other = make_project(session, name="Other").project
    make_link(session, project_id=other.id, key="spring-dm")
    session.commit()
    response = post_form(signed_in, links_url(project), **EVERY_FIELD)
    assert response.status_code == 422
    assert (
        '<p class="error" id="f-key-error">Another link already uses this key. Choose another, '
        "or leave it empty for a random one.</p>"
    ) in response.text
    assert stored(session, project) == []


def test_the_list_shows_clicks_payments_and_revenue(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    dm = make_link(session, project_id=project.id, key="dm")
    quiet = make_link(session, project_id=project.id, key="quiet", campaign_id="autumn")
    session.commit()
    alice, bob = Browser(project, "v_alice_00001"), Browser(project, "v_bob_0000001")
    alice.click("dm")
    bob.click("dm")
    pay(session, project, "pay_a", metadata={**(alice.context or {}), "visitorId": "v_alice_00001"})
    pay(session, project, "pay_t", mode="test", metadata={"linkId": dm.id}, total_amount=9900)

    page = signed_in.get(links_url(project))
    assert page.status_code == 200
    # Clicks, payments and net revenue (settlement 46.12 USD by default in support.payment).
    assert link_row(page.text, dm.id)[3:6] == ["2", "1", "46.12 USD"]
    assert link_row(page.text, quiet.id)[3:6] == ["0", "0", "—"]
    assert "<strong>live-mode</strong> payments" in page.text
    assert "<strong>last 90 days</strong>" in page.text
    assert 'data-copy="short-' + dm.id + '"' in page.text
    assert f'<code id="short-{dm.id}">https://bnt.example/l/dm</code>' in page.text

    test_mode = signed_in.get(links_url(project) + "?mode=test&days=7").text
    assert link_row(test_mode, dm.id)[3:6] == ["2", "1", "46.12 USD"]
    assert "<strong>test-mode</strong> payments" in test_mode
    assert "<strong>last 7 days</strong>" in test_mode


def test_the_list_follows_the_dodo_mode(
    signed_in: TestClient, project: Project, session: Session, settings: Settings
) -> None:
    link = make_link(session, project_id=project.id, key="dm")
    session.commit()
    support.connect_for_webhooks(session, settings, project.id, support.new_secret(), mode="test")
    pay(session, project, "pay_t", mode="test", metadata={"linkId": link.id})
    page = signed_in.get(links_url(project)).text
    assert "<strong>test-mode</strong> payments" in page
    assert link_row(page, link.id)[4] == "1"
    assert '<option value="test" selected>Test</option>' in page


def test_qr_codes(signed_in: TestClient, project: Project, session: Session) -> None:
    link = make_link(session, project_id=project.id, key="qr-me")
    session.commit()
    svg = signed_in.get(links_url(project, link.id, "qr.svg"))
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["content-disposition"] == 'inline; filename="bantico-link-qr-me.svg"'
    assert svg.text.startswith("<svg")
    expected = io.BytesIO()
    segno.make("https://bnt.example/l/qr-me", error="m", micro=False).save(
        expected, kind="svg", scale=8, border=4, dark="#000", light="#fff", xmldecl=False
    )
    assert svg.content == expected.getvalue()  # the code says the short URL
    download = signed_in.get(links_url(project, link.id, "qr.svg") + "?download=1")
    assert download.headers["content-disposition"] == (
        'attachment; filename="bantico-link-qr-me.svg"'
    )
    png = signed_in.get(links_url(project, link.id, "qr.png") + "?download=1")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["content-disposition"] == 'attachment; filename="bantico-link-qr-me.png"'
    page = signed_in.get(links_url(project, link.id)).text
    assert f'<img src="{links_url(project, link.id, "qr.svg")}"' in page
    assert 'alt="QR code of https://bnt.example/l/qr-me"' in page
    # Another project's link is not found here.
    other = make_project(session, name="Other").project
    theirs = make_link(session, project_id=other.id, key="theirs")
    session.commit()
    assert signed_in.get(links_url(project, theirs.id, "qr.png")).status_code == 404
    assert signed_in.get(links_url(project, theirs.id)).status_code == 404


def test_archive_needs_the_csrf_token_and_keeps_redirecting(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="old")
    session.commit()
    archive = links_url(project, link.id, "archive")
    refused = signed_in.post(archive, data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    forged = signed_in.post(archive, data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert [ln.archived_at for ln in stored(session, project)] == [None]

    assert "its short URL keeps redirecting" in signed_in.get(links_url(project)).text
    response = post_form(signed_in, links_url(project), archive)
    assert response.status_code == 303
    assert response.headers["location"] == links_url(project)
    [archived] = stored(session, project)
    assert archived.archived_at is not None
    listed = signed_in.get(links_url(project)).text
    assert (
        "Link archived. https://bnt.example/l/old still redirects to "
        "https://shop.example/pricing, so places where you shared it keep working"
    ) in listed
    assert f'id="short-{link.id}"' not in listed
    everything = signed_in.get(links_url(project) + "?archived=1").text
    assert f'id="short-{link.id}"' in everything and "archived</span>" in everything
    redirected = signed_in.get("/l/old", follow_redirects=False)
    assert redirected.status_code == 302
    assert redirected.headers["location"].startswith("https://shop.example/pricing")


def test_edit_a_link(signed_in: TestClient, project: Project, session: Session) -> None:
    link = make_link(session, project_id=project.id, key="edit-me")
    session.commit()
    edit = links_url(project, link.id, "edit")
    form = signed_in.get(edit).text
    assert 'value="https://shop.example/pricing"' in form and 'value="hero"' in form
    bad = post_form(signed_in, edit, destination_url="mailto:x@example.com", source="x")
    assert bad.status_code == 422
    assert 'id="f-destination_url-error">Start the address with https://' in bad.text
    response = post_form(
        signed_in,
        edit,
        destination_url="https://shop.example/new",
        campaign_id="summer",
        source="x",
        medium="post",
        content="",
        lead_id="",
    )
    assert response.status_code == 303
    [changed] = stored(session, project)
    assert (changed.key, changed.destination_url, changed.campaign_id, changed.content) == (
        "edit-me",
        "https://shop.example/new",
        "summer",
        None,
    )
    assert "Link saved." in signed_in.get(response.headers["location"]).text


def test_a_link_page_shows_its_funnel_and_payments(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="dm")
    other = make_link(session, project_id=project.id, key="nl", campaign_id="newsletter")
    session.commit()
    alice = Browser(project, "v_alice_00001")
    alice.click("dm")
    alice.send("pricing_view", url="https://shop.example/pricing")
    alice.send("signup_started")
    alice.send("signup_completed")
    pay(
        session,
        project,
        "pay_alice",
        customer={"customer_id": "cus_a", "email": "alice@example.com", "name": "Alice"},
        metadata={**(alice.context or {}), "visitorId": alice.visitor_id},
    )
    bob = Browser(project, "v_bob_0000001")
    bob.click("dm")
    carol = Browser(project, "v_carol_00001")
    carol.click("nl")
    pay(session, project, "pay_carol", metadata={**(carol.context or {})})

    page = signed_in.get(links_url(project, link.id))
    assert page.status_code == 200
    steps = dict(
        re.findall(
            r'<code class="links-step">(\w+)</code></th>\s*<td class="num">(\d+)</td>', page.text
        )
    )
    assert steps == {
        "link_clicked": "2",
        "page_view": "2",
        "pricing_view": "1",
        "signup_started": "1",
        "signup_completed": "1",
        "payment_completed": "1",
    }
    assert "<dt>Payments</dt><dd>1</dd>" in page.text
    assert "<dt>Net revenue</dt><dd>46.12 USD</dd>" in page.text
    assert f'href="/app/p/{project.id}/payments/pay_alice"' in page.text
    assert "pay_carol" not in page.text
    assert (
        f'href="/app/p/{project.id}/payments/pay_carol"'
        in signed_in.get(links_url(project, other.id)).text
    )


def test_hostile_link_values_are_escaped(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    evil = "<script>alert(1)</script>"
    link = make_link(
        session,
        project_id=project.id,
        key="evil",
        destination_url='https://shop.example/?q="><img src=x>',
        content=evil,
        campaign_id='"><b>bold</b>',
    )
    session.commit()
    pay(session, project, "pay_evil", metadata={"linkId": link.id})
    for url in (
        links_url(project),
        links_url(project, link.id),
        links_url(project, link.id, "edit"),
        f"/app/p/{project.id}/payments/pay_evil",
    ):
        page = signed_in.get(url).text
        assert evil not in page and "<b>bold</b>" not in page and "<img src=x>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    # A hostile value typed into the form comes back escaped too.
    response = post_form(signed_in, links_url(project), destination_url=evil, content=evil)
    assert response.status_code == 422 and evil not in response.text


@pytest.mark.browser
def test_in_a_real_browser(
    browser: playwright.Browser, bantico: Bantico, admin: Admin, project: Project, session: Session
) -> None:
    """Create a link with the keyboard, copy its short URL, see its QR code, follow a payment
    to its page and copy the support summary, archive the link: no CSP violation anywhere."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=bantico.url)
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{bantico.url}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{bantico.url}{links_url(project)}")

    page.get_by_label("Destination URL").fill("notaurl")
    page.get_by_role("button", name="Create the link").click()
    expect(page.get_by_label("Destination URL")).to_be_focused()
    expect(page.locator("#f-destination_url-error")).to_contain_text("Start the address with")
    watched.shot("links-01-error")
    page.get_by_label("Destination URL").fill("https://shop.example/pricing")
    page.get_by_label("Campaign").fill("spring26")
    page.get_by_label("Source").fill("linkedin")
    page.get_by_label("Custom key (optional)").fill("spring")
    page.get_by_label("Custom key (optional)").press("Enter")
    short = f"{bantico.url}/l/spring"
    expect(page.get_by_text(f"Link created: {short}")).to_be_visible()
    page.get_by_role("button", name="Copy").first.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == short
    qr = page.get_by_role("img", name=f"QR code of {short}")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.naturalWidth") > 0
    watched.shot("links-02-link")

    [link] = stored(session, project)
    pay(session, project, "pay_browser", metadata={"linkId": link.id, "campaignId": "other"})
    page.goto(f"{bantico.url}{links_url(project)}")
    watched.shot("links-03-list")
    page.get_by_role("link", name="Details of /l/spring").click()
    page.get_by_role("link", name="pay_browser").click()
    expect(page.get_by_role("heading", name="Why, in plain words")).to_be_visible()
    page.get_by_text("Raw Dodo payload").click()
    page.locator("[data-copy=support-text]").click()
    assert "Payment pay_browser from dodo" in page.evaluate("navigator.clipboard.readText()")
    watched.shot("payments-01-payment")
    page.get_by_role("link", name="Payments", exact=True).first.click()
    expect(page.get_by_role("link", name="pay_browser")).to_be_visible()
    watched.shot("payments-02-list")

    page.goto(f"{bantico.url}{links_url(project)}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive /l/spring").click()
    expect(page.get_by_text("Link archived.")).to_be_visible()
    watched.shot("links-04-archived")
    context.close()
