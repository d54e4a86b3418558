"""The Links list as a table that scales (issue 12, item 5): searched on the server (no `%` or `_`
wildcards), sorted by created, clicks, net revenue or key, a page of 50 at a time, with the
search and sort kept in every URL; and one link's clicks per day, referrers and revenue per
click."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.attribution.journeys import BROWSER, pay
from tests.conftest import Project
from tests.factories import make_link, make_project

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def links_url(project: Project, *parts: str) -> str:
    return "/".join([f"/app/p/{project.id}/links", *parts])


def keys_shown(page: str) -> list[str]:
    """The keys of the list's rows, in order."""
    return re.findall(r'<code id="short-[^"]+">https://bnt\.example/l/([^<]+)</code>', page)


def click(project: Project, key: str, referrer: str | None = None, agent: str = BROWSER) -> None:
    headers = {"User-Agent": agent, **({"Referer": referrer} if referrer else {})}
    response = project.client.get(f"/l/{key}", headers=headers, follow_redirects=False)
    assert response.status_code in (302, 307), response.text


def hrefs(page: str, rel: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'<a href="([^"]+)" rel="{rel}">', page)]


def test_search_matches_key_destination_campaign_and_source_in_any_case(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    make_link(session, project_id=project.id, key="Spring-DM", campaign_id=None, source=None)
    make_link(
        session,
        project_id=project.id,
        key="pricing",
        destination_url="https://shop.example/PRICING-page",
        campaign_id=None,
        source=None,
    )
    make_link(session, project_id=project.id, key="camp", campaign_id="Autumn26", source=None)
    make_link(session, project_id=project.id, key="src", campaign_id=None, source="NewsLetter")
    session.commit()

    def found(q: str) -> list[str]:
        page = signed_in.get(links_url(project), params={"q": q})
        assert page.status_code == 200
        return sorted(keys_shown(page.text))

    assert found("spring-dm") == ["Spring-DM"]
    assert found("pricing-PAGE") == ["pricing"]
    assert found("autumn") == ["camp"]
    assert found("newsletter") == ["src"]
    assert found("  newsletter  ") == ["src"]  # spaces around are dropped
    assert found("") == ["Spring-DM", "camp", "pricing", "src"]

    nothing = signed_in.get(links_url(project), params={"q": "no-such-thing"}).text
    assert keys_shown(nothing) == []
    assert "No links match “no-such-thing”." in nothing
    assert 'value="no-such-thing"' in nothing


def test_percent_and_underscore_are_not_wildcards(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    make_link(session, project_id=project.id, key="a_b", campaign_id="50%off", source=None)
    make_link(session, project_id=project.id, key="axb", campaign_id="50xoff", source=None)
    make_link(session, project_id=project.id, key="plain", campaign_id="x", source=None)
    session.commit()

    def found(q: str) -> list[str]:
        return sorted(keys_shown(signed_in.get(links_url(project), params={"q": q}).text))

    assert found("a_b") == ["a_b"]
    assert found("_") == ["a_b"]
    assert found("%") == ["a_b"]
    assert found("50%o") == ["a_b"]
    assert found("%%") == []
    assert found("\\") == []
    # The API searches the same way.
    body = project.client.get("/api/v1/links", headers=project.headers, params={"q": "_"}).json()
    assert [item["key"] for item in body["items"]] == ["a_b"]


def test_another_projects_links_are_never_listed(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    other = make_project(session, name="Other").project
    make_link(session, project_id=other.id, key="theirs-spring", campaign_id="spring26")
    make_link(session, project_id=project.id, key="mine-spring", campaign_id="spring26")
    session.commit()
    for params in ({"q": "spring"}, {"sort": "clicks"}, {"sort": "revenue"}, {"sort": "key"}):
        page = signed_in.get(links_url(project), params=params).text
        assert keys_shown(page) == ["mine-spring"]
        assert "theirs-spring" not in page
    body = project.client.get("/api/v1/links", headers=project.headers, params={"q": "spring"})
    assert [item["key"] for item in body.json()["items"]] == ["mine-spring"]
    assert body.json()["total"] == 1


def test_sort_by_key_clicks_revenue_and_created(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    quiet = make_link(session, project_id=project.id, key="b-quiet")
    busy = make_link(session, project_id=project.id, key="C-busy")
    rich = make_link(session, project_id=project.id, key="a-rich")
    session.commit()
    for _ in range(3):
        click(project, "C-busy")
    click(project, "a-rich")
    for _ in range(5):
        click(project, "b-quiet", agent=BOT)  # bots count nowhere
    pay(session, project, "pay_rich", metadata={"linkId": rich.id}, settlement_amount=9000)
    pay(session, project, "pay_busy", metadata={"linkId": busy.id}, settlement_amount=100)
    # A test-mode payment does not count in live mode.
    pay(session, project, "pay_t", mode="test", metadata={"linkId": quiet.id}, total_amount=99999)

    def order(**params: str) -> list[str]:
        page = signed_in.get(links_url(project), params=params)
        assert page.status_code == 200
        return keys_shown(page.text)

    assert order() == ["a-rich", "C-busy", "b-quiet"]  # newest first
    assert order(sort="created", order="asc") == ["b-quiet", "C-busy", "a-rich"]
    assert order(sort="key") == ["a-rich", "b-quiet", "C-busy"]  # any case
    assert order(sort="key", order="desc") == ["C-busy", "b-quiet", "a-rich"]
    assert order(sort="clicks") == ["C-busy", "a-rich", "b-quiet"]
    assert order(sort="clicks", order="asc") == ["b-quiet", "a-rich", "C-busy"]
    assert order(sort="revenue") == ["a-rich", "C-busy", "b-quiet"]
    assert order(sort="revenue", mode="test") == ["b-quiet", "a-rich", "C-busy"]
    assert order(sort="revenue", order="asc") == ["b-quiet", "C-busy", "a-rich"]
    # Unknown values fall back to the default order.
    assert order(sort="nope", order="sideways") == ["a-rich", "C-busy", "b-quiet"]

    page = signed_in.get(links_url(project), params={"sort": "clicks"}).text
    assert '<th scope="col" class="num" aria-sort="descending"><a class="sort-link"' in page
    assert page.count('aria-sort="none"') == 3
    # Its header turns the order around; another header starts in its natural order.
    clicks_header = re.search(r'aria-sort="descending"><a class="sort-link" href="([^"]+)"', page)
    assert clicks_header is not None
    assert parse_qs(urlsplit(html.unescape(clicks_header[1])).query) == {
        "sort": ["clicks"],
        "order": ["asc"],
        "mode": ["live"],
        "days": ["90"],
    }
    assert "sort=key&amp;order=asc" in page


def test_pages_of_fifty_keep_the_search_and_sort(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    for number in range(51):
        make_link(session, project_id=project.id, key=f"k{number:03d}", campaign_id="camp_x")
    make_link(session, project_id=project.id, key="other", campaign_id="elsewhere")
    session.commit()

    first = signed_in.get(links_url(project), params={"q": "CAMP_X", "sort": "key"}).text
    assert keys_shown(first) == [f"k{n:03d}" for n in range(50)]
    assert "51 links match “CAMP_X”." in first
    assert "Showing 1 to 50, page 1 of 2." in first
    assert hrefs(first, "prev") == []
    [next_url] = hrefs(first, "next")
    assert parse_qs(urlsplit(next_url).query) == {
        "q": ["CAMP_X"],
        "sort": ["key"],
        "order": ["asc"],
        "page": ["2"],
        "mode": ["live"],
        "days": ["90"],
    }

    second = signed_in.get(next_url).text
    assert keys_shown(second) == ["k050"]
    assert "Showing 51 to 51, page 2 of 2." in second
    assert hrefs(second, "next") == []
    [previous] = hrefs(second, "prev")
    assert keys_shown(signed_in.get(previous).text) == keys_shown(first)

    # Past the end: the last page; nonsense: the first.
    beyond = signed_in.get(links_url(project), params={"q": "camp_x", "sort": "key", "page": 9})
    assert keys_shown(beyond.text) == ["k050"]
    for page in ("0", "-1", "x", "9999999999", "²", "\u0661"):
        odd = signed_in.get(links_url(project), params={"q": "camp_x", "sort": "key", "page": page})
        assert odd.status_code == 200
        assert keys_shown(odd.text)[0] == "k000"
    odd_days = signed_in.get(links_url(project), params={"days": "²"})
    assert odd_days.status_code == 200 and "<strong>last 90 days</strong>" in odd_days.text

    # Exactly one page: no pager.
    one = signed_in.get(links_url(project), params={"q": "k04"}).text
    assert len(keys_shown(one)) == 10 and 'aria-label="Pages of links"' not in one


def test_each_key_links_to_its_page(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="dm")
    session.commit()
    page = signed_in.get(links_url(project)).text
    assert (
        f'<a href="{links_url(project, link.id)}"><code id="short-{link.id}">'
        "https://bnt.example/l/dm</code></a>"
    ) in page


def test_link_page_clicks_referrers_and_revenue_per_click(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="dm")
    make_link(session, project_id=project.id, key="other")
    session.commit()
    click(project, "dm", "https://www.linkedin.com/feed/")
    click(project, "dm", "https://linkedin.com/in/someone?x=1")
    click(project, "dm", "https://news.ycombinator.com/item?id=1")
    click(project, "dm")
    click(project, "dm", "https://bots.example/", agent=BOT)
    click(project, "other", "https://other.example/")
    # 46.12 + 10.00 USD settled, 4 human clicks: 56.12 / 4 = 14.03 USD per click.
    pay(session, project, "pay_1", metadata={"linkId": link.id})
    pay(session, project, "pay_2", metadata={"linkId": link.id}, settlement_amount=1000)

    page = signed_in.get(links_url(project, link.id)).text
    assert '<dd id="per-click">14.03 USD</dd>' in page
    referrers = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>',
        page.split('id="referrers-title"')[1],
    )
    assert referrers == [
        ("linkedin.com", "2"),
        ("news.ycombinator.com", "1"),
        ("Direct or unknown", "1"),
    ]
    assert "bots.example" not in page and "other.example" not in page
    assert "4 in all" in page
    assert page.count('class="link-chart-bar"') == 30
    # Today's bar is the tallest; its day reads 4 clicks.
    assert re.search(r'height="100"><title>\d{4}-\d\d-\d\d: 4 clicks</title>', page)


def test_revenue_per_click_without_clicks_or_revenue(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    link = make_link(session, project_id=project.id, key="dm")
    session.commit()
    page = signed_in.get(links_url(project, link.id)).text
    assert '<dd id="per-click">— (no clicks)</dd>' in page
    assert "No human clicks in the last 90 days." in page
    click(project, "dm")
    page = signed_in.get(links_url(project, link.id)).text
    assert '<dd id="per-click">no revenue yet</dd>' in page


# The API


def api_keys(project: Project, **params: object) -> list[str]:
    response = project.client.get("/api/v1/links", headers=project.headers, params=params)
    assert response.status_code == 200, response.text
    return [item["key"] for item in response.json()["items"]]


def test_api_search_sort_and_pages(project: Project, session: Session) -> None:
    for key in ("b", "a", "c"):
        make_link(session, project_id=project.id, key=key, campaign_id=f"camp-{key}")
    session.commit()
    click(project, "a")
    click(project, "a")
    click(project, "c")
    assert api_keys(project) == ["c", "a", "b"]
    assert api_keys(project, sort="key") == ["a", "b", "c"]
    assert api_keys(project, sort="key", order="desc") == ["c", "b", "a"]
    assert api_keys(project, sort="clicks") == ["a", "c", "b"]
    assert api_keys(project, sort="created", order="asc") == ["b", "a", "c"]
    assert api_keys(project, q="CAMP-A") == ["a"]
    assert api_keys(project, q="zzz") == []

    first = project.client.get(
        "/api/v1/links", headers=project.headers, params={"sort": "key", "limit": 2}
    ).json()
    assert [i["key"] for i in first["items"]] == ["a", "b"]
    assert first["total"] == 3 and first["nextOffset"] == 2
    last = project.client.get(
        "/api/v1/links", headers=project.headers, params={"sort": "key", "limit": 2, "offset": 2}
    ).json()
    assert [i["key"] for i in last["items"]] == ["c"]
    assert last["total"] == 3 and last["nextOffset"] is None
    beyond = api_keys(project, offset=10)
    assert beyond == []


def test_api_refuses_unknown_sort_order_and_bounds(project: Project) -> None:
    for params, name in (
        ({"sort": "revenue"}, "sort"),
        ({"sort": "label"}, "sort"),
        ({"order": "up"}, "order"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"q": "x" * 201}, "q"),
    ):
        response = project.client.get("/api/v1/links", headers=project.headers, params=params)
        assert response.status_code == 422, params
        assert name in response.text, response.text


def test_search_helper_escapes_wildcards() -> None:
    from bantico.kit.search import like_pattern

    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
