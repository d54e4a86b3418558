"""The Payments pages: the filtered, paginated list and each payment's explanation, warnings,
refunds, disputes, support summary and raw payload."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.dashboard.routes import payments as payments_routes
from bantico.integrations.dodo import payloads
from bantico.payments import service
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.factories import make_link, make_project
from tests.integrations.dodo import support

NOBODY = {"customer_id": "cus_n", "email": "nobody@example.com", "name": "Nobody"}


def payments_url(project: Project, *parts: str) -> str:
    return "/".join([f"/app/p/{project.id}/payments", *parts])


def listed(page: str) -> list[str]:
    """The payment ids in the list, in order."""
    return re.findall(r'<a href="/app/p/[^/]+/payments/([^"]+)"><code>', page)


@pytest.fixture
def shop(project: Project, session: Session) -> dict[str, str]:
    link = make_link(session, project_id=project.id, key="dm")
    session.commit()
    now = datetime.now(UTC)
    pay(session, project, "pay_old", metadata={"linkId": link.id}, at=now - timedelta(days=10))
    pay(session, project, "pay_none", metadata={}, customer=NOBODY, at=now - timedelta(days=1))
    pay(session, project, "pay_link", metadata={"linkId": link.id}, total_amount=2500)
    pay(session, project, "pay_test", mode="test", metadata={"linkId": link.id})
    return {"link": link.id}


def test_the_list_shows_every_column(
    signed_in: TestClient, project: Project, shop: dict[str, str]
) -> None:
    page = signed_in.get(payments_url(project))
    assert page.status_code == 200
    assert listed(page.text) == ["pay_link", "pay_none", "pay_old"]  # newest first, live only
    row = next(r for r in page.text.split("<tr>") if "pay_link</code>" in r)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert cells[1:7] == [
        "25.00 USD",
        "46.12 USD",
        "jane@example.com",
        "Payment metadata 95%",
        "/l/dm spring26",
        "—",
    ]
    assert f'href="/app/p/{project.id}/links/{shop["link"]}">/l/dm</a>' in row
    none_row = next(r for r in page.text.split("<tr>") if "pay_none</code>" in r)
    assert "Unattributed" in none_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mode=test", ["pay_test"]),
        ("mode=live&attributed=yes", ["pay_link", "pay_old"]),
        ("attributed=no", ["pay_none"]),
        ("from={days_ago_3}", ["pay_link", "pay_none"]),
        ("to={days_ago_3}", ["pay_old"]),
        ("from={today}&to={today}&attributed=yes", ["pay_link"]),
        ("link={link}", ["pay_link", "pay_old"]),
        ("link={link}&mode=test", ["pay_test"]),
    ],
)
def test_filters(
    signed_in: TestClient,
    project: Project,
    shop: dict[str, str],
    query: str,
    expected: list[str],
) -> None:
    today = datetime.now(UTC).date()
    query = query.format(today=today, days_ago_3=today - timedelta(days=3), link=shop["link"])
    page = signed_in.get(f"{payments_url(project)}?{query}")
    assert page.status_code == 200
    assert listed(page.text) == expected


def test_the_list_follows_the_dodo_mode(
    signed_in: TestClient,
    project: Project,
    session: Session,
    settings: Settings,
    shop: dict[str, str],
) -> None:
    support.connect_for_webhooks(session, settings, project.id, support.new_secret(), mode="test")
    page = signed_in.get(payments_url(project)).text
    assert listed(page) == ["pay_test"]
    assert '<option value="test" selected>Test</option>' in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday", "from", "Enter a date like 2026-01-31."),
        ("to=2026-02-30", "to", "Enter a date like 2026-01-31."),
        ("from=2026-03-02&to=2026-03-01", "to", "Pick a day on or after the first day."),
        ("mode=staging", "mode", "Choose live or test."),
        ("attributed=maybe", "attributed", "Choose all, attributed or unattributed."),
    ],
)
def test_bad_filters_are_explained(
    signed_in: TestClient, project: Project, query: str, field: str, message: str
) -> None:
    page = signed_in.get(f"{payments_url(project)}?{query}")
    assert page.status_code == 422
    assert f'<p class="error" id="f-{field}-error">{message}</p>' in page.text
    unknown = signed_in.get(f"{payments_url(project)}?link=lnk_nope")
    assert unknown.status_code == 422
    assert "There is no such link in this project." in unknown.text


def test_pages_follow_the_cursor(
    signed_in: TestClient,
    project: Project,
    shop: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(payments_routes, "PAGE_SIZE", 2)
    first = signed_in.get(f"{payments_url(project)}?attributed=")
    assert listed(first.text) == ["pay_link", "pay_none"]
    assert "First page" not in first.text
    next_url = re.search(r'<a href="([^"]+)">Next page', first.text)
    assert next_url is not None
    second = signed_in.get(html.unescape(next_url.group(1)))
    assert listed(second.text) == ["pay_old"]
    assert "Next page" not in second.text and "First page" in second.text


def test_a_payment_page_explains_its_attribution(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="dm", campaign_id="spring26")
    session.commit()
    visitor = Browser(project, "v_alice_00001")
    visitor.click("dm")
    pay(
        session,
        project,
        "pay_a",
        customer={"customer_id": "cus_a", "email": "Alice@Example.com", "name": "Alice"},
        metadata={"linkId": link.id, "campaignId": "autumn", "visitorId": visitor.visitor_id},
    )
    refund = support.refund("ref_a", "pay_a", amount=1000, is_partial=True)
    service.store_refund(session, project.id, payloads.refund(refund, "live"))
    dispute = {
        "dispute_id": "dsp_a",
        "payment_id": "pay_a",
        "created_at": datetime.now(UTC).isoformat(),
        "currency": "USD",
        "amount": "39.00",
        "dispute_status": "dispute_lost",
    }
    service.store_dispute(session, project.id, payloads.dispute(dispute, "live"))
    session.commit()

    page = signed_in.get(payments_url(project, "pay_a"))
    assert page.status_code == 200
    text = html.unescape(page.text)
    # Attribution and its explanation, in plain words.
    assert f'<a href="/app/p/{project.id}/links/{link.id}">/l/dm</a>' in page.text
    assert "<dt>Campaign</dt><dd>autumn</dd>" in page.text
    assert "<dt>Visitor</dt><dd><code>v_alice_00001</code></dd>" in page.text
    assert "Attributed from the Dodo payment metadata to link " + link.id in text
    assert "metadata campaignId 'autumn' differs from the link's campaign 'spring26'" in text
    assert 'class="notice payments-warnings"' in page.text
    assert "Step 1, metadata:" in text
    assert "Latest run" in page.text and "Dodo payment metadata" in page.text
    # Refunds and disputes.
    assert "<code>ref_a</code>" in page.text and "10.00 USD" in page.text
    assert "succeeded (partial)" in page.text
    assert "<code>dsp_a</code>" in page.text
    assert "lost: the disputed amount is taken out of revenue" in page.text
    # At the top, what they took back: a refund of 10.00 and a lost dispute for the rest.
    assert '<dt>Lost in disputes</dt><dd><span class="badge warn">39.00 USD</span>' in page.text
    assert re.search(
        r"<dt>Revenue</dt><dd>0\.00 \w{3} counted, after refunds and lost disputes", text
    )
    assert "counted in full" not in text
    # The method has the same name here as in the list.
    assert '<span class="badge ok">Payment metadata</span>' in page.text
    # The support summary: plain text, ready to copy, without the customer's email.
    summary = re.search(r'<textarea id="support-text"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert summary is not None and 'data-copy="support-text"' in page.text
    support_text = html.unescape(summary.group(1))
    assert "Payment pay_a from dodo, live mode, status succeeded" in support_text
    assert "Attribution: metadata" in support_text and "Refund ref_a: succeeded" in support_text
    assert (
        "Dispute dsp_a: dispute_lost, 39.00 USD — lost: the disputed amount is taken out"
        in support_text
    )
    assert "Explanation:\n- Payment pay_a of 49.00 USD" in support_text
    assert "alice@example.com" not in support_text.lower()
    # The raw payload, collapsed.
    assert re.search(r'<details class="payments-raw">\s*<summary>Raw Dodo payload', page.text)
    assert "&#34;payment_provider&#34;: &#34;dodo&#34;" in page.text


def test_an_unattributed_payment_says_so(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    pay(session, project, "pay_none", metadata={}, customer=NOBODY)
    page = signed_in.get(payments_url(project, "pay_none"))
    assert page.status_code == 200
    assert "It is unattributed: nothing connects it to a link, campaign or visitor." in (
        html.unescape(page.text)
    )
    assert '<span class="badge warn">Unattributed</span>' in page.text
    assert "No refunds." in page.text and "No disputes." in page.text
    assert "<dt>Revenue</dt><dd>counted in full</dd>" in page.text
    assert "Lost in disputes" not in page.text


def test_unknown_and_foreign_payments_are_not_found(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    other = make_project(session, name="Other").project
    session.commit()
    theirs = Project(project.client, other.id, other.token, "")
    pay(session, theirs, "pay_theirs", metadata={})
    for payment_id in ("pay_nope", "pay_theirs"):
        page = signed_in.get(payments_url(project, payment_id))
        assert page.status_code == 404
        assert "Payment not found" in page.text


def test_payments_pages_need_a_login(client: TestClient, project: Project) -> None:
    for url in (payments_url(project), payments_url(project, "pay_x")):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
