from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.tracking.models import Event, Identity, Touch, Visitor, VisitSession
from tests.conftest import Project
from tests.factories import make_link

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
VISITOR, SESSION = "v_visitor0001", "s_session0001"


def send(project: Project, **fields: Any) -> Any:
    body = {
        "token": project.token,
        "name": "page_view",
        "visitorId": VISITOR,
        "sessionId": SESSION,
        "url": "https://shop.example/",
        **fields,
    }
    # The loader posts JSON as text/plain to avoid a CORS preflight.
    return project.client.post(
        "/api/collect", content=json.dumps(body), headers={"content-type": "text/plain"}
    )


def rows(session: Session, model: Any) -> list[Any]:
    session.expire_all()
    return list(session.execute(select(model).order_by(*model.__mapper__.primary_key)).scalars())


def click(project: Project, key: str) -> tuple[str, str]:
    location = project.client.get(
        f"/l/{key}", headers={"User-Agent": BROWSER}, follow_redirects=False
    ).headers["location"]
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(location).query)
    return query["bantico_click"][0], query["bantico_link"][0]


def test_landing_with_click_joins_visitor_and_returns_link_context(
    project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="dm1")
    session.commit()
    click_id, link_id = click(project, "dm1")

    response = send(
        project,
        clickId=click_id,
        linkId=link_id,
        utm={"source": "linkedin", "medium": "dm", "campaign": "spring26"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["context"] == {
        "linkId": link.id,
        "campaignId": "spring26",
        "source": "linkedin",
        "medium": "dm",
        "content": "hero",
        "leadId": "lead_42",
    }
    clicked = next(e for e in rows(session, Event) if e.name == "link_clicked")
    assert (clicked.visitor_id, clicked.session_id) == (VISITOR, SESSION)
    [touch] = rows(session, Touch)
    assert (touch.kind, touch.click_id, touch.link_id, touch.lead_id) == (
        "click",
        click_id,
        link.id,
        "lead_42",
    )
    view = next(e for e in rows(session, Event) if e.name == "page_view")
    assert (view.link_id, view.campaign_id, view.visitor_id) == (link.id, "spring26", VISITOR)
    [visitor] = rows(session, Visitor)
    [visit] = rows(session, VisitSession)
    assert (
        visit.visitor_id == visitor.id == VISITOR and visit.landing_url == "https://shop.example/"
    )

    # Reloading the landing page does not invent a second touch.
    send(project, clickId=click_id, linkId=link_id)
    assert len(rows(session, Touch)) == 1


def test_later_events_carry_the_cookie_context(project: Project, session: Session) -> None:
    context = {
        "linkId": "lnk_x",
        "campaignId": "c1",
        "source": "x",
        "medium": "dm",
        "content": None,
        "leadId": "",
    }
    response = send(project, name="signup_started", context=context, props={"plan": "pro"})
    assert response.status_code == 200 and "context" not in response.json()
    [event] = rows(session, Event)
    assert (event.name, event.link_id, event.campaign_id, event.lead_id) == (
        "signup_started",
        "lnk_x",
        "c1",
        None,
    )
    assert event.props == {"plan": "pro"}
    assert rows(session, Touch) == []


def test_utm_landing_creates_touch_and_campaign(project: Project, session: Session) -> None:
    from bantico.links.models import Campaign

    response = send(
        project,
        utm={
            "source": "newsletter",
            "medium": "email",
            "campaign": "black-friday",
            "content": "footer",
        },
    )
    assert response.json()["context"]["campaignId"] == "black-friday"
    [touch] = rows(session, Touch)
    assert (touch.kind, touch.source, touch.campaign_id) == ("utm", "newsletter", "black-friday")
    assert [c.key for c in rows(session, Campaign)] == ["black-friday"]


def test_referral_from_another_site(project: Project, session: Session) -> None:
    response = send(project, referrer="https://news.ycombinator.com/item?id=1")
    assert response.json()["context"] == {
        "source": "news.ycombinator.com",
        "medium": "referral",
        "linkId": None,
        "campaignId": None,
        "content": None,
        "leadId": None,
    }
    # A referral never displaces a link context the visitor already carries...
    carried = send(project, referrer="https://google.com/", context={"linkId": "lnk_a"})
    assert "context" not in carried.json()
    event = [e for e in rows(session, Event)][-1]
    assert event.link_id == "lnk_a"
    # ...but it is still remembered as a touch for reports and first-touch models.
    assert [t.source for t in rows(session, Touch)] == ["news.ycombinator.com", "google.com"]


@pytest.mark.parametrize(
    "fields",
    [
        {"referrer": "https://test.checkout.dodopayments.com/session/cks_1"},
        {"referrer": "https://checkout.stripe.com/c/pay/cs_test"},
        {"referrer": "https://www.paypal.com/checkoutnow"},
        {"referrer": "https://shop.example/pricing"},
        {"utm": {"source": "dodopayments"}},
    ],
)
def test_payment_pages_and_own_site_are_never_a_source(
    project: Project, session: Session, fields: dict[str, Any]
) -> None:
    response = send(project, context={"linkId": "lnk_keep"}, **fields)
    assert "context" not in response.json()
    assert rows(session, Touch) == []
    assert rows(session, Event)[0].link_id == "lnk_keep"


def test_unknown_or_foreign_click_ids_are_ignored(project: Project, session: Session) -> None:
    response = send(project, clickId="clk_doesnotexist00")
    assert response.status_code == 200 and "context" not in response.json()
    assert rows(session, Touch) == []


def test_identify_from_the_loader(project: Project, session: Session) -> None:
    response = send(
        project,
        name="identify",
        user={"id": 42, "email": "  Jane@Example.COM ", "name": "Jane", "plan": "pro"},
    )
    assert response.status_code == 200, response.text
    [identity] = rows(session, Identity)
    assert (identity.user_id, identity.email, identity.traits) == (
        "42",
        "jane@example.com",
        {"plan": "pro"},
    )
    [visitor] = rows(session, Visitor)
    assert (visitor.user_id, visitor.email, visitor.name) == ("42", "jane@example.com", "Jane")
    empty = send(project, name="identify", user={"name": "only a name"})
    assert empty.status_code == 422 and "id or an email" in empty.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{oops", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"name": "page_view"}).encode(), 422, "token"),
        (
            json.dumps(
                {
                    "token": "btk_x",
                    "name": "page_view",
                    "visitorId": "v_visitor0001",
                    "sessionId": "s_session0001",
                }
            ).encode(),
            401,
            "unknown project token",
        ),
    ],
)
def test_bad_input_is_explained(project: Project, body: bytes, status: int, fragment: str) -> None:
    response = project.client.post(
        "/api/collect", content=body, headers={"content-type": "text/plain"}
    )
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"visitorId": "short"}, "visitorId"),
        ({"visitorId": "has spaces in it"}, "visitorId"),
        ({"sessionId": None}, "sessionId"),
        ({"name": "link_clicked"}, "recorded by Bantico"),
        ({"name": "bad name!"}, "event name"),
        ({"props": "not an object"}, "props"),
        ({"props": {"blob": "x" * 9000}}, "props"),
        ({"url": "https://e.example/" + "a" * 3000}, "url"),
    ],
)
def test_invalid_fields_are_422(project: Project, fields: dict[str, Any], fragment: str) -> None:
    response = send(project, **fields)
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]


def test_oversized_body_is_413(project: Project) -> None:
    response = project.client.post(
        "/api/collect", content=b"x" * (65 * 1024), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]


def test_chunked_oversized_body_is_413(project: Project) -> None:
    def chunks() -> Any:
        for _ in range(70):
            yield b"x" * 1024

    response = project.client.post(
        "/api/collect", content=chunks(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413


def test_preflight_and_config(project: Project, session: Session) -> None:
    preflight = project.client.options("/api/collect")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    config = project.client.get(f"/api/config?token={project.token}")
    assert config.json() == {"pricingPath": "/pricing", "honourGpc": True, "windowDays": 30}
    assert "max-age" in config.headers["cache-control"]
    assert project.client.get("/api/config?token=btk_unknown").status_code == 401


def test_reloading_a_tagged_page_is_one_touch(project: Project, session: Session) -> None:
    utm = {"source": "newsletter", "campaign": "nov"}
    send(project, utm=utm)
    send(project, utm=utm)
    assert len(rows(session, Touch)) == 1
    send(project, utm=utm, sessionId="s_session0002")  # a later visit is a new touch
    assert len(rows(session, Touch)) == 2


def test_only_page_views_land_from_a_referrer(project: Project, session: Session) -> None:
    send(project, name="cta_clicked", referrer="https://news.ycombinator.com/")
    assert rows(session, Touch) == []
