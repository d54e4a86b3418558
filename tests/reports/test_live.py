"""Now (`GET /api/v1/reports/live`): the visitors and clicks of the last five minutes and the
feed of the latest clicks, signups and payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bantico.reports.live import live
from bantico.tracking.models import Event
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.factories import customer, make_project, make_shop_links

UNFURLER = {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}


def now_of(project: Project, **params: Any) -> Any:
    response = project.client.get("/api/v1/reports/live", headers=project.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def age(session: Session, visitor_id: str, minutes: float) -> None:
    """Move a visitor's events (and the clicks tied to it) back in time."""
    for event in session.scalars(select(Event).where(Event.visitor_id == visitor_id)):
        event.occurred_at -= timedelta(minutes=minutes)
    session.commit()


def test_visitors_and_clicks_of_the_last_five_minutes(project: Project, session: Session) -> None:
    make_shop_links(session, project_id=project.id)
    Browser(project, "v_alice_00001").click("dm")  # a click and a page view
    Browser(project, "v_bob_0000001").send("page_view")
    early = Browser(project, "v_carol_00001")
    early.click("nl")
    age(session, early.visitor_id, 6)  # six minutes ago: not now
    for _ in range(3):  # an unfurler: neither a visitor nor a click
        project.client.get("/l/dm", headers=UNFURLER, follow_redirects=False)

    data = now_of(project)
    assert (data["visitors"], data["clicks"]) == (2, 1)
    assert data["windowMinutes"] == 5
    # Seen from five minutes earlier, Carol alone was there; ten minutes on, nobody is.
    earlier = live(session, project.id, now=datetime.now(UTC) - timedelta(minutes=11))
    assert (earlier["visitors"], earlier["clicks"]) == (1, 1)
    quiet = live(session, project.id, now=datetime.now(UTC) + timedelta(minutes=10))
    assert (quiet["visitors"], quiet["clicks"]) == (0, 0)


def test_bots_never_count_nor_show(project: Project, session: Session) -> None:
    make_shop_links(session, project_id=project.id)
    for _ in range(2):
        project.client.get("/l/dm", headers=UNFURLER, follow_redirects=False)
    bots = session.scalars(select(Event).where(Event.project_id == project.id)).all()
    assert len(bots) == 2 and all(e.is_bot for e in bots)
    data = now_of(project)
    assert (data["visitors"], data["clicks"], data["feed"]) == (0, 0, [])


def test_the_feed_newest_first_with_each_kind(project: Project, session: Session) -> None:
    dm, _ = make_shop_links(session, project_id=project.id)
    alice = Browser(project, "v_alice_00001")
    alice.click("dm")
    alice.send("signup_completed")
    pay(
        session,
        project,
        "pay_a",
        customer=customer("alice"),
        total_amount=4900,
        metadata={**(alice.context or {}), "visitorId": alice.visitor_id},
    )
    Browser(project, "v_bob_0000001").click("nl")  # the last thing, a second after the payment
    session.execute(
        update(Event)
        .where(Event.project_id == project.id, Event.visitor_id == "v_bob_0000001")
        .values(occurred_at=datetime.now(UTC) + timedelta(seconds=5))
    )
    session.commit()

    feed = now_of(project)["feed"]
    assert [(i["kind"], i.get("linkKey")) for i in feed] == [
        ("click", "nl"),
        ("payment", "dm"),
        ("signup", "dm"),
        ("click", "dm"),
    ]
    times = [datetime.fromisoformat(i["at"]) for i in feed]
    assert times == sorted(times, reverse=True)
    nl_click, paid, signup, dm_click = feed
    assert nl_click["campaign"] == "newsletter-11" and nl_click["source"] == "newsletter"
    assert dm_click["linkId"] == dm.id and dm_click["destination"] == "https://shop.example/pricing"
    assert dm_click["campaignId"] == "spring26" and dm_click["medium"] == "dm"
    assert signup["visitorId"] == "v_alice_00001" and signup["source"] == "linkedin"
    assert paid["paymentId"] == "pay_a" and paid["status"] == "succeeded"
    assert paid["amount"] == {"amount": 4900, "currency": "USD", "formatted": "49.00 USD"}
    assert paid["method"] == "metadata" and paid["campaign"] == "spring26"


def test_live_and_test_payments_apart(project: Project, session: Session) -> None:
    pay(session, project, "pay_live", customer=customer("lena"), metadata={})
    pay(session, project, "pay_test", mode="test", customer=customer("tess"), metadata={})
    as_live = [i["paymentId"] for i in now_of(project)["feed"]]
    as_test = [i["paymentId"] for i in now_of(project, mode="test")["feed"]]
    assert (as_live, as_test) == (["pay_live"], ["pay_test"])
    unattributed = now_of(project)["feed"][0]
    assert unattributed["method"] == "none" and unattributed["linkKey"] is None


def test_the_limit(project: Project, session: Session) -> None:
    for n in range(3):
        pay(session, project, f"pay_{n}", customer=customer(f"c{n}"), metadata={})
    assert len(now_of(project)["feed"]) == 3
    assert [i["paymentId"] for i in now_of(project, limit=2)["feed"]] == ["pay_2", "pay_1"]
    assert now_of(project, limit=100)["limit"] == 100
    for wrong, said in (("0", "greater than or equal to 1"), ("1000", "less than or equal to 100")):
        response = project.client.get(
            "/api/v1/reports/live", headers=project.headers, params={"limit": wrong}
        )
        assert response.status_code == 422, response.text
        assert "limit" in response.text and said in response.text
    with pytest.raises(ValueError, match="limit must be from 1 to 100"):
        live(session, project.id, limit=101)


def test_another_projects_rows_never_show(project: Project, session: Session) -> None:
    other = make_project(session, name="Other")
    session.commit()
    theirs = Project(project.client, other.project.id, other.project.token, other.secret_key)
    make_shop_links(session, project_id=theirs.id)
    Browser(theirs, "v_theirs_0001").click("dm")
    pay(session, theirs, "pay_theirs", customer=customer("zed"), metadata={})
    data = now_of(project)
    assert (data["visitors"], data["clicks"], data["feed"]) == (0, 0, [])
    assert now_of(theirs)["clicks"] == 1


def test_needs_a_secret_key(project: Project) -> None:
    assert project.client.get("/api/v1/reports/live").status_code == 401
