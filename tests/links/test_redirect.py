from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.kit.ids import ALPHABET
from bantico.links.redirect import new_click_id
from bantico.tracking.models import Event
from tests.conftest import Project
from tests.factories import make_link

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def link_key(project: Project, session: Session) -> str:
    link = make_link(session, project_id=project.id, key="spring")
    session.commit()
    return link.key


def clicks(session: Session) -> list[Event]:
    session.expire_all()
    return list(session.execute(select(Event).where(Event.name == "link_clicked")).scalars())


def test_redirect_appends_click_link_and_utm(
    project: Project, session: Session, link_key: str
) -> None:
    response = project.client.get(
        f"/l/{link_key}", headers={"User-Agent": BROWSER}, follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["cache-control"].startswith("no-store")
    target = urlsplit(response.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "shop.example", "/pricing")
    query = parse_qs(target.query)
    [event] = clicks(session)
    assert query["bantico_click"] == [event.click_id]
    assert query["bantico_link"] == [event.link_id]
    assert query["utm_source"] == ["linkedin"] and query["utm_medium"] == ["dm"]
    assert query["utm_campaign"] == ["spring26"] and query["utm_content"] == ["hero"]
    assert event.is_bot is False and event.campaign_id == "spring26"
    assert event.lead_id == "lead_42" and event.visitor_id is None


def test_destination_utm_values_win(project: Project, session: Session) -> None:
    link = make_link(
        session,
        project_id=project.id,
        destination_url="https://shop.example/?utm_source=newsletter&ref=a#top",
    )
    session.commit()
    response = project.client.get(
        f"/l/{link.key}", headers={"User-Agent": BROWSER}, follow_redirects=False
    )
    target = urlsplit(response.headers["location"])
    query = parse_qs(target.query)
    assert query["utm_source"] == ["newsletter"] and query["ref"] == ["a"]
    assert query["utm_medium"] == ["dm"] and target.fragment == "top"


@pytest.mark.parametrize(
    "agent",
    [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "WhatsApp/2.23.20.0",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "",
    ],
)
def test_bots_are_redirected_but_not_counted(
    project: Project, session: Session, link_key: str, agent: str
) -> None:
    response = project.client.get(
        f"/l/{link_key}", headers={"User-Agent": agent}, follow_redirects=False
    )
    assert response.status_code == 302
    [event] = clicks(session)
    assert event.is_bot is True
    listed = project.client.get("/api/v1/links", headers=project.headers).json()["items"]
    assert listed[0]["clicks"] == 0


def test_head_requests_are_bot_clicks(project: Project, session: Session, link_key: str) -> None:
    response = project.client.head(
        f"/l/{link_key}", headers={"User-Agent": BROWSER}, follow_redirects=False
    )
    assert response.status_code == 302 and "bantico_click" in response.headers["location"]
    assert [e.is_bot for e in clicks(session)] == [True]


def test_people_are_counted(project: Project, session: Session, link_key: str) -> None:
    for _ in range(3):
        project.client.get(
            f"/l/{link_key}", headers={"User-Agent": BROWSER}, follow_redirects=False
        )
    project.client.get(
        f"/l/{link_key}", headers={"User-Agent": "Twitterbot/1.0"}, follow_redirects=False
    )
    [item] = project.client.get("/api/v1/links", headers=project.headers).json()["items"]
    assert item["clicks"] == 3
    assert len({e.click_id for e in clicks(session)}) == 4


def test_a_referrer_longer_than_its_column_is_cut(
    project: Project, session: Session, link_key: str
) -> None:
    """Found by tests/fuzz: on PostgreSQL a Referer over 2,048 characters was a 500."""
    referrer = "https://forum.example/thread?" + "q" * 3000
    response = project.client.get(
        f"/l/{link_key}",
        headers={"User-Agent": BROWSER, "Referer": referrer},
        follow_redirects=False,
    )
    assert response.status_code == 302
    [event] = clicks(session)
    assert event.referrer == referrer[:2048]


def test_unknown_key_gets_a_friendly_page(project: Project) -> None:
    response = project.client.get("/l/<script>", headers={"User-Agent": BROWSER})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "doesn" in response.text and "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_archived_links_keep_redirecting(project: Project, session: Session, link_key: str) -> None:
    [item] = project.client.get("/api/v1/links", headers=project.headers).json()["items"]
    project.client.delete(f"/api/v1/links/{item['id']}", headers=project.headers)
    response = project.client.get(
        f"/l/{link_key}", headers={"User-Agent": BROWSER}, follow_redirects=False
    )
    assert response.status_code == 302


def test_click_ids_are_16_characters_of_the_id_alphabet_each_as_likely() -> None:
    ids = [new_click_id() for _ in range(6_200)]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("clk_") and len(i) == 20 for i in ids)
    counts = Counter(ch for i in ids for ch in i[4:])
    assert set(counts) == set(ALPHABET)  # every character, and only those
    expected = len(ids) * 16 / len(ALPHABET)  # 1,600 each
    assert all(abs(n - expected) < 0.2 * expected for n in counts.values())
