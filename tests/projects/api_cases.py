"""The isolation walk's API cases: every route outside the dashboard, called with the viewer's
secret key (the loader's endpoints with its token, the webhook receiver with its Dodo secret).

Routes that take an id get the viewer's (answered) and the other project's (answered as an id
that does not exist). The writes run after every read, in this order; the last one disconnects
the viewer's Dodo integration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.integrations.dodo import support
from tests.projects.scene import SHARED_CUSTOMER, SHARED_PAYMENT, Scene, Shop
from tests.projects.walk import Call, Cases, Send, dates, their

DIMENSIONS = ("link", "campaign", "source", "medium", "content", "lead")


def api_send(scene: Scene, client: TestClient) -> Send:
    def send(call: Call) -> Response:
        options = dict(call.options)
        headers = {**scene.viewer.project.headers, **options.pop("headers", {})}
        return client.request(call.method, call.url, headers=headers, json=call.json, **options)

    return send


def plain(path: str, method: str = "GET", status: int = 200) -> Callable[[Scene], list[Call]]:
    return lambda s: [Call(method, path, status)]


# Links


def links(s: Scene) -> list[Call]:
    return [
        Call("GET", "/api/v1/links", shows=(s.viewer.key("main"),)),
        Call("GET", "/api/v1/links?includeArchived=true", shows=(s.viewer.key("archived"),)),
        *(
            Call("GET", f"/api/v1/links?{query}", shows=(s.viewer.key("main"),))
            for query in (
                f"q={s.viewer.key('main')}",
                "sort=clicks",
                "sort=key&order=desc&includeArchived=true",
                "sort=created&order=asc&limit=500",
            )
        ),
        Call("GET", "/api/v1/links?limit=1&offset=1"),
        Call("GET", f"/api/v1/links?q={s.other.key('main')}", sends=(s.other.key("main"),)),
    ]


def link(s: Scene) -> list[Call]:
    mine, theirs = s.viewer.links, s.other.links
    return [
        *(Call("GET", f"/api/v1/links/{mine[role]}") for role in ("main", "archived")),
        *(
            Call("GET", f"/api/v1/links/{theirs[role]}", 404, **their("link", theirs[role]))
            for role in ("main", "archived", "xref")
        ),
    ]


def create_link(s: Scene) -> list[Call]:
    """A new link, and one with the other's key (keys are global: 409, nothing else said)."""
    url, taken = f"https://{s.viewer.text('new')}.example/", s.other.key("main")
    return [
        Call("POST", "/api/v1/links", 201, json={"destinationUrl": url}),
        Call(
            "POST", "/api/v1/links", 409, json={"destinationUrl": url, "key": taken}, sends=(taken,)
        ),
    ]


def update_link(s: Scene) -> list[Call]:
    theirs, taken = s.other.links["main"], s.other.key("main")
    mine = f"/api/v1/links/{s.viewer.links['main']}"
    return [
        Call(
            "PATCH", f"/api/v1/links/{theirs}", 404, json={"source": "x"}, **their("link", theirs)
        ),
        Call("PATCH", mine, 409, json={"key": taken}, sends=(taken,)),
    ]


def archive_link(s: Scene) -> list[Call]:
    theirs = s.other.links["main"]
    return [
        Call("DELETE", f"/api/v1/links/{theirs}", 404, **their("link", theirs)),
        Call("DELETE", f"/api/v1/links/{s.viewer.links['archived']}"),
    ]


# Payments and reports


def payments(s: Scene) -> list[Call]:
    queries = ["?mode=test", "?attributed=true", "?attributed=false", "?limit=1", f"?{dates()}"]
    shown = (f"pay_{s.viewer.marker}_meta", SHARED_PAYMENT)
    return [
        Call("GET", "/api/v1/payments", shows=shown),
        *(Call("GET", f"/api/v1/payments{query}") for query in queries),
    ]


def payment(s: Scene) -> list[Call]:
    """Each of the viewer's payments: the one both hold with the viewer's refund only; those of
    the customer only the other identified, unattributed, as if the other did not exist."""
    own_refund = (f"ref_{s.viewer.marker}_shared",)
    alone = ('"method":"none"', f"No visitor was identified with {SHARED_CUSTOMER['email']}.")
    return [
        *(Call("GET", f"/api/v1/payments/{pay}", shows=(pay, *alone)) for pay in s.viewer.alone),
        *(Call("GET", f"/api/v1/payments/{pay}", shows=(pay,)) for pay in s.viewer.payments),
        Call("GET", f"/api/v1/payments/{SHARED_PAYMENT}", shows=own_refund),
        *(
            Call("GET", f"/api/v1/payments/{pay}", 404, **their("payment", pay))
            for pay in s.other.payments
        ),
    ]


def attribution(s: Scene) -> list[Call]:
    base = "/api/v1/reports/attribution"
    return [
        Call("GET", f"{base}?groupBy=link", shows=(s.viewer.links["main"],)),
        *(
            Call("GET", f"{base}?groupBy={g}", shows=(s.viewer.text(f"main-{g}"),))
            for g in DIMENSIONS[1:]
        ),
        *(Call("GET", f"{base}?groupBy={g}&format=csv") for g in ("link", "campaign", "lead")),
        Call("GET", f"{base}?groupBy=link&model=first_touch&mode=test"),
        Call("GET", f"{base}?groupBy=source&model=linear&{dates()}"),
    ]


def scoped(s: Scene, base: str) -> list[Call]:
    """A report overall, for the viewer's link and campaign, and for the other's."""
    theirs, campaign, span = s.other.links["main"], s.other.text("main-campaign"), dates()
    return [
        Call("GET", base),
        Call("GET", f"{base}?format=csv&mode=test&{span}"),
        Call("GET", f"{base}?linkId={s.viewer.links['main']}"),
        Call("GET", f"{base}?campaignId={s.viewer.text('main-campaign')}&format=csv"),
        Call("GET", f"{base}?linkId={theirs}&{span}", **their("link", theirs)),
        Call("GET", f"{base}?campaignId={campaign}&{span}", **their("campaign", campaign)),
        Call("GET", f"{base}?campaignId={campaign}&format=csv&{span}", **their("c", campaign)),
    ]


def timeseries(s: Scene) -> list[Call]:
    base = "/api/v1/reports/timeseries"
    return [*scoped(s, base), Call("GET", f"{base}?interval=week&model=linear")]


def funnel(s: Scene) -> list[Call]:
    return [*scoped(s, "/api/v1/reports/funnel"), Call("GET", "/api/v1/reports/funnel?mode=test")]


def summary(s: Scene) -> list[Call]:
    base = "/api/v1/reports/summary"
    return [Call("GET", base), Call("GET", f"{base}?mode=test&model=linear&{dates()}")]


def live(s: Scene) -> list[Call]:
    """Now: the viewer's clicks (by link key) and payments, live and test apart."""
    base, mine = "/api/v1/reports/live", s.viewer.marker
    return [
        Call("GET", base, shows=(s.viewer.key("main"), f"pay_{mine}_meta")),
        Call("GET", f"{base}?mode=test&limit=100", shows=(f"pay_{mine}_test",)),
        Call("GET", f"{base}?limit=1"),
    ]


def diagnostics(s: Scene) -> list[Call]:
    # The viewer's own events named the other's `xref` link: the checklist says so.
    named = (s.other.links["xref"],)
    return [Call("GET", f"/api/v1/diagnostics{q}", shows=named) for q in ("", "?mode=test")]


def inbox(s: Scene) -> list[Call]:
    base, mine = "/api/v1/integrations/dodo/inbox", s.viewer.marker
    return [
        Call("GET", base, shows=(f"msg_{mine}_bad",)),
        Call("GET", f"{base}?all=true", shows=(f"msg_{mine}_meta",)),
        Call("GET", f"{base}?limit=1"),
    ]


# Writes that name the other project's ids


def events(s: Scene) -> list[Call]:
    """A server event naming the other's visitor and link: recorded for the viewer only."""
    other = s.other
    context = {"linkId": other.links["main"], "campaignId": "x"}
    body = {"name": "signup_started", "visitorId": other.visitor(1), "context": context}
    return [Call("POST", "/api/v1/events", 202, json=body, sends=(other.links["main"],))]


def identify(s: Scene) -> list[Call]:
    body = {"visitorId": s.other.visitor(1), "email": s.other.email("buyer")}
    return [Call("POST", "/api/v1/identify", 202, json=body)]


def collect(s: Scene) -> list[Call]:
    """The loader, with the viewer's token and the other's visitor, session, link and click."""
    other = s.other
    click, theirs = other.clicks[0], other.links["main"]
    body = {
        "token": s.viewer.project.token,
        "name": "page_view",
        "visitorId": other.visitor(1),
        "sessionId": f"s_{other.marker}_session1",
        "clickId": click,
        "linkId": theirs,
        "context": {"linkId": theirs},
    }
    return [Call("POST", "/api/collect", json=body, sends=(click, theirs))]


def signed(shop: Shop, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Call options: a webhook delivery signed with `shop`'s Dodo secret."""
    body = support.envelope(event_type, data)
    return {"content": body, "headers": support.headers(shop.webhook_secret, body, event_type)}


def lost_dispute(viewer: Shop, payment_id: str) -> dict[str, Any]:
    return {
        "payload_type": "Dispute",
        "dispute_id": f"dsp_cross_{viewer.marker}",
        "payment_id": payment_id,
        "business_id": support.BUSINESS,
        "created_at": datetime.now(UTC).isoformat(),
        "currency": "USD",
        "amount": "49.00",
        "dispute_stage": "dispute",
        "dispute_status": "dispute_lost",
    }


def webhooks(s: Scene) -> list[Call]:
    """The viewer's signature on the other's URL is refused; the viewer's refund and dispute
    naming the other's payment stay the viewer's (its payment is not refunded)."""
    viewer, other = s.viewer, s.other
    theirs = other.payments[0]
    to_them, to_me = f"/webhooks/dodo/{other.project.id}", f"/webhooks/dodo/{viewer.project.id}"
    paid = signed(viewer, "payment.succeeded", support.payment(theirs, metadata={}))
    refund = support.refund(f"ref_cross_{viewer.marker}", theirs, amount=4900)
    return [
        Call("POST", to_them, 401, options=paid, sends=(other.project.id, theirs)),
        Call("POST", to_me, options=signed(viewer, "refund.succeeded", refund), sends=(theirs,)),
        Call(
            "POST",
            to_me,
            options=signed(viewer, "dispute.lost", lost_dispute(viewer, theirs)),
            sends=(theirs,),
        ),
    ]


DODO = "/api/v1/integrations/dodo"
API_CASES: Cases = {
    ("GET", "/openapi.json"): plain("/openapi.json"),
    ("GET", "/docs"): plain("/docs"),
    ("GET", "/docs/oauth2-redirect"): plain("/docs/oauth2-redirect"),
    ("GET", "/redoc"): plain("/redoc"),
    ("GET", "/healthz"): plain("/healthz"),
    ("GET", "/bantico.js"): plain("/bantico.js"),
    ("OPTIONS", "/api/config"): plain("/api/config", "OPTIONS", 204),
    ("OPTIONS", "/api/collect"): plain("/api/collect", "OPTIONS", 204),
    ("GET", "/api/config"): lambda s: [Call("GET", f"/api/config?token={s.viewer.project.token}")],
    ("GET", "/api/v1/links"): links,
    ("GET", "/api/v1/links/{link_id}"): link,
    ("GET", "/api/v1/payments"): payments,
    ("GET", "/api/v1/payments/{payment_id}"): payment,
    ("GET", "/api/v1/reports/attribution"): attribution,
    ("GET", "/api/v1/reports/timeseries"): timeseries,
    ("GET", "/api/v1/reports/funnel"): funnel,
    ("GET", "/api/v1/reports/summary"): summary,
    ("GET", "/api/v1/reports/live"): live,
    ("GET", "/api/v1/diagnostics"): diagnostics,
    ("GET", DODO): plain(DODO),
    ("GET", f"{DODO}/inbox"): inbox,
    ("POST", "/api/collect"): collect,
    ("POST", "/webhooks/dodo/{project_id}"): webhooks,
    ("POST", "/api/v1/events"): events,
    ("POST", "/api/v1/identify"): identify,
    ("POST", "/api/v1/links"): create_link,
    ("PATCH", "/api/v1/links/{link_id}"): update_link,
    ("DELETE", "/api/v1/links/{link_id}"): archive_link,
    ("POST", f"{DODO}/inbox/replay"): plain(f"{DODO}/inbox/replay", "POST"),
    # Refused before Dodo is asked anything: an empty key, a date that is none.
    ("PUT", DODO): lambda s: [Call("PUT", DODO, 422, json={"apiKey": ""})],
    ("POST", f"{DODO}/sync"): lambda s: [Call("POST", f"{DODO}/sync", 422, json={"since": "x"})],
    # Last: the viewer's connection goes (it has no endpoint id: Dodo is not asked).
    ("DELETE", DODO): plain(DODO, "DELETE"),
}
API_EXEMPT = {
    ("GET", "/l/{key}"): "a public short link: whoever holds it follows it, for its own project",
    ("HEAD", "/l/{key}"): "the same as GET /l/{key}",
}
