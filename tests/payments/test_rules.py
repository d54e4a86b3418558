"""Revenue rules: what every dispute outcome and refund takes back, statuses that only move
forward, and the words that say which rule applied (on the API's payment and its explanation)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.integrations.dodo import payloads
from bantico.payments import rules
from bantico.payments import service as payments
from bantico.payments.models import Payment
from tests.conftest import Project
from tests.integrations.dodo import support


def paid(session: Session, project: Project, **overrides: Any) -> Payment:
    data = support.payment("pay_r", **overrides)
    payment = payments.store_payment(session, project.id, payloads.payment(data, "test"), "sync")
    session.commit()
    return payment


def dispute(session: Session, project: Project, status: str, **overrides: Any) -> None:
    data = {
        "dispute_id": "dsp_r",
        "payment_id": "pay_r",
        "business_id": support.BUSINESS,
        "created_at": "2026-11-22T00:00:00Z",
        "currency": "USD",
        "amount": "4900",
        "dispute_stage": "dispute",
        "dispute_status": status,
        **overrides,
    }
    payments.store_dispute(session, project.id, payloads.dispute(data, "test"))
    session.commit()


def refund(session: Session, project: Project, refund_id: str, **overrides: Any) -> None:
    data = support.refund(refund_id, "pay_r", **overrides)
    payments.store_refund(session, project.id, payloads.refund(data, "test"))
    session.commit()


def stored(session: Session) -> Payment:
    session.expire_all()
    return session.execute(select(Payment)).scalar_one()


def detail(project: Project) -> dict[str, Any]:
    response = project.client.get("/api/v1/payments/pay_r", headers=project.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("status", "taken", "words"),
    [
        ("dispute_lost", 4900, "lost: the disputed amount is taken out of revenue"),
        ("dispute_accepted", 4900, "accepted: the funds went back to the cardholder"),
        ("dispute_expired", 4900, "expired unanswered, which resolves it against the merchant"),
        ("dispute_won", 0, "won: the merchant keeps the funds"),
        ("dispute_cancelled", 0, "cancelled by the cardholder"),
        ("dispute_opened", 0, "open: shown here, not taken out of revenue until it is decided"),
        ("dispute_challenged", 0, "challenged (the merchant answered it): not taken out"),
    ],
)
def test_each_dispute_outcome_has_its_rule(
    session: Session, project: Project, status: str, taken: int, words: str
) -> None:
    paid(session, project, settlement_amount=4612)
    dispute(session, project, status)
    payment = stored(session)
    assert payment.disputed_amount == taken
    # In proportion in the settlement currency: all of it, or nothing.
    assert payment.refunded_settlement == (4612 if taken else 0)
    body = detail(project)
    [shown] = body["disputes"]
    assert shown["subtracted"] is bool(taken) and words in shown["rule"]
    assert any(f"Dispute dsp_r (49.00 USD) is {words}" in line for line in body["explanation"])


def test_a_dispute_that_is_won_after_it_was_lost_gives_the_money_back(
    session: Session, project: Project
) -> None:
    paid(session, project)
    dispute(session, project, "dispute_opened")
    assert stored(session).disputed_amount == 0
    dispute(session, project, "dispute_lost")
    assert stored(session).disputed_amount == 4900
    # Escalated to pre-arbitration and won there: the merchant has the funds again.
    dispute(session, project, "dispute_won", dispute_stage="pre_arbitration")
    assert stored(session).disputed_amount == 0


def test_a_late_report_never_takes_a_status_back(session: Session, project: Project) -> None:
    paid(session, project, status="processing")
    paid(session, project, status="succeeded")
    paid(session, project, status="processing")  # a poll read before the webhook came in
    assert stored(session).status == "succeeded" and stored(session).counts_as_revenue
    dispute(session, project, "dispute_lost")
    dispute(session, project, "dispute_opened")  # an older delivery, same stage
    assert stored(session).disputed_amount == 4900
    refund(session, project, "ref_1", status="pending", amount=1000, is_partial=True)
    refund(session, project, "ref_1", status="succeeded", amount=1000, is_partial=True)
    refund(session, project, "ref_1", status="pending", amount=1000, is_partial=True)
    assert stored(session).refunded_amount == 1000


def test_a_full_refund_without_an_amount_takes_what_was_left(
    session: Session, project: Project
) -> None:
    paid(session, project)
    refund(session, project, "ref_1", amount=900, is_partial=True)
    refund(session, project, "ref_2", amount=None, is_partial=False)
    payment = stored(session)
    assert payment.refunded_amount == 4900 and payment.refunded_settlement == 4612
    body = detail(project)
    assert [r["counted"]["amount"] for r in body["refunds"]] == [900, 4000]
    assert any("a full refund sent without an amount" in line for line in body["explanation"])


def test_a_refund_before_its_payment_is_counted_when_the_payment_arrives(
    session: Session, project: Project
) -> None:
    refund(session, project, "ref_1", amount=None, is_partial=False)
    paid(session, project)
    assert stored(session).refunded_amount == 4900


def test_a_partial_refund_without_an_amount_counts_nothing_yet(
    session: Session, project: Project
) -> None:
    paid(session, project)
    refund(session, project, "ref_1", amount=None, is_partial=True)
    assert stored(session).refunded_amount == 0
    assert any("read from Dodo by id" in line for line in detail(project)["explanation"])


def test_money_is_never_taken_twice(session: Session, project: Project) -> None:
    paid(session, project)
    refund(session, project, "ref_1", amount=4900)
    dispute(session, project, "dispute_lost")
    payment = stored(session)
    assert payment.refunded_amount + payment.disputed_amount == 4900
    assert payment.refunded_settlement == 4612


def test_a_dispute_resolved_by_rdr_is_counted_once_with_its_refund(
    session: Session, project: Project
) -> None:
    """Visa RDR refunds the cardholder automatically and reports the dispute as lost."""
    paid(session, project, total_amount=10000, settlement_amount=10000)
    refund(session, project, "ref_1", amount=3000, is_partial=True)
    dispute(session, project, "dispute_lost", amount="3000", is_resolved_by_rdr=True)
    assert stored(session).refunded_settlement == 3000
    assert any("Visa RDR" in line for line in detail(project)["explanation"])


@pytest.mark.parametrize("amount", ["49.00", "4900", 4900, 49.0])
def test_dispute_amounts_arrive_as_strings_or_numbers(amount: object) -> None:
    data = {
        "dispute_id": "dsp_1",
        "payment_id": "pay_1",
        "created_at": "2026-11-22T00:00:00Z",
        "currency": "USD",
        "amount": amount,
        "dispute_status": "dispute_lost",
    }
    assert payloads.dispute(data, "test").amount == 4900


def test_dispute_amounts_that_are_not_numbers_are_malformed() -> None:
    data = {
        "dispute_id": "dsp_1",
        "payment_id": "pay_1",
        "created_at": "2026-11-22T00:00:00Z",
        "amount": "lots",
        "dispute_status": "dispute_lost",
    }
    with pytest.raises(payloads.MalformedPayload):
        payloads.dispute(data, "test")


def test_unknown_dispute_statuses_are_not_subtracted() -> None:
    rule = rules.dispute_rule("dispute_pondering")
    assert not rule.subtracts and "does not know" in rule.words
