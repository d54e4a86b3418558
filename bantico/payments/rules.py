"""What counts as revenue, and what refunds and disputes take back of it (docs/dodo.md §7).

Statuses only move forward: a report read earlier (a poll racing a webhook, a delivery retried
late) never takes a payment, refund or dispute back to a status it has left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

FINAL_PAYMENT_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
FINAL_REFUND_STATUSES = frozenset({"succeeded", "failed"})
OPEN_DISPUTE_STATUSES = frozenset({"dispute_opened", "dispute_challenged"})
DISPUTE_STAGES = ("pre_dispute", "dispute", "pre_arbitration")


@dataclass(frozen=True)
class DisputeRule:
    subtracts: bool
    words: str


# What each dispute status means for the merchant's money, from Dodo's dispute webhook guide.
DISPUTE_RULES = {
    "dispute_opened": DisputeRule(
        False, "open: shown here, not taken out of revenue until it is decided"
    ),
    "dispute_challenged": DisputeRule(
        False,
        "challenged (the merchant answered it): not taken out of revenue until it is decided",
    ),
    "dispute_won": DisputeRule(False, "won: the merchant keeps the funds"),
    "dispute_cancelled": DisputeRule(
        False, "cancelled by the cardholder: the merchant keeps the funds"
    ),
    "dispute_lost": DisputeRule(True, "lost: the disputed amount is taken out of revenue"),
    "dispute_accepted": DisputeRule(
        True,
        "accepted: the funds went back to the cardholder, so the disputed amount is taken "
        "out of revenue",
    ),
    "dispute_expired": DisputeRule(
        True,
        "expired unanswered, which resolves it against the merchant: the disputed amount is "
        "taken out of revenue",
    ),
}


def dispute_rule(status: str) -> DisputeRule:
    return DISPUTE_RULES.get(
        status,
        DisputeRule(False, f"in status {status!r}, which Bantico does not know: not taken out"),
    )


class Countable(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def is_update_payment_method(self) -> bool | None: ...
    @property
    def total_amount(self) -> int: ...


def revenue_exclusion(payment: Countable) -> str | None:
    """Why a payment is not revenue (docs/product.md §2), or None when it is."""
    if payment.status != "succeeded":
        return f"status is {payment.status}"
    if payment.is_update_payment_method:
        return "only updates the payment method"
    if payment.total_amount <= 0:
        return "zero amount (e.g. a free trial)"
    return None


def payment_status(stored: str | None, reported: str) -> str:
    if stored in FINAL_PAYMENT_STATUSES and reported not in FINAL_PAYMENT_STATUSES:
        return stored
    return reported


def refund_status(stored: str | None, reported: str) -> str:
    if stored in FINAL_REFUND_STATUSES and reported not in FINAL_REFUND_STATUSES:
        return stored
    return reported


def _dispute_rank(stage: str | None, status: str | None) -> tuple[int, int]:
    stage_rank = DISPUTE_STAGES.index(stage) if stage in DISPUTE_STAGES else -1
    return stage_rank, 0 if status in OPEN_DISPUTE_STATUSES else 1


def dispute_moves(
    stored_stage: str | None, stored_status: str | None, stage: str | None, status: str
) -> bool:
    """Whether a reported dispute state is not older than the stored one: a later stage always
    is; within a stage, a decided status is not undone by an open one."""
    if stored_status is None:
        return True
    old = _dispute_rank(stored_stage, stored_status)
    new = _dispute_rank(stage if stage is not None else stored_stage, status)
    return new >= old


class RefundLike(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def amount(self) -> int | None: ...
    @property
    def is_partial(self) -> bool: ...


def refund_amounts(total: int, refunds: Iterable[RefundLike]) -> list[int | None]:
    """What each succeeded refund took, in order: its amount; for a full refund Dodo sent without
    an amount, what the others left of the payment; None for a partial one without an amount
    (it is read from Dodo by id)."""
    done = [r for r in refunds if r.status == "succeeded"]
    known = sum(r.amount for r in done if r.amount is not None)
    amounts: list[int | None] = []
    for refund in done:
        if refund.amount is not None:
            amounts.append(refund.amount)
        elif not refund.is_partial:
            amounts.append(max(0, total - known))
        else:
            amounts.append(None)
    return amounts


def is_rdr(raw: dict[str, object] | None) -> bool:
    """Resolved by Visa's Rapid Dispute Resolution: the cardholder was refunded automatically,
    so a refund of the same money may be reported too (docs/dodo.md §7)."""
    return bool((raw or {}).get("is_resolved_by_rdr"))


def taken_back(refunded: int, disputed: int, disputed_by_rdr: int, total: int) -> int:
    """What refunds and subtracting disputes took, at most the payment: an RDR dispute's amount
    counts only beyond what refunds already took, so the same money is never taken twice."""
    return min(total, refunded + disputed + max(0, disputed_by_rdr - refunded))
