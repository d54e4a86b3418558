"""The Payments list as a table that scales (issue 12, item 5): searched by payment id, customer
email or campaign (no `%` or `_` wildcards), sorted by date or amount either way, and paged
with the cursor together with the filters, the search and the sort."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bantico.dashboard.routes import payments as payments_routes
from tests.attribution.journeys import pay
from tests.conftest import Project
from tests.factories import make_link, make_project


def payments_url(project: Project) -> str:
    return f"/app/p/{project.id}/payments"


def listed(page: str) -> list[str]:
    return re.findall(r'<a href="/app/p/[^/]+/payments/([^"]+)"><code>', page)


def customer(email: str) -> dict[str, str]:
    return {"customer_id": f"cus_{email.split('@')[0]}", "email": email, "name": "Someone"}


@pytest.fixture
def shop(project: Project, session: Session) -> None:
    """Five live payments, oldest first: amounts 30, 10, 50, 10, 20 USD."""
    link = make_link(session, project_id=project.id, key="dm", campaign_id="Spring_26")
    other = make_link(session, project_id=project.id, key="nl", campaign_id="spring-26")
    session.commit()
    now = datetime.now(UTC)
    for number, (payment_id, amount, email, link_id) in enumerate(
        [
            ("pay_a", 3000, "Ann@Example.com", link.id),
            ("pay_b", 1000, "bob@example.com", other.id),
            ("pay_c", 5000, "carol_x@example.com", None),
            ("pay_d", 1000, "dan%@example.com", link.id),
            ("pay_e", 2000, "eve@example.com", None),
        ]
    ):
        pay(
            session,
            project,
            payment_id,
            metadata={"linkId": link_id} if link_id else {},
            customer=customer(email),
            total_amount=amount,
            at=now - timedelta(hours=10 - number),
        )


def shown(client: TestClient, project: Project, **params: str) -> list[str]:
    page = client.get(payments_url(project), params=params)
    assert page.status_code == 200, page.text
    return listed(page.text)


def test_search_by_id_email_and_campaign(
    signed_in: TestClient, project: Project, shop: None
) -> None:
    assert shown(signed_in, project, q="PAY_C") == ["pay_c"]
    assert shown(signed_in, project, q="ann@example") == ["pay_a"]
    assert shown(signed_in, project, q="spring_26") == ["pay_d", "pay_a"]  # `_` is itself
    assert shown(signed_in, project, q="spring") == ["pay_d", "pay_b", "pay_a"]
    assert shown(signed_in, project, q="_x@") == ["pay_c"]
    assert shown(signed_in, project, q="%") == ["pay_d"]
    assert shown(signed_in, project, q="pay_") == ["pay_e", "pay_d", "pay_c", "pay_b", "pay_a"]
    page = signed_in.get(payments_url(project), params={"q": "nothing-like-it"}).text
    assert listed(page) == []
    assert "No live-mode payments match “nothing-like-it”." in page
    # The search keeps the other filters: test mode has none of these.
    assert shown(signed_in, project, q="pay_", mode="test") == []
    assert shown(signed_in, project, q="spring", attributed="yes") == ["pay_d", "pay_b", "pay_a"]


def test_another_projects_payments_are_never_found(
    signed_in: TestClient, project: Project, session: Session, shop: None
) -> None:
    other = make_project(session, name="Other").project
    session.commit()
    theirs = Project(project.client, other.id, other.token, "")
    pay(session, theirs, "pay_theirs", metadata={}, customer=customer("ann@example.org"))
    assert shown(signed_in, project, q="ann@") == ["pay_a"]
    assert shown(signed_in, project, q="theirs") == []


def test_sort_by_amount_and_date(signed_in: TestClient, project: Project, shop: None) -> None:
    assert shown(signed_in, project) == ["pay_e", "pay_d", "pay_c", "pay_b", "pay_a"]
    assert shown(signed_in, project, sort="date", order="asc") == [
        "pay_a",
        "pay_b",
        "pay_c",
        "pay_d",
        "pay_e",
    ]
    # Equal amounts: the newest first (desc), the oldest first (asc).
    assert shown(signed_in, project, sort="amount") == ["pay_c", "pay_a", "pay_e", "pay_d", "pay_b"]
    assert shown(signed_in, project, sort="amount", order="asc") == [
        "pay_b",
        "pay_d",
        "pay_e",
        "pay_a",
        "pay_c",
    ]
    assert shown(signed_in, project, sort="weird", order="up") == shown(signed_in, project)

    page = signed_in.get(payments_url(project), params={"sort": "amount", "q": "pay"}).text
    assert '<th scope="col" aria-sort="descending"><a class="sort-link"' in page
    assert '<th scope="col" aria-sort="none"><a class="sort-link"' in page
    headers = re.findall(r'aria-sort="[a-z]+"><a class="sort-link" href="([^"]+)"', page)
    amount, created = (parse_qs(urlsplit(html.unescape(h)).query) for h in headers)
    assert amount["sort"] == ["amount"] and amount["order"] == ["asc"] and amount["q"] == ["pay"]
    assert "sort" not in created and created["q"] == ["pay"]  # newest first is the default


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["pay_e", "pay_d", "pay_c", "pay_b", "pay_a"]),
        ({"order": "asc"}, ["pay_a", "pay_b", "pay_c", "pay_d", "pay_e"]),
        ({"sort": "amount"}, ["pay_c", "pay_a", "pay_e", "pay_d", "pay_b"]),
        ({"sort": "amount", "order": "asc"}, ["pay_b", "pay_d", "pay_e", "pay_a", "pay_c"]),
        ({"sort": "amount", "q": "example.com"}, ["pay_c", "pay_a", "pay_e", "pay_d", "pay_b"]),
        ({"sort": "amount", "attributed": "yes"}, ["pay_a", "pay_d", "pay_b"]),
    ],
)
def test_pages_follow_the_cursor_with_search_and_sort(
    signed_in: TestClient,
    project: Project,
    shop: None,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
    expected: list[str],
) -> None:
    """Two at a time, the pages together list every payment once, in order, and each next
    link keeps the filters, search and sort."""
    monkeypatch.setattr(payments_routes, "PAGE_SIZE", 2)
    seen: list[str] = []
    url: str | None = payments_url(project) + "?" + "&".join(f"{k}={v}" for k, v in params.items())
    pages = 0
    while url is not None:
        page = signed_in.get(url).text
        pages += 1
        seen += listed(page)
        found = re.search(r'<a href="([^"]+)">Next page', page)
        url = html.unescape(found[1]) if found else None
        if url:
            kept = parse_qs(urlsplit(url).query)
            assert {k: v[0] for k, v in kept.items() if k != "cursor"} == {"mode": "live", **params}
        assert pages < 5
    assert seen == expected


def test_a_cursor_of_the_other_sort_starts_again(
    signed_in: TestClient, project: Project, shop: None
) -> None:
    assert shown(signed_in, project, sort="amount", cursor="12345")[0] == "pay_c"
    assert shown(signed_in, project, cursor="100_2")[0] == "pay_e"
    assert shown(signed_in, project, sort="amount", cursor="1" * 30 + "_1")[0] == "pay_c"
