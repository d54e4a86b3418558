"""The one revenue query every report groups its own way: the payments that count as revenue
in the filters' range and mode, weighted by their credit under the filters' model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from bantico.attribution.models import Credit
from bantico.payments.models import Payment
from bantico.reports.filters import Filters


def credited_revenue(filters: Filters, key: ColumnElement[Any]) -> Select[Any]:
    """Rows of (key, currency, credited payments, credited gross, credited refunds), by `key`
    and settlement currency (amounts in its smallest unit, before fees)."""
    currency = func.coalesce(Payment.settlement_currency, Payment.currency)
    settled = func.coalesce(Payment.settlement_amount, Payment.total_amount)
    return (
        select(
            key,
            currency,
            func.sum(Credit.weight),
            func.sum(Credit.weight * settled),
            func.sum(Credit.weight * Payment.refunded_settlement),
        )
        .join(Payment, Payment.id == Credit.payment_id)
        .where(
            Credit.project_id == filters.project_id,
            Credit.model == filters.model,
            Payment.mode == filters.mode,
            Payment.counts_as_revenue.is_(True),
            Payment.created_at >= filters.since,
            Payment.created_at < filters.until,
        )
        .group_by(key, currency)
    )
