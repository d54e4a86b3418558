"""Things that change after the fact: processing payments that settle, pending refunds that
settle, and disputes that go through Dodo's stages and statuses. Each change sends its webhook
and shows in the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dodopayments
import httpx
import pytest
from dodopayments import DodoPayments
from dodopayments.types import DisputeStage, DisputeStatus

from bantico_emulators.dodo import (
    MONTHLY_PRODUCT_ID,
    RunningEmulator,
    complete_checkout,
    create_payments,
    escalate_dispute,
    open_dispute,
    refund_payment,
    resolve_dispute,
    settle_payment,
    settle_refund,
)
from bantico_emulators.dodo.billing import DISPUTE_STATUSES, refundable
from bantico_emulators.dodo.errors import DodoError
from tests.emulators.dodo.conftest import Receiver, buy


class Inbox:
    """What the receiver got, one step at a time: each step waits for its deliveries."""

    def __init__(self, emu: RunningEmulator, receiver: Receiver) -> None:
        self.emu, self.receiver, self.seen = emu, receiver, 0

    def new(self) -> list[tuple[str, dict[str, Any]]]:
        assert self.emu.state.deliveries.wait_idle()
        bodies = [json.loads(r.body) for r in self.receiver.requests[self.seen :]]
        self.seen = len(self.receiver.requests)
        return sorted(((b["type"], b["data"]) for b in bodies), key=lambda sent: sent[0])

    def types(self) -> list[str]:
        return [kind for kind, _ in self.new()]


@pytest.fixture
def inbox(emu: RunningEmulator, client: DodoPayments, receiver: Receiver) -> Inbox:
    client.webhooks.create(url=receiver.url)
    return Inbox(emu, receiver)


def test_a_processing_payment_succeeds_later(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox
) -> None:
    session_id = buy(client)
    pending = complete_checkout(emu.state, session_id, status="processing")
    [(kind, data)] = inbox.new()
    assert kind == "payment.processing" and data["status"] == "processing"
    assert client.checkout_sessions.retrieve(session_id).payment_status == "processing"
    assert client.payments.list(status="processing").items[0].payment_id == pending.payment_id
    with pytest.raises(DodoError) as again:
        complete_checkout(emu.state, session_id)
    assert again.value.status == 409  # the session is in flight
    with pytest.raises(DodoError):
        refund_payment(emu.state, pending.payment_id)  # nothing to refund yet

    settle_payment(emu.state, pending.payment_id, "succeeded")
    [(kind, data)] = inbox.new()
    assert kind == "payment.succeeded" and data["status"] == "succeeded"
    shown = client.payments.retrieve(pending.payment_id)
    assert shown.status == "succeeded" and shown.updated_at is not None
    assert client.payments.list().items[0].status == "succeeded"
    with pytest.raises(DodoError) as twice:
        settle_payment(emu.state, pending.payment_id, "failed")
    assert twice.value.code == "PAYMENT_NOT_PROCESSING"


def test_a_processing_subscription_payment_starts_the_subscription_on_success(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox
) -> None:
    pending = complete_checkout(emu.state, buy(client, MONTHLY_PRODUCT_ID), status="processing")
    [subscription_id] = pending.subscription_ids
    assert inbox.types() == ["payment.processing"]
    assert client.subscriptions.retrieve(subscription_id).status == "pending"

    settle_payment(emu.state, pending.payment_id, "succeeded")
    assert inbox.types() == ["payment.succeeded", "subscription.active"]
    assert client.subscriptions.retrieve(subscription_id).status == "active"

    failing = complete_checkout(emu.state, buy(client, MONTHLY_PRODUCT_ID), status="processing")
    inbox.new()
    settle_payment(emu.state, failing.payment_id, "failed")
    sent = dict(inbox.new())
    assert set(sent) == {"payment.failed", "subscription.failed"}
    assert sent["payment.failed"]["error_code"] == "CARD_DECLINED"
    assert sent["payment.failed"]["service_periods"] == []
    assert sent["subscription.failed"]["status"] == "failed"


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_a_processing_payment_fails_or_is_cancelled_over_the_control_api(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox, status: str
) -> None:
    pending = complete_checkout(emu.state, buy(client), status="processing")
    inbox.new()
    with httpx.Client(base_url=emu.control_url) as control:
        answer = control.post(f"/payments/{pending.payment_id}/{status}").json()
        assert answer["status"] == status
        assert control.post(f"/payments/{pending.payment_id}/succeeded").status_code == 422
        assert control.post(f"/payments/{pending.payment_id}/bogus").status_code == 422
    assert inbox.types() == [f"payment.{status}"]
    assert client.payments.retrieve(pending.payment_id).status == status


def test_checkouts_can_end_cancelled_and_the_control_api_can_leave_them_processing(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox
) -> None:
    cancelled = complete_checkout(emu.state, buy(client), status="cancelled")
    assert inbox.types() == ["payment.cancelled"] and cancelled.error_code is None
    session_id = buy(client)
    with httpx.Client(base_url=emu.control_url) as control:
        paid = control.post(f"/checkouts/{session_id}/complete", json={"status": "processing"})
    assert paid.json()["status"] == "processing"
    assert inbox.types() == ["payment.processing"]
    page = httpx.get(f"{emu.base_url}/checkout/{session_id}")
    assert "Payment processing" in page.text


def test_bulk_history_can_hold_processing_payments(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    [first, _] = create_payments(
        emu.state, 2, start=start, end=start + timedelta(days=1), status="processing"
    )
    assert len(client.payments.list(status="processing").items) == 2
    settle_payment(emu.state, first.payment_id, "succeeded")
    assert client.payments.retrieve(first.payment_id).status == "succeeded"
    with pytest.raises(DodoError):
        create_payments(emu.state, 1, start=start, end=start, status="nonsense")


def test_a_pending_refund_succeeds_later(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox
) -> None:
    paid = complete_checkout(emu.state, buy(client))
    inbox.new()
    refund = refund_payment(emu.state, paid.payment_id, 1000, status="pending")
    assert inbox.new() == []  # there is no refund.pending event type
    assert client.refunds.retrieve(refund.refund_id).status == "pending"
    shown = client.payments.retrieve(paid.payment_id)
    assert shown.refund_status is None and shown.refunds[0].status == "pending"
    assert refundable(emu.state, paid.payment_id) == 3900  # held while pending

    settle_refund(emu.state, refund.refund_id, "succeeded")
    [(kind, data)] = inbox.new()
    assert kind == "refund.succeeded" and data["status"] == "succeeded"
    assert data["refund_id"] == refund.refund_id
    shown = client.payments.retrieve(paid.payment_id)
    assert shown.refund_status == "partial" and shown.refunds[0].status == "succeeded"
    assert client.refunds.list(status="succeeded").items[0].refund_id == refund.refund_id
    with pytest.raises(DodoError) as twice:
        settle_refund(emu.state, refund.refund_id, "failed")
    assert twice.value.code == "REFUND_NOT_PENDING"


def test_a_pending_refund_fails_over_the_control_api(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox
) -> None:
    paid = complete_checkout(emu.state, buy(client))
    inbox.new()
    with httpx.Client(base_url=emu.control_url) as control:
        made = control.post(f"/payments/{paid.payment_id}/refund", json={"status": "pending"})
        refund_id = made.json()["refund_id"]
        assert control.post(f"/refunds/{refund_id}/pending").status_code == 422
        assert control.post(f"/refunds/{refund_id}/failed").json()["status"] == "failed"
    assert inbox.types() == ["refund.failed"]
    assert client.refunds.list(status="failed").items[0].refund_id == refund_id
    assert client.payments.retrieve(paid.payment_id).refund_status is None
    assert refundable(emu.state, paid.payment_id) == 4900  # a failed refund gives it back


def test_a_dispute_goes_through_every_stage(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox
) -> None:
    paid = complete_checkout(emu.state, buy(client))
    inbox.new()

    def step(expected_event: str, stage: DisputeStage, status: DisputeStatus) -> None:
        [(kind, data)] = inbox.new()
        assert (kind, data["dispute_stage"], data["dispute_status"]) == (
            expected_event,
            stage,
            status,
        )
        assert data["dispute_id"] == dispute.dispute_id and data["amount"] == "4900"
        detail = client.disputes.retrieve(dispute.dispute_id)
        assert (detail.dispute_stage, detail.dispute_status) == (stage, status)
        [listed] = client.disputes.list(dispute_stage=stage, dispute_status=status).items
        assert listed.dispute_id == dispute.dispute_id
        shown = client.payments.retrieve(paid.payment_id)
        assert (shown.disputes[0].dispute_stage, shown.disputes[0].dispute_status) == (
            stage,
            status,
        )
        assert client.payments.list().items[0].dispute_status == status

    dispute = open_dispute(emu.state, paid.payment_id, stage="pre_dispute")
    step("dispute.opened", "pre_dispute", "dispute_opened")
    resolve_dispute(emu.state, dispute.dispute_id, "dispute_challenged")
    step("dispute.challenged", "pre_dispute", "dispute_challenged")
    escalate_dispute(emu.state, dispute.dispute_id, "dispute")
    step("dispute.opened", "dispute", "dispute_opened")
    resolve_dispute(emu.state, dispute.dispute_id, "dispute_won")
    step("dispute.won", "dispute", "dispute_won")
    with httpx.Client(base_url=emu.control_url) as control:
        escalated = control.post(f"/disputes/{dispute.dispute_id}/stage/pre_arbitration")
        assert escalated.json()["dispute_stage"] == "pre_arbitration"
        step("dispute.opened", "pre_arbitration", "dispute_opened")
        assert control.post(f"/disputes/{dispute.dispute_id}/stage/dispute").status_code == 422
        assert control.post(f"/disputes/{dispute.dispute_id}/lost").is_success
        step("dispute.lost", "pre_arbitration", "dispute_lost")
    with pytest.raises(DodoError) as backwards:
        escalate_dispute(emu.state, dispute.dispute_id, "pre_dispute")
    assert backwards.value.code == "INVALID_DISPUTE_STAGE"


@pytest.mark.parametrize("status", sorted(DISPUTE_STATUSES - {"dispute_opened"}))
def test_each_dispute_status_sends_its_event(
    emu: RunningEmulator, client: DodoPayments, inbox: Inbox, status: str
) -> None:
    paid = complete_checkout(emu.state, buy(client))
    with httpx.Client(base_url=emu.control_url) as control:
        opened = control.post(f"/payments/{paid.payment_id}/disputes", json={"stage": "dispute"})
        inbox.new()
        short = status.removeprefix("dispute_")
        answer = control.post(f"/disputes/{opened.json()['dispute_id']}/{short}").json()
    assert answer["dispute_status"] == status and answer["amount"] == "4900"
    [(kind, data)] = inbox.new()
    assert kind == f"dispute.{short}" and data["dispute_status"] == status
    assert client.payments.list().items[0].dispute_status == status


def test_disputes_need_a_known_stage_and_a_succeeded_payment(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    paid = complete_checkout(emu.state, buy(client))
    with pytest.raises(DodoError):
        open_dispute(emu.state, paid.payment_id, stage="arbitration")
    failed = complete_checkout(emu.state, buy(client), succeed=False)
    with pytest.raises(DodoError) as refused:
        open_dispute(emu.state, failed.payment_id)
    assert refused.value.code == "PAYMENT_NOT_SUCCEEDED"
    with pytest.raises(dodopayments.NotFoundError):
        client.disputes.retrieve("dsp_missing")
