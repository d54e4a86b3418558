"""bantico.js in a real browser: a tracked link followed to the founder's site on another
origin, both install forms, consent gating, Global Privacy Control, sessions, SPA navigation,
queued calls, identify and reset."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request
from sqlalchemy.orm import Session

from bantico.links.models import Link
from bantico.projects.models import Project
from bantico.tracking.models import Event, Identity, Touch, Visitor, VisitSession
from tests.browser.conftest import Db, Site, cookies_by_name
from tests.factories import make_link

pytestmark = pytest.mark.browser

DAY = 86400
LINK_CONTEXT_KEYS = ("linkId", "campaignId", "source", "medium", "content", "leadId")
GPC_ON = "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})"


def link_context(link: Link) -> dict[str, Any]:
    return {
        "linkId": link.id,
        "campaignId": link.campaign_id,
        "source": link.source,
        "medium": link.medium,
        "content": link.content,
        "leadId": link.lead_id,
    }


def event_context(event: Event) -> dict[str, Any]:
    return {
        "linkId": event.link_id,
        "campaignId": event.campaign_id,
        "source": event.source,
        "medium": event.medium,
        "content": event.content,
        "leadId": event.lead_id,
    }


def loader_context(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("bantico.context()")
    return result


def wait_for_lead(page: Page) -> dict[str, Any]:
    """The link's lead is not in the URL: it arrives with the server's answer to the landing."""
    page.wait_for_function("() => window.bantico && bantico.context().leadId !== null")
    return loader_context(page)


class Traffic:
    """Every request the page makes, and the loader's event bodies."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.events: list[dict[str, Any]] = []
        page.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        self.urls.append(request.url)
        if request.url.endswith("/api/collect"):
            self.events.append(json.loads(request.post_data or "{}"))

    def to(self, origin: str) -> list[str]:
        return [url for url in self.urls if url.startswith(origin + "/")]

    def names(self) -> list[str]:
        return [event["name"] for event in self.events]


def follow_link(
    session: Session,
    project: Project,
    site: Site,
    bantico_url: str,
    page: Page,
    key: str,
    destination: str = "/?ref=newsletter",
) -> tuple[Link, dict[str, Any]]:
    link = make_link(
        session, project_id=project.id, destination_url=site.url + destination, key=key
    )
    session.commit()
    page.goto(f"{bantico_url}/l/{key}")
    return link, wait_for_lead(page)


def test_tracked_link_lands_on_the_site_with_its_context(
    bantico_url: str,
    site: Site,
    project: Project,
    session: Session,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    started = time.time()
    link, carried = follow_link(session, project, site, bantico_url, page, "dm1")

    # The visitor is on the founder's origin; Bantico's own parameters are gone, the rest stay.
    address = urlsplit(page.url)
    assert f"{address.scheme}://{address.netloc}" == site.url
    assert parse_qs(address.query) == {
        "ref": ["newsletter"],
        "utm_source": ["linkedin"],
        "utm_medium": ["dm"],
        "utm_campaign": ["spring26"],
        "utm_content": ["hero"],
    }
    assert page.evaluate("location.search").find("bantico_") == -1

    # First-party cookies on the site, none anywhere else.
    cookies = cookies_by_name(context, site.url)
    assert set(cookies) == {"bnt_v", "bnt_s", "bnt_c"}
    assert {c["domain"] for c in context.cookies()} == {"localhost"}
    for cookie in cookies.values():
        assert (cookie["path"], cookie["sameSite"], cookie["secure"], cookie["httpOnly"]) == (
            "/",
            "Lax",
            False,
            False,
        )
    assert cookies["bnt_v"]["expires"] == pytest.approx(started + 400 * DAY, abs=60)
    assert cookies["bnt_s"]["expires"] == pytest.approx(started + 1800, abs=60)
    assert cookies["bnt_c"]["expires"] == pytest.approx(started + 30 * DAY, abs=60)
    assert json.loads(unquote(cookies["bnt_c"]["value"])) == link_context(link)

    # bantico.context(): the link's whole context, incl. campaign and lead, and the ids.
    visitor_id, session_id = cookies["bnt_v"]["value"], cookies["bnt_s"]["value"]
    assert carried == {**link_context(link), "visitorId": visitor_id, "sessionId": session_id}

    # The page_view carries the link context and the visitor.
    [view] = db.wait(Event, Event.project_id == project.id, Event.name == "page_view")
    assert (view.visitor_id, view.session_id) == (visitor_id, session_id)
    assert event_context(view) == link_context(link)
    assert view.url == page.url and view.is_bot is False

    # The server-side click is now joined to that visitor, and recorded as its touch.
    [click] = db.all(Event, Event.project_id == project.id, Event.name == "link_clicked")
    assert (click.visitor_id, click.session_id, click.is_bot) == (visitor_id, session_id, False)
    [touch] = db.all(Touch, Touch.project_id == project.id)
    assert (touch.kind, touch.click_id, touch.visitor_id) == ("click", click.click_id, visitor_id)
    [visitor] = db.all(Visitor, Visitor.project_id == project.id)
    assert visitor.id == visitor_id
    [visit] = db.all(VisitSession, VisitSession.project_id == project.id)
    assert (visit.id, visit.visitor_id, visit.landing_url) == (session_id, visitor_id, page.url)

    # A custom event inherits the context and keeps its props.
    page.click("#cta")
    [cta] = db.wait(Event, Event.project_id == project.id, Event.name == "cta_clicked")
    assert (cta.visitor_id, cta.session_id, cta.props) == (visitor_id, session_id, {"plan": "pro"})
    assert event_context(cta) == link_context(link)
    # Tidying the address bar is not a navigation: still one page_view, and "/" is not pricing.
    names = [e.name for e in db.all(Event, Event.project_id == project.id)]
    assert sorted(names) == ["cta_clicked", "link_clicked", "page_view"]


def test_window_token_form_with_utm_landing(
    site: Site,
    project: Project,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    query = "utm_source=newsletter&utm_medium=email&utm_campaign=launch&utm_term=founders"
    page.goto(f"{site.url}/?{query}")
    page.wait_for_function("() => window.bantico && bantico.context().source === 'newsletter'")

    [view] = db.wait(Event, Event.project_id == project.id, Event.name == "page_view")
    assert view.url == f"{site.url}/?{query}"  # utm_* parameters stay in the address bar
    assert page.url == view.url
    assert (view.source, view.medium, view.campaign_id, view.link_id) == (
        "newsletter",
        "email",
        "launch",
        None,
    )
    [touch] = db.all(Touch, Touch.project_id == project.id)
    assert (touch.kind, touch.visitor_id) == ("utm", view.visitor_id)
    assert loader_context(page) == {
        "linkId": None,
        "campaignId": "launch",
        "source": "newsletter",
        "medium": "email",
        "content": None,
        "leadId": None,
        "visitorId": view.visitor_id,
        "sessionId": view.session_id,
    }
    assert cookies_by_name(context, site.url)["bnt_v"]["value"] == view.visitor_id


def test_data_token_form(
    site: Site, project: Project, context: BrowserContext, page: Page, db: Db
) -> None:
    page.goto(f"{site.url}/data-token")
    assert page.get_attribute("script[data-token]", "data-persist") == ""
    [view] = db.wait(Event, Event.project_id == project.id, Event.name == "page_view")
    assert view.url == f"{site.url}/data-token"
    cookies = cookies_by_name(context, site.url)
    assert (view.visitor_id, view.session_id) == (
        cookies["bnt_v"]["value"],
        cookies["bnt_s"]["value"],
    )
    assert event_context(view) == dict.fromkeys(LINK_CONTEXT_KEYS)


def test_consent_gated_loading(
    bantico_url: str,
    site: Site,
    project: Project,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    traffic = Traffic(page)
    page.goto(f"{site.url}/consent?utm_source=reddit", wait_until="networkidle")

    # Before consent: nothing stored in the browser and not one request to Bantico.
    assert context.cookies() == []
    assert traffic.to(bantico_url) == []
    assert page.evaluate("typeof window.bantico") == "undefined"
    assert db.all(Event, Event.project_id == project.id) == []

    page.click("#consent")
    [view] = db.wait(Event, Event.project_id == project.id, Event.name == "page_view")
    assert view.source == "reddit"
    page.wait_for_function("() => bantico.context().source === 'reddit'")
    assert set(cookies_by_name(context, site.url)) == {"bnt_v", "bnt_s", "bnt_c"}
    assert [urlsplit(url).path for url in traffic.to(bantico_url)][:2] == [
        "/bantico.js",
        "/api/config",
    ]


def test_global_privacy_control_is_honoured(
    bantico_url: str,
    site: Site,
    project: Project,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    context.add_init_script(GPC_ON)
    # An id left from before the visitor turned GPC on is removed too.
    context.add_cookies([{"name": "bnt_v", "value": "oldvisitor01", "url": site.url}])
    traffic = Traffic(page)
    with page.expect_response(lambda response: "/api/config" in response.url):
        page.goto(f"{site.url}/pricing?utm_source=x")
    page.wait_for_timeout(300)
    page.evaluate("bantico.track('cta_clicked'); bantico.identify({email: 'a@b.co'})")
    page.wait_for_timeout(200)

    assert context.cookies() == []
    assert [urlsplit(url).path for url in traffic.to(bantico_url)] == ["/bantico.js", "/api/config"]
    config_url = urlsplit(traffic.to(bantico_url)[1])
    assert parse_qs(config_url.query) == {"token": [project.token]}  # no identifiers
    assert loader_context(page) == dict.fromkeys((*LINK_CONTEXT_KEYS, "visitorId", "sessionId"))
    assert db.all(Event, Event.project_id == project.id) == []
    assert db.all(Visitor, Visitor.project_id == project.id) == []


def test_global_privacy_control_when_the_project_does_not_honour_it(
    site: Site,
    project: Project,
    session: Session,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    project.honour_gpc = False
    session.commit()
    context.add_init_script(GPC_ON)
    page.goto(f"{site.url}/")
    assert page.evaluate("navigator.globalPrivacyControl") is True
    [view] = db.wait(Event, Event.project_id == project.id, Event.name == "page_view")
    assert cookies_by_name(context, site.url)["bnt_v"]["value"] == view.visitor_id


def test_return_visit_after_the_session_expired_keeps_the_link_context(
    bantico_url: str,
    site: Site,
    project: Project,
    session: Session,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    link, first = follow_link(session, project, site, bantico_url, page, "nl1")
    db.wait(Event, Event.project_id == project.id, Event.name == "page_view")

    # 30 idle minutes later the browser has dropped the session cookie; the context remains.
    context.clear_cookies(name="bnt_s")
    page.goto(f"{site.url}/")
    views = db.wait(Event, Event.project_id == project.id, Event.name == "page_view", count=2)
    second = views[1]
    assert second.url == f"{site.url}/"
    assert second.visitor_id == first["visitorId"]
    assert second.session_id not in (None, first["sessionId"])
    assert event_context(second) == link_context(link)
    now = loader_context(page)
    assert now == {
        **link_context(link),
        "visitorId": first["visitorId"],
        "sessionId": second.session_id,
    }
    sessions = db.all(VisitSession, VisitSession.project_id == project.id)
    assert {s.id for s in sessions} == {first["sessionId"], second.session_id}
    assert len(db.all(Touch, Touch.project_id == project.id)) == 1  # no new touch

    # Every event re-sets the 30-minute session cookie.
    before = cookies_by_name(context, site.url)["bnt_s"]["expires"]
    page.wait_for_timeout(1100)
    page.evaluate("bantico.track('scrolled')")
    db.wait(Event, Event.project_id == project.id, Event.name == "scrolled")
    after = cookies_by_name(context, site.url)["bnt_s"]
    assert after["value"] == second.session_id
    assert after["expires"] > before


def test_pricing_view_on_the_pricing_path(
    site: Site,
    project: Project,
    page: Page,
    db: Db,
) -> None:
    page.goto(f"{site.url}/pricing")
    events = db.wait(Event, Event.project_id == project.id, count=2)
    assert sorted((e.name, e.url) for e in events) == [
        ("page_view", f"{site.url}/pricing"),
        ("pricing_view", f"{site.url}/pricing"),
    ]
    assert len({(e.visitor_id, e.session_id) for e in events}) == 1


def test_single_page_app_navigation(
    site: Site,
    project: Project,
    session: Session,
    page: Page,
    db: Db,
) -> None:
    project.pricing_path = "/app/plans"
    session.commit()
    traffic = Traffic(page)
    page.goto(f"{site.url}/app")
    db.wait(Event, Event.project_id == project.id, Event.name == "page_view")

    page.click("#settings")
    page.click("#settings")  # the same URL again: not another page view
    page.click("#anchor")  # only the fragment changes: not another page view
    page.click("#plans")  # the project's pricing path, reached without a page load
    page.go_back()  # popstate
    views = db.wait(Event, Event.project_id == project.id, Event.name == "page_view", count=4)
    db.wait(Event, Event.project_id == project.id, Event.name == "pricing_view")
    page.wait_for_timeout(200)

    assert sorted(str(e.url) for e in views) == sorted(
        [
            f"{site.url}/app",
            f"{site.url}/app/settings",
            f"{site.url}/app/plans",
            f"{site.url}/app/settings#billing",
        ]
    )
    sent = [(e["name"], urlsplit(e["url"]).path) for e in traffic.events]
    assert sent == [
        ("page_view", "/app"),
        ("page_view", "/app/settings"),
        ("page_view", "/app/plans"),
        ("pricing_view", "/app/plans"),
        ("page_view", "/app/settings"),
    ]
    # In-app navigations name the previous page as their referrer.
    assert traffic.events[1]["referrer"] == f"{site.url}/app"
    assert len(db.all(Event, Event.project_id == project.id)) == 5
    assert len({e.session_id for e in db.all(Event, Event.project_id == project.id)}) == 1


def test_queued_calls_identify_and_reset(
    site: Site,
    project: Project,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    page.goto(f"{site.url}/queued?utm_source=newsletter&utm_campaign=launch")
    [early] = db.wait(Event, Event.project_id == project.id, Event.name == "early_event")
    [identity] = db.wait(Identity, Identity.project_id == project.id)
    [view] = db.all(Event, Event.project_id == project.id, Event.name == "page_view")
    visitor_id = cookies_by_name(context, site.url)["bnt_v"]["value"]

    # Calls queued before the loader ran are sent after the landing, with its context.
    assert (early.props, early.visitor_id, early.source, early.campaign_id) == (
        {"from": "queue"},
        visitor_id,
        "newsletter",
        "launch",
    )
    assert view.visitor_id == visitor_id
    assert (identity.user_id, identity.email, identity.name, identity.visitor_id) == (
        "user_1",
        "ada@example.com",
        "Ada",
        visitor_id,
    )
    [visitor] = db.all(Visitor, Visitor.project_id == project.id)
    assert (visitor.user_id, visitor.email) == ("user_1", "ada@example.com")

    # Sign-out: a fresh visitor and session, no context; later events use the new ids.
    before = loader_context(page)
    after: dict[str, Any] = page.evaluate("() => { bantico.reset(); return bantico.context() }")
    assert after["visitorId"] not in (None, before["visitorId"])
    assert after["sessionId"] not in (None, before["sessionId"])
    assert after == {
        **dict.fromkeys(LINK_CONTEXT_KEYS),
        "visitorId": after["visitorId"],
        "sessionId": after["sessionId"],
    }
    cookies = cookies_by_name(context, site.url)
    assert set(cookies) == {"bnt_v", "bnt_s"}
    assert cookies["bnt_v"]["value"] == after["visitorId"]
    page.evaluate("bantico('track', 'after_reset', {n: 1})")  # the queue form works after load
    [later] = db.wait(Event, Event.project_id == project.id, Event.name == "after_reset")
    assert (later.visitor_id, later.session_id, later.props) == (
        after["visitorId"],
        after["sessionId"],
        {"n": 1},
    )
    assert event_context(later) == dict.fromkeys(LINK_CONTEXT_KEYS)


def test_unknown_token_stores_nothing(
    bantico_url: str,
    site: Site,
    project: Project,
    context: BrowserContext,
    page: Page,
    db: Db,
) -> None:
    site.token = "not-a-token"
    traffic = Traffic(page)
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    with page.expect_response(lambda response: "/api/config" in response.url) as config:
        page.goto(f"{site.url}/")
    assert config.value.status == 401
    page.wait_for_timeout(200)
    page.evaluate("bantico.track('cta_clicked')")
    page.wait_for_timeout(100)
    assert [urlsplit(url).path for url in traffic.to(bantico_url)] == ["/bantico.js", "/api/config"]
    assert context.cookies() == []
    assert any("bantico: unknown token" in text for text in warnings)
    assert db.all(Event, Event.project_id == project.id) == []
