"""Headers, the strict CSP (so nothing inline), escaping and the static files."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bantico.dashboard.render import FLASH_COOKIE, html_attrs
from bantico.dashboard.security import CONTENT_SECURITY_POLICY
from tests.conftest import Project
from tests.dashboard.conftest import csrf_of, post_form
from tests.factories import make_project

STATIC = Path(__file__).parents[2] / "bantico" / "dashboard" / "static"
TEMPLATES = STATIC.parent / "templates"


def pages(project: Project) -> list[str]:
    base = f"/app/p/{project.id}"
    return [
        f"{base}/{name}"
        for name in ("reports", "links", "payments", "troubleshooting", "install", "settings")
    ] + [
        f"{base}/settings/integrations/dodo",
        f"{base}/settings/integrations/dodo/sync",
        "/app/account",
        "/app/projects/new",
        "/app/p/unknown/install",
    ]


def assert_nothing_inline(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html, "inline <style>"
    assert not re.search(r"\sstyle=", html), "style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "javascript:" not in html


def test_every_dashboard_response_has_the_strict_csp(
    signed_in: TestClient, project: Project
) -> None:
    for url in pages(project):
        response = signed_in.get(url)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert_nothing_inline(response.text)
    for url in ("/", "/app", "/login"):
        response = signed_in.get(url, follow_redirects=False)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    css = signed_in.get("/app/static/dashboard.css")
    assert css.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "no-store" not in css.headers.get("cache-control", "")
    # The JSON API and the loader keep their own headers.
    assert "content-security-policy" not in signed_in.get("/healthz").headers
    assert "content-security-policy" not in signed_in.get("/bantico.js").headers


def test_logged_out_pages_have_nothing_inline(client: TestClient) -> None:
    for url in ("/", "/setup?token=x"):
        assert_nothing_inline(client.get(url).text)


def test_templates_have_nothing_inline() -> None:
    for template in TEMPLATES.glob("*.html"):
        assert_nothing_inline(template.read_text())


def test_names_are_escaped(signed_in: TestClient, session: Session) -> None:
    evil = make_project(session, name='<script>alert("x")</script>').project
    session.commit()
    page = signed_in.get(f"/app/p/{evil.id}/settings").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    response = post_form(
        signed_in,
        f"/app/p/{evil.id}/settings",
        name='"><img src=x>',
        pricing_path="/pricing",
        attribution_window_days="30",
        gpc="honour",
    )
    assert response.status_code == 303
    assert '"><img src=x>' not in signed_in.get(f"/app/p/{evil.id}/settings").text


def test_static_files_and_vendored_htmx(client: TestClient) -> None:
    for name, kind in (
        ("dashboard.css", "text/css"),
        ("dashboard.js", "javascript"),
        ("vendor/htmx-2.0.11.min.js", "javascript"),
    ):
        response = client.get(f"/app/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert (STATIC / "vendor" / "htmx-LICENSE.txt").read_text().startswith("Zero-Clause BSD")
    assert client.get("/app/static/../templates/base.html").status_code == 404


def test_boolean_attributes() -> None:
    rendered = html_attrs({"required": True, "autofocus": False, "min": 1, "title": '"><b>'})
    assert rendered == ' required min="1" title="&#34;&gt;&lt;b&gt;"'


def test_a_form_with_a_nul_character_is_refused_by_field(
    signed_in: TestClient, project: Project
) -> None:
    """Form bodies bypass the strict JSON check: a NUL typed into a field was stored on SQLite
    and a 500 on PostgreSQL."""
    page = f"/app/p/{project.id}/links"
    response = post_form(
        signed_in, page, destination_url="https://shop.example/", campaign_id="a\x00b"
    )
    assert response.status_code == 400, response.text
    assert "form field &#39;campaign_id&#39; contains a NUL character" in response.text
    assert "text/html" in response.headers["content-type"]
    assert "shop.example" not in signed_in.get(page).text


def test_a_form_with_too_many_fields_is_refused(signed_in: TestClient, project: Project) -> None:
    page = f"/app/p/{project.id}/links"
    token = csrf_of(signed_in.get(page))
    fields = {f"f{n}": "x" for n in range(250)}
    response = signed_in.post(page, data={"csrf_token": token, **fields})
    assert response.status_code == 400
    assert "more than 200 fields" in response.text


def test_only_flash_messages_signed_by_this_server_are_shown(
    signed_in: TestClient, project: Project
) -> None:
    page = f"/app/p/{project.id}/links"
    settings = signed_in.app.state.settings  # type: ignore[attr-defined]
    ours = URLSafeTimedSerializer(settings.secret_key, salt="bantico.dashboard.flash")
    theirs = URLSafeTimedSerializer("someone-else's-key", salt="bantico.dashboard.flash")
    message = [["error", "Planted by a neighbour"]]
    for forged in (theirs.dumps(message), ours.dumps(message) + "x", "not-even-signed"):
        signed_in.cookies.set(FLASH_COOKIE, forged)
        assert "Planted by a neighbour" not in signed_in.get(page).text
    signed_in.cookies.set(FLASH_COOKIE, ours.dumps(message))
    assert "Planted by a neighbour" in signed_in.get(page).text
