"""The resolution cascade (docs/product.md §1, step 7): payment metadata, then the context already
on the visitor or session, then identified user data. Every step says, in plain words, what it
tried and what it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.attribution import metadata
from bantico.attribution.models import Attribution
from bantico.kit.schemas import CONTEXT_FIELDS
from bantico.links.models import Campaign, Lead, Link
from bantico.payments.models import Payment, PaymentSubscription
from bantico.projects.models import Project
from bantico.tracking.models import Identity, Touch, Visitor, VisitSession
from bantico.tracking.schemas import normalise_email

Context = dict[str, str | None]
CAMEL = {
    "link_id": "linkId",
    "campaign_id": "campaignId",
    "source": "source",
    "medium": "medium",
    "content": "content",
    "lead_id": "leadId",
}
LABEL = {
    "link_id": "link",
    "campaign_id": "campaign",
    "source": "source",
    "medium": "medium",
    "content": "content",
    "lead_id": "lead",
}


@dataclass(frozen=True)
class Touchpoint:
    at: datetime
    kind: str
    context: Context


@dataclass
class Outcome:
    method: str = "none"
    confidence: float = 0.0
    context: Context = field(default_factory=lambda: dict.fromkeys(CONTEXT_FIELDS))
    visitor_id: str | None = None
    touches: list[Touchpoint] = field(default_factory=list)
    inherited_from: int | None = None  # the payment whose credit a renewal or customer reuses
    warnings: list[str] = field(default_factory=list)
    steps: list[dict[str, str]] = field(default_factory=list)
    read: metadata.Fields = field(default_factory=metadata.Fields)
    foreign_link_id: str | None = None  # metadata named another project's link: ignored

    def step(self, name: str, result: str, detail: str) -> None:
        self.steps.append({"step": name, "result": result, "detail": detail})


def describe(context: Context) -> str:
    parts = [f"{LABEL[k]} {v}" for k, v in context.items() if v]
    return ", ".join(parts) if parts else "no context"


def _touch_context(touch: Touch) -> Context:
    return {name: getattr(touch, name) for name in CONTEXT_FIELDS}


def _touches(
    session: Session, project_id: str, visitor_ids: list[str], start: datetime, end: datetime
) -> list[Touchpoint]:
    if not visitor_ids:
        return []
    rows = session.execute(
        select(Touch)
        .where(
            Touch.project_id == project_id,
            Touch.visitor_id.in_(visitor_ids),
            Touch.occurred_at >= start,
            Touch.occurred_at <= end,
        )
        .order_by(Touch.occurred_at, Touch.id)
    ).scalars()
    return [Touchpoint(t.occurred_at, t.kind, _touch_context(t)) for t in rows]


def _last(touches: list[Touchpoint]) -> Touchpoint:
    """The newest touch, preferring links and UTM tags to referrals, as the loader does."""
    return next((t for t in reversed(touches) if t.kind != "referral"), touches[-1])


def _exists(session: Session, model: Any, project_id: str, key: str) -> bool:
    return (
        session.execute(
            select(model.id).where(model.project_id == project_id, model.key == key)
        ).first()
        is not None
    )


def _from_metadata(session: Session, project: Project, payment: Payment, out: Outcome) -> None:
    read = out.read = metadata.read(payment.payment_metadata)
    context = read.context()
    link = session.get(Link, read.link_id) if read.link_id else None
    if link is not None and link.project_id != project.id:
        # Never joined: another project's link says nothing about this project's payment.
        out.foreign_link_id, context["link_id"], link = read.link_id, None, None
        out.warnings.append(
            f"metadata linkId '{read.link_id}' names a link of another project: ignored"
        )
    if not any(context.values()):
        detail = "The Dodo payment metadata carries no attribution fields."
        if out.foreign_link_id:
            detail = "The Dodo payment metadata names only a link of another project (ignored)."
        out.step("metadata", "empty", detail)
        return
    filled = []
    if context["link_id"]:
        if link is None:
            out.warnings.append(f"metadata linkId '{read.link_id}' names no known link")
        else:
            for name in CONTEXT_FIELDS[1:]:
                from_link = getattr(link, name)
                if context[name] is None and from_link:
                    context[name] = from_link
                    filled.append(LABEL[name])
                elif context[name] and from_link and context[name] != from_link:
                    out.warnings.append(
                        f"metadata {CAMEL[name]} '{context[name]}' differs from the link's "
                        f"{LABEL[name]} '{from_link}'"
                    )
    if read.campaign_id and not _exists(session, Campaign, project.id, read.campaign_id):
        out.warnings.append(f"metadata campaignId '{read.campaign_id}' names no known campaign")
    if read.lead_id and not _exists(session, Lead, project.id, read.lead_id):
        out.warnings.append(f"metadata leadId '{read.lead_id}' names no known lead")
    out.method, out.context = "metadata", context
    out.confidence = 0.95 if link is not None else 0.8
    detail = f"The Dodo payment metadata names {describe(context)}."
    if filled:
        detail += f" The link filled in the {', '.join(filled)} the metadata left empty."
    out.step("metadata", "found", detail)


def _visitor_from_metadata(session: Session, project_id: str, out: Outcome) -> str | None:
    read = out.read
    if read.visitor_id and session.get(Visitor, (project_id, read.visitor_id)) is not None:
        return read.visitor_id
    if read.session_id:
        visit = session.get(VisitSession, (project_id, read.session_id))
        if visit is not None:
            return visit.visitor_id
    if read.visitor_id or read.session_id:
        out.warnings.append("metadata visitorId/sessionId names no visitor Bantico has seen")
    return None


def _earlier(session: Session, payment: Payment, *conditions: Any) -> Attribution | None:
    return session.execute(
        select(Attribution)
        .join(Payment, Payment.id == Attribution.payment_id)
        .where(
            Payment.project_id == payment.project_id,
            Payment.mode == payment.mode,
            Payment.id != payment.id,
            Payment.created_at <= payment.created_at,
            Attribution.method != "none",
            *conditions,
        )
        .order_by(Payment.created_at, Payment.id)
        .limit(1)
    ).scalar_one_or_none()


def _subscriptions(session: Session, payment: Payment) -> list[str]:
    found = session.execute(
        select(PaymentSubscription.subscription_id)
        .where(PaymentSubscription.payment_id == payment.id)
        .order_by(PaymentSubscription.subscription_id)
    ).scalars()
    return list(
        dict.fromkeys([*([payment.subscription_id] if payment.subscription_id else []), *found])
    )


def _inherit(out: Outcome, source: Attribution, confidence: float, detail: str) -> None:
    out.inherited_from, out.visitor_id = source.payment_id, source.visitor_id
    if out.method == "none":
        out.method, out.confidence = "session", round(source.confidence * confidence, 2)
        out.context = {name: getattr(source, name) for name in CONTEXT_FIELDS}
        out.step("session", "found", detail + f" It carries {describe(out.context)}.")


def _from_session(
    session: Session, project: Project, payment: Payment, out: Outcome, start: datetime
) -> None:
    visitor_id = _visitor_from_metadata(session, project.id, out)
    if visitor_id is not None:
        out.visitor_id = visitor_id
        out.touches = _touches(session, project.id, [visitor_id], start, payment.created_at)
        if out.method == "none" and out.touches:
            chosen = _last(out.touches)
            out.method, out.confidence, out.context = "session", 0.85, dict(chosen.context)
            out.step(
                "session",
                "found",
                f"The metadata names visitor {visitor_id}, whose "
                f"{chosen.kind} touch on {chosen.at:%Y-%m-%d} carries "
                f"{describe(chosen.context)}.",
            )
        elif out.method == "none":
            out.step(
                "session",
                "empty",
                f"Visitor {visitor_id} picked up no context in the "
                f"{project.attribution_window_days}-day window before the payment.",
            )
        return
    subscriptions = _subscriptions(session, payment)
    if subscriptions and payment.charge_type != "new":
        paid_for_them = select(PaymentSubscription.payment_id).where(
            PaymentSubscription.project_id == payment.project_id,
            PaymentSubscription.subscription_id.in_(subscriptions),
        )
        first = _earlier(session, payment, Payment.id.in_(paid_for_them))
        if first is not None:
            _inherit(
                out,
                first,
                1.0,
                f"This is a renewal of subscription {', '.join(subscriptions)}; it inherits the "
                "attribution of the subscription's first payment.",
            )
            return
    if payment.customer_id:
        earlier = _earlier(session, payment, Payment.customer_id == payment.customer_id)
        if earlier is not None:
            _inherit(
                out,
                earlier,
                0.8,
                f"Dodo customer {payment.customer_id} paid before, and "
                "that payment was attributed.",
            )
            return
    if out.method == "none":
        out.step(
            "session",
            "empty",
            "No visitor, session, earlier payment of this customer or "
            "first payment of this subscription leads to a visitor.",
        )


def _from_identity(
    session: Session, project: Project, payment: Payment, out: Outcome, start: datetime
) -> None:
    email = normalise_email(payment.customer_email)
    if email is None:
        out.step("identify", "empty", "The payment has no customer email to match.")
        return
    visitors = sorted(
        {
            v
            for v in session.execute(
                select(Identity.visitor_id).where(
                    Identity.project_id == project.id,
                    Identity.email == email,
                    Identity.visitor_id.is_not(None),
                )
            ).scalars()
            if v
        }
    )
    if not visitors:
        out.step("identify", "empty", f"No visitor was identified with {email}.")
        return
    touches = _touches(session, project.id, visitors, start, payment.created_at)
    if not touches:
        out.step(
            "identify",
            "empty",
            f"{email} was identified on {len(visitors)} visitor(s), "
            "none with a touch in the window before the payment.",
        )
        return
    chosen = _last(touches)
    out.method, out.touches, out.context = "identify", touches, dict(chosen.context)
    out.confidence = 0.6 if len(visitors) == 1 else 0.5
    out.visitor_id = visitors[0] if len(visitors) == 1 else None
    out.step(
        "identify",
        "found",
        f"{email} was identified on {len(visitors)} visitor(s); the "
        f"latest touch ({chosen.kind}, {chosen.at:%Y-%m-%d}) carries "
        f"{describe(chosen.context)}.",
    )


def resolve(session: Session, project: Project, payment: Payment) -> Outcome:
    out = Outcome()
    start = payment.created_at - timedelta(days=project.attribution_window_days)
    _from_metadata(session, project, payment, out)
    _from_session(session, project, payment, out, start)
    if out.method == "none":
        _from_identity(session, project, payment, out, start)
    if out.method == "none":
        out.step(
            "result",
            "none",
            "Nothing connects this payment to a link, campaign or "
            "visitor, so it counts as unattributed revenue.",
        )
    return out
