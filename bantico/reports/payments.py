"""Reading payments back with their attribution: filtered lists, and one payment with its
refunds, disputes and explanation (for the payments API and the dashboard)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bantico.attribution.explain import explain
from bantico.attribution.models import Attribution
from bantico.kit.errors import NotFound
from bantico.kit.money import format_amount
from bantico.kit.search import contains
from bantico.payments import rules, schemas
from bantico.payments.models import Dispute, Payment, Refund


def money(amount: int | None, currency: str | None) -> schemas.Money | None:
    if amount is None or not currency:
        return None
    return schemas.Money(
        amount=amount, currency=currency, formatted=format_amount(amount, currency)
    )


def _refunds_by_payment(
    session: Session, project_id: str, payment_ids: list[str]
) -> dict[str, list[Refund]]:
    found: dict[str, list[Refund]] = defaultdict(list)
    if payment_ids:
        for refund in session.execute(
            select(Refund)
            .where(Refund.project_id == project_id, Refund.provider_payment_id.in_(payment_ids))
            .order_by(Refund.created_at, Refund.id)
        ).scalars():
            found[refund.provider_payment_id].append(refund)
    return found


def _attribution(found: Attribution | None) -> schemas.AttributionOut | None:
    if found is None:
        return None
    return schemas.AttributionOut(
        method=found.method,
        confidence=found.confidence,
        link_id=found.link_id,
        campaign_id=found.campaign_id,
        source=found.source,
        medium=found.medium,
        content=found.content,
        lead_id=found.lead_id,
        visitor_id=found.visitor_id,
        warnings=list(found.warnings or []),
    )


def _out(
    payment: Payment, refunds: list[Refund], attribution: Attribution | None
) -> schemas.PaymentOut:
    done = [r for r in refunds if r.status == "succeeded" and r.amount is not None]
    refunded = sum(r.amount or 0 for r in done)
    return schemas.PaymentOut(
        payment_id=payment.provider_payment_id,
        provider=payment.provider,
        mode=payment.mode,
        status=payment.status,
        total=money(payment.total_amount, payment.currency)
        or schemas.Money(amount=payment.total_amount, currency=payment.currency, formatted=""),
        settlement=money(payment.settlement_amount, payment.settlement_currency),
        tax=payment.tax,
        refunded=money(refunded, done[0].currency or payment.currency) if done else None,
        disputed=money(payment.disputed_amount, payment.currency)
        if payment.disputed_amount
        else None,
        net=_net(payment),
        customer=schemas.Customer(
            id=payment.customer_id, email=payment.customer_email, name=payment.customer_name
        ),
        subscription_id=payment.subscription_id,
        checkout_session_id=payment.checkout_session_id,
        charge_type=payment.charge_type,
        metadata=payment.payment_metadata or {},
        counts_as_revenue=payment.counts_as_revenue,
        excluded_reason=payment.excluded_reason,
        created_at=payment.created_at,
        received_via=payment.received_via,
        attribution=_attribution(attribution),
    )


def _net(payment: Payment) -> schemas.Money | None:
    if not payment.counts_as_revenue:
        return None
    settled = payment.settlement_amount
    currency = payment.settlement_currency
    if settled is None or currency is None:
        settled, currency = payment.total_amount, payment.currency
    return money(settled - (payment.refunded_settlement or 0), currency)


PAYMENT_SORTS = ("date", "amount")


def list_payments(
    session: Session,
    project_id: str,
    *,
    mode: str,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: int | None,
    attributed: bool | None = None,
    link_id: str | None = None,
    q: str = "",
    sort: str = "date",
    order: str = "desc",
    cursor_amount: int | None = None,
) -> schemas.PaymentList:
    """Newest first (by default); `link_id` keeps the payments attributed to that link; `q`
    those whose id, customer email or attributed campaign contains it (any case, no
    wildcards). `sort="date"` orders by arrival (the row id: the cursor is the last id seen);
    `sort="amount"` by the total amount, then the id (the cursor is `amount_id`, passed as
    `cursor_amount` and `cursor`). `order` is asc or desc."""
    if sort not in PAYMENT_SORTS or order not in ("asc", "desc"):
        raise ValueError("sort must be date or amount, order asc or desc")
    query = (
        select(Payment, Attribution)
        .outerjoin(Attribution, Attribution.payment_id == Payment.id)
        .where(Payment.project_id == project_id, Payment.mode == mode)
    )
    if attributed is True:
        query = query.where(Attribution.method != "none")
    elif attributed is False:
        query = query.where(or_(Attribution.method == "none", Attribution.method.is_(None)))
    if link_id is not None:
        query = query.where(Attribution.link_id == link_id)
    if since is not None:
        query = query.where(Payment.created_at >= since)
    if until is not None:
        query = query.where(Payment.created_at < until)
    q = q.strip()
    if q:
        columns = (Payment.provider_payment_id, Payment.customer_email, Attribution.campaign_id)
        query = query.where(or_(*(contains(column, q) for column in columns)))
    descending = order == "desc"
    if cursor is not None:
        after_id = Payment.id < cursor if descending else Payment.id > cursor
        if sort == "amount" and cursor_amount is not None:
            beyond = (
                Payment.total_amount < cursor_amount
                if descending
                else Payment.total_amount > cursor_amount
            )
            query = query.where(or_(beyond, and_(Payment.total_amount == cursor_amount, after_id)))
        else:
            query = query.where(after_id)
    keys = [Payment.total_amount, Payment.id] if sort == "amount" else [Payment.id]
    query = query.order_by(*(key.desc() if descending else key.asc() for key in keys))
    rows = list(session.execute(query.limit(limit + 1)).all())
    page = rows[:limit]
    refunds = _refunds_by_payment(session, project_id, [p.provider_payment_id for p, _ in page])
    next_cursor = None
    if len(rows) > limit:
        last = page[-1][0]
        next_cursor = f"{last.total_amount}_{last.id}" if sort == "amount" else str(last.id)
    return schemas.PaymentList(
        items=[_out(p, refunds.get(p.provider_payment_id, []), a) for p, a in page],
        next_cursor=next_cursor,
    )


def get_payment(session: Session, project_id: str, payment_id: str) -> schemas.PaymentDetail:
    payment = session.execute(
        select(Payment).where(
            Payment.project_id == project_id, Payment.provider_payment_id == payment_id
        )
    ).scalar_one_or_none()
    if payment is None:
        raise NotFound(f"no payment {payment_id} in this project")
    refunds = _refunds_by_payment(session, project_id, [payment_id]).get(payment_id, [])
    disputes = (
        session.execute(
            select(Dispute).where(
                Dispute.project_id == project_id, Dispute.provider_payment_id == payment_id
            )
        )
        .scalars()
        .all()
    )
    attribution = session.get(Attribution, payment.id)
    base = _out(payment, refunds, attribution)
    counted = dict(
        zip(
            [r.id for r in refunds if r.status == "succeeded"],
            rules.refund_amounts(payment.total_amount, refunds),
            strict=True,
        )
    )
    return schemas.PaymentDetail(
        **base.model_dump(),
        explanation=explain(payment, attribution) + money_lines(payment, refunds, disputes),
        trace=list(attribution.trace or []) if attribution else [],
        refunds=[
            schemas.RefundOut(
                refund_id=r.provider_refund_id,
                status=r.status,
                amount=money(r.amount, r.currency),
                counted=money(counted.get(r.id), r.currency or payment.currency),
                is_partial=r.is_partial,
                reason=r.reason,
                created_at=r.created_at,
            )
            for r in refunds
        ],
        disputes=[
            schemas.DisputeOut(
                dispute_id=d.provider_dispute_id,
                status=d.status,
                stage=d.stage,
                amount=money(d.amount, d.currency),
                subtracted=d.subtracted,
                rule=rules.dispute_rule(d.status).words,
                created_at=d.created_at,
            )
            for d in disputes
        ],
        raw=payment.raw,
    )


def money_lines(payment: Payment, refunds: list[Refund], disputes: Sequence[Dispute]) -> list[str]:
    """The revenue rules that applied to this payment, in words."""
    lines = []
    counted = iter(rules.refund_amounts(payment.total_amount, refunds))
    for refund in refunds:
        if refund.status != "succeeded":
            lines.append(
                f"Refund {refund.provider_refund_id} is {refund.status}: not taken out of "
                "revenue unless it succeeds."
            )
            continue
        amount = next(counted)
        currency = refund.currency or payment.currency
        if amount is None:
            lines.append(
                f"Refund {refund.provider_refund_id} is partial and Dodo sent no amount: it is "
                "read from Dodo by id and counts once its amount is known."
            )
        elif refund.amount is None:
            lines.append(
                f"Refund {refund.provider_refund_id} is a full refund sent without an amount: it "
                f"takes what was left of the payment, {format_amount(amount, currency)}."
            )
        else:
            lines.append(
                f"Refund {refund.provider_refund_id} took {format_amount(amount, currency)} out "
                "of revenue."
            )
    for dispute in disputes:
        disputed = (
            format_amount(dispute.amount, dispute.currency or payment.currency)
            if dispute.amount is not None
            else "the whole payment"
        )
        rule = rules.dispute_rule(dispute.status).words
        line = f"Dispute {dispute.provider_dispute_id} ({disputed}) is {rule}."
        if dispute.subtracted and rules.is_rdr(dispute.raw):
            line += (
                " It was resolved by Visa RDR, which refunds the cardholder: the amount is "
                "taken only once, with any refund."
            )
        lines.append(line)
    if payment.refunded_amount or payment.disputed_amount:
        kept = payment.total_amount - min(
            payment.total_amount, payment.refunded_amount + payment.disputed_amount
        )
        lines.append(
            f"Revenue kept from this payment: {format_amount(kept, payment.currency)} of "
            f"{format_amount(payment.total_amount, payment.currency)}."
        )
    return lines
