"""Log in and out, wrong passwords, throttling, CSRF and the session cookie."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bantico.accounts.limits import EMAIL_FAILURES, AddressLimiter
from bantico.accounts.models import LoginSession
from bantico.app import create_app
from bantico.config import Settings
from bantico.dashboard.security import ANON_COOKIE, SESSION_COOKIE
from tests.conftest import Project
from tests.dashboard.conftest import EMAIL, PASSWORD, Admin, csrf_of, log_in, post_form


def session_cookie_header(response: object) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return next(h for h in headers if h.startswith(f"{SESSION_COOKIE}="))


def test_pages_need_a_login(client: TestClient, admin: Admin, project: Project) -> None:
    response = client.get(f"/app/p/{project.id}/settings?tab=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/app/p/{project.id}/settings%3Ftab%3D1"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    htmx = client.get(f"/app/p/{project.id}/settings", headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"].startswith("/login?next=")


def test_log_in_goes_to_next_and_log_out_revokes(
    client: TestClient, admin: Admin, project: Project, session: Session
) -> None:
    page = client.get(f"/login?next=/app/p/{project.id}/install")
    token = csrf_of(page)
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": " Founder@Example.com ",
            "password": PASSWORD,
            "next": f"/app/p/{project.id}/install",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/p/{project.id}/install"
    assert client.get("/app", follow_redirects=False).headers["location"] == (
        f"/app/p/{project.id}/reports"
    )
    raw = client.cookies[SESSION_COOKIE]
    stored = session.execute(select(LoginSession.token_hash)).scalar_one()
    assert raw not in stored
    out = post_form(client, f"/app/p/{project.id}/install", "/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert "You are logged out." in client.get("/login").text
    client.cookies.set(SESSION_COOKIE, raw)  # the old cookie no longer works
    assert client.get("/app", follow_redirects=False).headers["location"].startswith("/login")
    session.expire_all()
    assert session.execute(select(LoginSession.revoked_at)).scalar_one() is not None


def test_next_never_leaves_the_site(client: TestClient, admin: Admin, project: Project) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = post_form(client, "/login", email=EMAIL, password=PASSWORD, next=target)
        assert response.headers["location"] == "/app"


def test_wrong_password_is_refused_in_plain_words(client: TestClient, admin: Admin) -> None:
    response = log_in(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert 'value="founder@example.com"' in response.text
    assert SESSION_COOKIE not in client.cookies
    unknown = log_in(client, email="nobody@example.com")
    assert unknown.status_code == 401 and "Wrong email or password." in unknown.text


def test_five_failures_per_email_then_refused(client: TestClient, admin: Admin) -> None:
    for _ in range(EMAIL_FAILURES):
        assert log_in(client, password="not the password").status_code == 401
    response = log_in(client)  # even the right password, for now
    assert response.status_code == 429
    assert "Too many failed attempts for this email. Try again in 15 minutes." in response.text
    assert int(response.headers["retry-after"]) > 0


def test_failures_per_address_are_limited_in_memory(
    client: TestClient, app: FastAPI, admin: Admin
) -> None:
    app.state.login_limiter = AddressLimiter(limit=3)
    for n in range(3):
        assert log_in(client, email=f"user{n}@example.com").status_code == 401
    response = log_in(client)
    assert response.status_code == 429
    assert "Too many failed logins from your network" in response.text


def test_forms_without_the_csrf_token_are_rejected(signed_in: TestClient, project: Project) -> None:
    url = f"/app/p/{project.id}/settings"
    fields = {
        "name": "Hijacked",
        "pricing_path": "/pricing",
        "attribution_window_days": "30",
        "gpc": "honour",
    }
    for token in (None, "", "forged", csrf_of(TestClient(signed_in.app).get("/login"))):
        data = fields if token is None else {**fields, "csrf_token": token}
        response = signed_in.post(url, data=data)
        assert response.status_code == 403
        assert "This form has expired" in response.text
        assert "text/html" in response.headers["content-type"]
    assert "Hijacked" not in signed_in.get(url).text
    ok = post_form(signed_in, url, **fields)
    assert ok.status_code == 303
    header = signed_in.post(url, data=fields, headers={"X-CSRF-Token": csrf_of(signed_in.get(url))})
    assert header.status_code == 200  # the header (htmx sends it) counts as well


def test_the_login_form_itself_is_protected(client: TestClient, admin: Admin) -> None:
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_session_cookie_flags(client: TestClient, admin: Admin) -> None:
    plain = session_cookie_header(log_in(client))
    assert "HttpOnly" in plain and "SameSite=lax" in plain and "Path=/" in plain
    assert "Secure" not in plain
    # Behind a TLS-terminating proxy: plain HTTP to Bantico, `X-Forwarded-Proto: https`.
    behind_proxy = TestClient(client.app, headers={"X-Forwarded-Proto": "https"})
    page = behind_proxy.get("/login")
    assert "Secure" in page.headers["set-cookie"]  # the anonymous CSRF cookie too
    # The cookie jar keeps Secure cookies for https; hand it back as the browser would.
    behind_proxy.cookies.set(ANON_COOKIE, page.cookies[ANON_COOKIE])
    response = behind_proxy.post(
        "/login",
        data={"csrf_token": csrf_of(page), "email": EMAIL, "password": PASSWORD},
        follow_redirects=False,
    )
    secure = session_cookie_header(response)
    assert "Secure" in secure and "HttpOnly" in secure and "SameSite=lax" in secure
    https = TestClient(client.app, base_url="https://testserver")
    assert "Secure" in session_cookie_header(log_in(https))


def test_account_page_logs_out_other_sessions(
    signed_in: TestClient, admin: Admin, project: Project
) -> None:
    other = TestClient(signed_in.app)
    assert log_in(other).status_code == 303
    page = signed_in.get("/app/account")
    assert "1 other browser" in page.text
    response = post_form(signed_in, "/app/account", "/app/account/sessions/revoke")
    assert response.status_code == 303
    assert "Logged out 1 other session." in signed_in.get("/app/account").text
    assert other.get("/app", follow_redirects=False).headers["location"].startswith("/login")


def test_change_password(signed_in: TestClient, admin: Admin) -> None:
    wrong = post_form(
        signed_in,
        "/app/account",
        "/app/account/password",
        current_password="nope",
        new_password="a new long password",
        new_password_confirm="a new long password",
    )
    assert wrong.status_code == 422 and "The current password is not right." in wrong.text
    short = post_form(
        signed_in,
        "/app/account",
        "/app/account/password",
        current_password=PASSWORD,
        new_password="short",
        new_password_confirm="short",
    )
    assert short.status_code == 422 and "Use at least 10 characters." in short.text
    done = post_form(
        signed_in,
        "/app/account",
        "/app/account/password",
        current_password=PASSWORD,
        new_password="a new long password",
        new_password_confirm="a new long password",
    )
    assert done.status_code == 303
    assert log_in(TestClient(signed_in.app), password="a new long password").status_code == 303


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    client: TestClient, admin: Admin, settings: Settings, engine: Engine
) -> None:
    """Without BANTICO_TRUSTED_PROXIES, X-Forwarded-For cannot make each attempt look new."""

    def attempt(through: TestClient, number: int) -> Response:
        token = csrf_of(through.get("/login"))
        return through.post(
            "/login",
            data={"csrf_token": token, "email": f"x{number}@example.com", "password": "nope"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
            follow_redirects=False,
        )

    client.app.state.login_limiter = AddressLimiter(limit=3)  # type: ignore[attr-defined]
    assert [attempt(client, n).status_code for n in range(4)] == [401, 401, 401, 429]

    trusting = settings.model_copy(update={"trusted_proxies": "testclient"})
    with TestClient(create_app(trusting, engine=engine)) as behind_proxy:
        behind_proxy.app.state.login_limiter = AddressLimiter(limit=3)  # type: ignore[attr-defined]
        # Each address the trusted proxy names is its own client.
        assert {attempt(behind_proxy, n).status_code for n in range(10, 16)} == {401}
