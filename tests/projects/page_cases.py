"""The isolation walk's dashboard cases: every page, signed in with the viewer's project
selected (in the URL, `/app/p/{project_id}/…`).

Pages that take a link, payment or key id get the viewer's (shown) and the other project's
(404, as an id that does not exist). Forms are sent as a browser would, and a redirect's
landing page is checked too. Every admin sees every project, so the switcher names the other
project (its id and name): those are not looked for.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from bantico.projects.models import SecretKey
from tests.dashboard.conftest import csrf_of
from tests.projects.scene import SHARED_PAYMENT, Scene, Shop
from tests.projects.walk import Call, Cases, Forbidden, Send, dates, their


def page_send(client: TestClient, forbidden: Forbidden) -> Send:
    """GET as is; POST as the page's form, then the page a redirect lands on (checked too, and
    its flash message shown, so that the next page shows none)."""
    token: list[str] = []

    def send(call: Call) -> Response:
        if call.method == "GET":
            return client.get(call.url, follow_redirects=False)
        if not token:
            token.append(csrf_of(client.get("/app/account")))
        data = {"csrf_token": token[0], **(call.form or {})}
        response = client.post(call.url, data=data, follow_redirects=False)
        if response.status_code == 303:
            landing = client.get(response.headers["location"])
            assert landing.status_code == 200, f"{call.url} landed on {landing.url}"
            leaked = forbidden.found_in(landing, call.echoes)
            assert not leaked, f"{landing.url}, after {call.url}, shows {leaked}"
        return response

    return send


def page(s: Scene, *parts: str) -> str:
    return "/".join([f"/app/p/{s.viewer.project.id}", *parts])


def pages(*paths: str, status: int = 200) -> Callable[[Scene], list[Call]]:
    """Fixed pages; `{p}` stands for the selected project's prefix."""
    return lambda s: [Call("GET", path.format(p=page(s)), status) for path in paths]


# Links


def links(s: Scene) -> list[Call]:
    shown = (s.viewer.key("main"),)
    queries = (
        "",
        "?archived=1",
        "?mode=test",
        "?days=7",
        f"?q={s.viewer.key('main')}&archived=1",
        "?sort=clicks",
        "?sort=revenue&order=asc&archived=1",
        "?sort=key&order=desc&page=2",
    )
    return [Call("GET", page(s, "links") + query, shows=shown) for query in queries]


def link_pages(suffix: str, *queries: str, roles: int = 1) -> Callable[[Scene], list[Call]]:
    """One link's page (or its edit form, QR code) for the first `roles` of main, archived and
    xref: the viewer's, and the other's (404)."""

    def calls(s: Scene) -> list[Call]:
        chosen = ("main", "archived", "xref")[:roles]
        mine = [
            Call("GET", page(s, "links", s.viewer.links[role]) + suffix + query)
            for role in chosen
            for query in ("", *queries)
        ]
        theirs = [
            Call("GET", page(s, "links", link) + suffix, 404, **their("link", link))
            for link in (s.other.links[role] for role in chosen)
        ]
        return mine + theirs

    return calls


# Payments and reports


def payments(s: Scene) -> list[Call]:
    queries = ["?mode=test", "?attributed=yes", "?attributed=no", f"?{dates()}"]
    queries += ["?sort=amount", "?sort=date&order=asc&q=pay", "?sort=amount&cursor=1_1"]
    queries += [f"?q={s.viewer.marker}", f"?q={SHARED_PAYMENT}"]
    theirs, shown = s.other.links["main"], (f"pay_{s.viewer.marker}_meta", SHARED_PAYMENT)
    return [
        Call("GET", page(s, "payments"), shows=shown),
        *(Call("GET", page(s, "payments") + query) for query in queries),
        Call("GET", page(s, "payments") + f"?link={s.viewer.links['main']}"),
        Call("GET", page(s, "payments") + f"?link={theirs}", 422, **their("link", theirs)),
    ]


def payment(s: Scene) -> list[Call]:
    own_refund = (f"ref_{s.viewer.marker}_shared",)
    return [
        *(Call("GET", page(s, "payments", pay), shows=(pay,)) for pay in s.viewer.payments),
        Call("GET", page(s, "payments", SHARED_PAYMENT), shows=own_refund),
        *(
            Call("GET", page(s, "payments", pay), 404, **their("payment", pay))
            for pay in s.other.payments
        ),
    ]


CUSTOM = "range=custom&from=2026-01-01&to=2026-12-31"
# The dashboard's reports share their queries with the API's (walked by every dimension).
REPORT_QUERIES = (
    "",
    "?groupBy=link",
    "?groupBy=lead&model=linear",
    "?mode=test&model=first_touch&groupBy=source",
    f"?{CUSTOM}&groupBy=content&interval=week",
)
CSV_QUERIES = ("", f"?{CUSTOM}&groupBy=lead&model=linear&mode=test")


def reports(
    suffix: str, queries: tuple[str, ...], labelled: bool = True
) -> Callable[[Scene], list[Call]]:
    """The report page (or a CSV) with each query; the first, by campaign, shows the viewer's
    campaign when `labelled` (the time series and the funnel only count)."""

    def calls(s: Scene) -> list[Call]:
        first, *rest = (page(s, "reports") + suffix + query for query in queries)
        shown = (s.viewer.text("main-campaign"),) if labelled else ()
        return [Call("GET", first, shows=shown), *(Call("GET", url) for url in rest)]

    return calls


def live(s: Scene) -> list[Call]:
    """The Now card alone (htmx polls it): the viewer's payments, live and test apart."""
    mine = s.viewer.marker
    return [
        Call("GET", page(s, "reports", "live"), shows=(f"pay_{mine}_meta",)),
        Call("GET", page(s, "reports", "live") + "?mode=test", shows=(f"pay_{mine}_test",)),
    ]


# Forms


def create_link(s: Scene) -> list[Call]:
    """A new link, and one with the other's key: refused in words, nothing else said."""
    url = "https://new.example/"
    return [
        Call("POST", page(s, "links"), 303, form={"destination_url": url}),
        Call(
            "POST",
            page(s, "links"),
            422,
            form={"destination_url": url, "key": s.other.key("main")},
            sends=(s.other.key("main"),),
        ),
    ]


def link_forms(action: str, **form: str) -> Callable[[Scene], list[Call]]:
    def calls(s: Scene) -> list[Call]:
        theirs, mine = s.other.links["main"], s.viewer.links["archived"]
        return [
            Call("POST", page(s, "links", theirs, action), 404, form=form, **their("link", theirs)),
            Call("POST", page(s, "links", mine, action), 303, form=form),
        ]

    return calls


def key_id(s: Scene, shop: Shop, *, revoked: bool) -> str:
    revoked_at = SecretKey.revoked_at
    query = select(SecretKey.id).where(
        SecretKey.project_id == shop.project.id,
        revoked_at.is_not(None) if revoked else revoked_at.is_(None),
    )
    return s.session.execute(query).scalars().first() or ""


def revoke(s: Scene) -> list[Call]:
    theirs, mine = key_id(s, s.other, revoked=False), key_id(s, s.viewer, revoked=True)
    return [
        Call("POST", page(s, "settings/keys", theirs, "revoke"), 404, **their("key", theirs)),
        Call("POST", page(s, "settings/keys", mine, "revoke"), 303),
    ]


def form(path: str, status: int, **fields: str) -> Callable[[Scene], list[Call]]:
    return lambda s: [Call("POST", path.format(p=page(s)), status, form=fields)]


def dodo_pages(suffix: str) -> Callable[[Scene], list[Call]]:
    """The Dodo settings page (with the inbox) or its sync status partial."""

    def calls(s: Scene) -> list[Call]:
        shown: tuple[str, ...] = (s.viewer.text("sync-failure"),)
        if not suffix:
            shown += (f"msg_{s.viewer.marker}_bad",)
        return [Call("GET", page(s, "settings/integrations/dodo") + suffix, shows=shown)]

    return calls


SETTINGS = {
    "name": "Renamed",
    "pricing_path": "/p",
    "attribution_window_days": "9",
    "gpc": "ignore",
}
P = "/app/p/{project_id}"
DODO = "{p}/settings/integrations/dodo"
PAGE_CASES: Cases = {
    ("GET", "/"): pages("/", status=303),
    ("GET", "/app"): pages("/app", status=303),
    ("GET", "/app/switch"): lambda s: [
        Call("GET", f"/app/switch?project={s.viewer.project.id}&section=links", 303)
    ],
    ("GET", P): pages("{p}", status=303),
    ("GET", "/setup"): pages("/setup", status=409),
    ("GET", "/login"): pages("/login", status=303),
    ("GET", "/app/account"): pages("/app/account"),
    ("GET", "/app/projects/new"): pages("/app/projects/new"),
    ("GET", f"{P}/install"): pages("{p}/install"),
    ("GET", f"{P}/settings"): pages("{p}/settings"),
    ("GET", f"{P}/settings/integrations/dodo"): dodo_pages(""),
    ("GET", f"{P}/settings/integrations/dodo/sync"): dodo_pages("/sync"),
    ("GET", f"{P}/links"): links,
    ("GET", f"{P}/links/{{link_id}}"): link_pages("", "?mode=test&days=7", roles=3),
    ("GET", f"{P}/links/{{link_id}}/edit"): link_pages("/edit"),
    ("GET", f"{P}/links/{{link_id}}/qr.svg"): link_pages("/qr.svg"),
    ("GET", f"{P}/links/{{link_id}}/qr.png"): link_pages("/qr.png"),
    ("GET", f"{P}/payments"): payments,
    ("GET", f"{P}/payments/{{payment_id}}"): payment,
    ("GET", f"{P}/reports"): reports("", REPORT_QUERIES),
    ("GET", f"{P}/reports/attribution.csv"): reports("/attribution.csv", CSV_QUERIES),
    ("GET", f"{P}/reports/timeseries.csv"): reports("/timeseries.csv", CSV_QUERIES, False),
    ("GET", f"{P}/reports/funnel.csv"): reports("/funnel.csv", CSV_QUERIES, False),
    ("GET", f"{P}/reports/live"): live,
    ("GET", f"{P}/troubleshooting"): pages("{p}/troubleshooting", "{p}/troubleshooting?mode=test"),
    ("POST", f"{P}/links"): create_link,
    ("POST", f"{P}/links/{{link_id}}/edit"): link_forms(
        "edit", destination_url="https://e.example/"
    ),
    ("POST", f"{P}/links/{{link_id}}/archive"): link_forms("archive"),
    ("POST", f"{P}/settings"): form("{p}/settings", 303, **SETTINGS),
    ("POST", f"{P}/settings/keys"): form("{p}/settings/keys", 201),
    ("POST", f"{P}/settings/keys/{{key_id}}/revoke"): revoke,
    ("POST", f"{P}/settings/integrations/dodo"): form(DODO, 422, api_key=""),
    ("POST", f"{P}/settings/integrations/dodo/replay"): form(DODO + "/replay", 303),
    ("POST", f"{P}/settings/integrations/dodo/disconnect"): form(DODO + "/disconnect", 303),
    # After the disconnect: says to connect first, starts no pass against Dodo.
    ("POST", f"{P}/settings/integrations/dodo/sync"): form(DODO + "/sync", 303),
    ("POST", "/app/projects/new"): form("/app/projects/new", 201, name="Third shop"),
}
ACCOUNT = "the admin's own account: no project's rows"
PAGE_EXEMPT = {
    ("POST", "/setup"): "the first run only: refused once an admin exists",
    ("POST", "/login"): ACCOUNT,
    ("POST", "/logout"): ACCOUNT,
    ("POST", "/app/account/password"): ACCOUNT,
    ("POST", "/app/account/sessions/revoke"): ACCOUNT,
}
