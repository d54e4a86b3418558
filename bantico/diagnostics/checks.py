"""The troubleshooting checklist, run against the project's own data. Each check answers pass,
warn or fail, says what it saw, and how to fix it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.attribution.models import Attribution
from bantico.config import Settings
from bantico.db import utcnow
from bantico.integrations.connections import default_mode
from bantico.integrations.dodo.connect import client_for
from bantico.integrations.dodo.models import DodoIntegration
from bantico.kit.errors import BanticoError
from bantico.kit.moments import moment, plural
from bantico.payments.models import Payment
from bantico.tracking.models import Event, ForeignId, Identity

RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    status: str  # pass, warn or fail
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class Context:
    session: Session
    settings: Settings
    project_id: str
    mode: str
    now: datetime
    probe: bool


def _integration(ctx: Context) -> DodoIntegration | None:
    return ctx.session.get(DodoIntegration, ctx.project_id)


def dodo_connected(ctx: Context) -> Check:
    title = "Dodo Payments is connected and its key works"
    integration = _integration(ctx)
    if integration is None:
        return Check(
            "dodo_connected",
            title,
            "fail",
            "Dodo Payments is not connected.",
            "Paste a Dodo API key in Integrations > Dodo Payments > Connect "
            "(or run `bantico dodo connect`).",
        )
    if ctx.probe:
        client = client_for(ctx.settings, integration, timeout=5.0, max_retries=0)
        try:
            result = client.probe()
        except BanticoError:
            result = "unverified"  # a GET never writes: the probe's failure is only reported
        finally:
            client.close()
        if result == "rejected":
            return Check(
                "dodo_connected",
                title,
                "fail",
                f"Dodo now rejects the {integration.mode} key ending "
                f"{integration.key_hint}: it was revoked or deleted.",
                "Create a new API key in Dodo and connect again.",
            )
        if result == "unverified":
            return Check(
                "dodo_connected",
                title,
                "warn",
                "Dodo did not answer just now.",
                "Try again in a minute; check Dodo's status page if it persists.",
            )
    if integration.last_sync_error:
        return Check(
            "dodo_connected",
            title,
            "warn",
            f"The last sync failed: {integration.last_sync_error}",
            "Run a sync now (`bantico dodo sync`); reconnect if the key changed.",
        )
    return Check(
        "dodo_connected",
        title,
        "pass",
        f"Connected in {integration.mode} mode with the key ending "
        f"{integration.key_hint}; last sync {moment(integration.last_sync_at, never='not yet')}.",
    )


def webhooks_arriving(ctx: Context) -> Check:
    title = "Webhooks from Dodo are arriving"
    integration = _integration(ctx)
    if integration is None:
        return Check(
            "webhooks",
            title,
            "fail",
            "Dodo Payments is not connected.",
            "Connect Dodo Payments first.",
        )
    if integration.webhook_state != "registered":
        return Check(
            "webhooks",
            title,
            "warn",
            f"Polling only: {integration.webhook_reason}",
            "Set BANTICO_PUBLIC_URL and use a key with write access, then reconnect.",
        )
    failures = integration.webhook_failures
    last = integration.last_webhook_at
    if failures and (last is None or (integration.last_webhook_failure_at or last) >= last):
        return Check(
            "webhooks",
            title,
            "fail",
            f"{plural(failures, 'delivery', 'deliveries')} failed the signature check; the "
            f"latest at {moment(integration.last_webhook_failure_at)}.",
            "The webhook secret changed (rotated in Dodo?): reconnect to fetch it.",
        )
    recent_payments = ctx.session.execute(
        select(func.count())
        .select_from(Payment)
        .where(
            Payment.project_id == ctx.project_id,
            Payment.mode == integration.mode,
            Payment.received_via == "sync",
            Payment.created_at >= ctx.now - timedelta(days=7),
        )
    ).scalar_one()
    if recent_payments:
        return Check(
            "webhooks",
            title,
            "warn",
            f"{recent_payments} payment(s) of the last 7 days arrived only by polling; "
            f"last webhook {last or 'never'}.",
            "Check the endpoint in Dodo's dashboard (Developer > Webhooks) is enabled "
            "and reachable from the internet.",
        )
    return Check("webhooks", title, "pass", f"Last webhook received {last or 'not yet'}.")


def _recent_attributions(ctx: Context) -> list[Attribution]:
    return list(
        ctx.session.execute(
            select(Attribution)
            .join(Payment, Payment.id == Attribution.payment_id)
            .where(
                Payment.project_id == ctx.project_id,
                Payment.mode == ctx.mode,
                Payment.counts_as_revenue.is_(True),
                Payment.created_at >= ctx.now - RECENT,
            )
        ).scalars()
    )


def metadata_share(ctx: Context) -> Check:
    title = "Checkouts send Bantico's metadata"
    recent = _recent_attributions(ctx)
    if not recent:
        return Check(
            "metadata",
            title,
            "warn",
            "No payments in the last 30 days to check.",
            "Make a test-mode purchase and check it here.",
        )
    carrying = sum(
        1
        for a in recent
        if a.trace and a.trace[-1]["steps"] and a.trace[-1]["steps"][0]["result"] == "found"
    )
    share = carrying / len(recent)
    detail = (
        f"{carrying} of {len(recent)} payments in the last 30 days ({share:.0%}) carry metadata."
    )
    fix = (
        "Pass bantico.context() from the browser to your server and into the Dodo checkout's "
        "metadata (see the Install page)."
    )
    status = "pass" if share >= 0.8 else "warn" if share >= 0.3 else "fail"
    return Check("metadata", title, status, detail, None if status == "pass" else fix)


def metadata_matches(ctx: Context) -> Check:
    title = "Metadata names known links, campaigns and leads"
    recent = _recent_attributions(ctx)
    if not recent:
        return Check(
            "metadata_matches",
            title,
            "warn",
            "Nothing to check yet: no payments in the last 30 days.",
            "Make a test-mode purchase and check it here.",
        )
    warned = [a for a in recent if a.warnings]
    if not warned:
        return Check(
            "metadata_matches",
            title,
            "pass",
            "Every recent payment's metadata matches what Bantico knows.",
        )
    examples = sorted({w for a in warned for w in a.warnings})[:5]
    return Check(
        "metadata_matches",
        title,
        "warn",
        f"{len(warned)} recent payment(s) have metadata problems, e.g. "
        + "; ".join(examples)
        + ".",
        "Send the values bantico.context() returns unchanged; create missing "
        "campaigns and leads through links.",
    )


def loader_seen(ctx: Context) -> Check:
    title = "The loader runs on your site"
    last = ctx.session.execute(
        select(func.max(Event.received_at)).where(
            Event.project_id == ctx.project_id, Event.name == "page_view"
        )
    ).scalar()
    if last is None:
        return Check(
            "loader",
            title,
            "fail",
            "No page view has ever been received.",
            "Add the install snippet to every page (after consent where needed) "
            "and open your site once.",
        )
    if last < ctx.now - timedelta(days=1):
        return Check(
            "loader",
            title,
            "warn",
            f"The last page view arrived {moment(last)}.",
            "Check the snippet is still on the site and that consent loads it.",
        )
    return Check("loader", title, "pass", f"Last page view {moment(last)}.")


def emails_identified(ctx: Context) -> Check:
    title = "Customers are identified before they pay"
    emails = [a.customer_email_key for a in _recent_attributions(ctx) if a.customer_email_key]
    if not emails:
        return Check("identify", title, "warn", "No recent payments with a customer email.")
    known = set(
        ctx.session.execute(
            select(Identity.email).where(
                Identity.project_id == ctx.project_id, Identity.email.in_(set(emails))
            )
        ).scalars()
    )
    missing = [e for e in emails if e not in known]
    if not missing:
        return Check("identify", title, "pass", "Every recent customer email was identified.")
    return Check(
        "identify",
        title,
        "warn",
        f"{len(missing)} of {len(emails)} recent payments come from emails never seen "
        "in identify().",
        "Call bantico.identify({id, email, name}) when people sign up or log in.",
    )


_FOREIGN_SENDERS = {"metadata linkId": "payment(s) carried"}


def foreign_ids(ctx: Context) -> Check:
    title = "Events and payments name only this project's links"
    rows = list(
        ctx.session.execute(select(ForeignId).where(ForeignId.project_id == ctx.project_id))
        .scalars()
        .all()
    )
    if not rows:
        return Check(
            "foreign_ids", title, "pass", "No event or payment named another project's link."
        )
    said = "; ".join(
        f"{r.count} {_FOREIGN_SENDERS.get(r.field, 'event(s) sent')} a {r.field} of another "
        f"project, last '{r.last_value}' on {moment(r.last_seen_at)}"
        for r in rows
    )
    return Check(
        "foreign_ids",
        title,
        "warn",
        f"{said}. Bantico ignored those ids: the events and payments were kept without them.",
        "Check that each site loads bantico.js with its own project's token, that links "
        "shared for this site were created in this project, and that checkouts put this "
        "project's bantico.context() into the payment metadata.",
    )


CHECKS: list[Callable[[Context], Check]] = [
    dodo_connected,
    webhooks_arriving,
    metadata_share,
    metadata_matches,
    loader_seen,
    emails_identified,
    foreign_ids,
]


def run(
    session: Session,
    settings: Settings,
    project_id: str,
    *,
    mode: str | None = None,
    probe: bool = True,
) -> dict[str, Any]:
    chosen = mode or default_mode(session, project_id)
    ctx = Context(session, settings, project_id, chosen, utcnow(), probe)
    checks = [check(ctx) for check in CHECKS]
    worst = (
        "fail"
        if any(c.status == "fail" for c in checks)
        else "warn"
        if any(c.status == "warn" for c in checks)
        else "pass"
    )
    return {"status": worst, "mode": chosen, "checks": [c.__dict__ for c in checks]}
