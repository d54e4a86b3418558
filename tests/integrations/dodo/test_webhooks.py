from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bantico.app import create_app
from bantico.config import Settings
from bantico.db import make_sessionmaker
from bantico.integrations.dodo import webhooks
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.payments.models import Dispute, Payment, Refund
from tests.conftest import Project
from tests.integrations.dodo import support


@pytest.fixture
def secret(project: Project, session: Session, settings: Settings) -> str:
    value = support.new_secret()
    support.connect_for_webhooks(session, settings, project.id, value)
    return value


def deliver(
    project: Project,
    secret: str,
    event_type: str,
    data: dict[str, Any],
    msg_id: str = "msg_1",
    **kwargs: Any,
) -> Any:
    body = support.envelope(event_type, data)
    return project.client.post(
        f"/webhooks/dodo/{project.id}",
        content=body,
        headers=support.headers(secret, body, msg_id, **kwargs),
    )


def all_rows(session: Session, model: Any) -> list[Any]:
    session.expire_all()
    return list(session.execute(select(model).order_by(*model.__mapper__.primary_key)).scalars())


def test_valid_delivery_stores_the_payment(project: Project, session: Session, secret: str) -> None:
    response = deliver(project, secret, "payment.succeeded", support.payment())
    assert response.status_code == 200, response.text
    [payment] = all_rows(session, Payment)
    assert (payment.provider_payment_id, payment.mode, payment.total_amount) == (
        "pay_0NkBwXq2c5t8uYv1LmN3o",
        "test",
        4900,
    )
    assert (payment.settlement_amount, payment.settlement_currency) == (4612, "USD")
    assert payment.customer_email == "jane@example.com"
    assert payment.customer_id == "cus_0NkBwH3N9Ld41wgNzK6ty"
    assert payment.checkout_session_id == "cks_0NkBmhmGVSy7WTCPOd8oh"
    assert payment.payment_metadata == {
        "linkId": "lnk_8f2a",
        "campaignId": "cmp_spring26",
        "source": "newsletter",
    }
    assert payment.counts_as_revenue and payment.received_via == "webhook"
    assert payment.created_at == datetime(2026, 11, 20, 10, 15, 30, 123456, tzinfo=UTC)
    [message] = all_rows(session, WebhookMessage)
    assert message.handled_at is not None and message.event_type == "payment.succeeded"
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None and integration.last_webhook_at is not None


def test_older_payload_without_newer_fields(
    project: Project, session: Session, secret: str
) -> None:
    data = support.payment()
    for newer in (
        "subscription_ids",
        "charge_type",
        "payment_provider",
        "is_update_payment_method",
        "payload_type",
    ):
        data.pop(newer)
    assert deliver(project, secret, "payment.succeeded", data).status_code == 200
    [payment] = all_rows(session, Payment)
    assert payment.counts_as_revenue and payment.is_update_payment_method is False


@pytest.mark.parametrize("tamper", ["signature", "body", "stale", "future", "missing", "junk"])
def test_bad_signatures_are_401(
    project: Project, session: Session, secret: str, tamper: str
) -> None:
    body = support.envelope("payment.succeeded", support.payment())
    headers = support.headers(secret, body)
    if tamper == "signature":
        headers = support.headers(support.new_secret(), body)
    elif tamper == "body":
        body = body + b" "
    elif tamper == "stale":
        headers = support.headers(secret, body, at=datetime.now(UTC) - timedelta(seconds=301))
    elif tamper == "future":
        headers = support.headers(secret, body, at=datetime.now(UTC) + timedelta(seconds=310))
    elif tamper == "missing":
        del headers["webhook-signature"]
    elif tamper == "junk":
        headers["webhook-signature"] = "garbage-without-comma"
    response = project.client.post(f"/webhooks/dodo/{project.id}", content=body, headers=headers)
    assert response.status_code == 401
    assert all_rows(session, Payment) == [] and all_rows(session, WebhookMessage) == []
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None and integration.webhook_failures == 1


def test_two_signatures_after_rotation(project: Project, session: Session, secret: str) -> None:
    body = support.envelope("payment.succeeded", support.payment())
    old = support.headers(support.new_secret(), body)["webhook-signature"]
    headers = support.headers(secret, body, extra_signatures=(old,))
    assert len(headers["webhook-signature"].split(" ")) == 2
    response = project.client.post(f"/webhooks/dodo/{project.id}", content=body, headers=headers)
    assert response.status_code == 200
    assert len(all_rows(session, Payment)) == 1


def test_no_secret_configured_is_404(project: Project) -> None:
    body = support.envelope("payment.succeeded", support.payment())
    headers = support.headers(support.new_secret(), body)
    assert (
        project.client.post(
            f"/webhooks/dodo/{project.id}", content=body, headers=headers
        ).status_code
        == 404
    )
    assert (
        project.client.post("/webhooks/dodo/prj_unknown", content=body, headers=headers).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body", [b"{nope", b"[]", b'{"type": "payment.succeeded"}', b'{"data": {}}']
)
def test_malformed_but_signed_is_400(project: Project, secret: str, body: bytes) -> None:
    response = project.client.post(
        f"/webhooks/dodo/{project.id}", content=body, headers=support.headers(secret, body)
    )
    assert response.status_code == 400


def test_unreadable_payment_is_kept_for_replay(
    project: Project, session: Session, secret: str
) -> None:
    response = deliver(project, secret, "payment.succeeded", support.payment(total_amount="lots"))
    assert response.status_code == 400 and "total_amount" in response.text
    [message] = all_rows(session, WebhookMessage)
    assert message.handled_at is None and "total_amount" in (message.last_error or "")


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"customer": {"customer_id": "cus_1", "email": "jane\ud800@example.com"}}, "email"),
        ({"payment_id": "pay_\udfff"}, "data.payment_id"),
        ({"metadata": {"linkId": "\ud800"}}, "data.metadata.linkId"),
    ],
)
def test_an_unpaired_surrogate_is_400_and_kept_for_replay(
    project: Project, session: Session, secret: str, overrides: dict[str, Any], where: str
) -> None:
    """Found by tests/fuzz: `"\\ud800"` is valid JSON that no database driver can encode, so
    such a payload was a 500, rolled back out of the inbox."""
    response = deliver(project, secret, "payment.succeeded", support.payment(**overrides))
    assert response.status_code == 400, response.text
    assert where in response.json()["error"]["message"]
    [message] = all_rows(session, WebhookMessage)
    assert message.handled_at is None and "unpaired surrogate" in (message.last_error or "")
    assert all_rows(session, Payment) == []


def test_duplicate_delivery_is_stored_once(project: Project, session: Session, secret: str) -> None:
    first = deliver(project, secret, "payment.succeeded", support.payment())
    again = deliver(project, secret, "payment.succeeded", support.payment())
    assert first.json()["status"] == "handled" and again.json()["status"] == "duplicate"
    assert len(all_rows(session, Payment)) == 1
    [message] = all_rows(session, WebhookMessage)
    assert message.deliveries == 2


def test_concurrent_duplicates_are_stored_once(
    project: Project, engine: Engine, settings: Settings, secret: str
) -> None:
    body = support.envelope("payment.succeeded", support.payment())
    headers = support.headers(secret, body, "msg_concurrent")
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def one_delivery() -> None:
        barrier.wait()
        with factory() as session:
            status, _ = webhooks.receive(session, settings, project.id, body, headers)
            session.commit()
        statuses.append(status)

    threads = [threading.Thread(target=one_delivery) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    with factory() as session:
        assert len(all_rows(session, Payment)) == 1
        [message] = all_rows(session, WebhookMessage)
        assert message.deliveries == 6


def test_unknown_type_is_acknowledged_and_kept(
    project: Project, session: Session, secret: str
) -> None:
    response = deliver(project, secret, "credit.balance_low", {"payload_type": "CreditLedgerEntry"})
    assert response.status_code == 200
    [message] = all_rows(session, WebhookMessage)
    assert message.event_type == "credit.balance_low" and message.handled_at is not None
    assert all_rows(session, Payment) == []


def test_refund_before_payment(project: Project, session: Session, secret: str) -> None:
    assert (
        deliver(
            project,
            secret,
            "refund.succeeded",
            support.refund(amount=1000, is_partial=True),
            "msg_r",
        ).status_code
        == 200
    )
    assert all_rows(session, Payment) == []
    [refund] = all_rows(session, Refund)
    assert (refund.provider_payment_id, refund.amount, refund.is_partial) == (
        "pay_0NkBwXq2c5t8uYv1LmN3o",
        1000,
        True,
    )
    deliver(project, secret, "payment.succeeded", support.payment(), "msg_p")
    detail = project.client.get(
        "/api/v1/payments/pay_0NkBwXq2c5t8uYv1LmN3o", headers=project.headers
    ).json()
    assert detail["refunded"] == {"amount": 1000, "currency": "USD", "formatted": "10.00 USD"}
    assert [r["refundId"] for r in detail["refunds"]] == ["ref_0NkC1aBcDeFgHiJkLmNoP"]


def test_subscription_renewal_is_a_new_payment(
    project: Project, session: Session, secret: str
) -> None:
    first = support.payment(
        "pay_first", subscription_id="sub_1", subscription_ids=["sub_1"], charge_type="new"
    )
    renewal = support.payment(
        "pay_renew",
        subscription_id="sub_1",
        subscription_ids=["sub_1"],
        charge_type="renewal",
        metadata={},
        checkout_session_id=None,
        created_at="2026-12-20T10:15:30Z",
    )
    deliver(project, secret, "payment.succeeded", first, "msg_a")
    deliver(
        project,
        secret,
        "subscription.renewed",
        {"subscription_id": "sub_1", "payment_id": "pay_renew"},
        "msg_b",
    )
    deliver(project, secret, "payment.succeeded", renewal, "msg_c")
    payments = sorted(all_rows(session, Payment), key=lambda p: p.created_at)
    assert [(p.provider_payment_id, p.charge_type, p.subscription_id) for p in payments] == [
        ("pay_first", "new", "sub_1"),
        ("pay_renew", "renewal", "sub_1"),
    ]
    assert all(p.counts_as_revenue for p in payments)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"total_amount": 0, "settlement_amount": 0}, "zero amount"),
        ({"is_update_payment_method": True}, "payment method"),
    ],
)
def test_zero_and_update_payment_method_are_not_revenue(
    project: Project, session: Session, secret: str, overrides: dict[str, Any], reason: str
) -> None:
    deliver(project, secret, "payment.succeeded", support.payment(**overrides))
    [payment] = all_rows(session, Payment)
    assert not payment.counts_as_revenue and reason in (payment.excluded_reason or "")


def test_lost_dispute(project: Project, session: Session, secret: str) -> None:
    dispute = {
        "payload_type": "Dispute",
        "dispute_id": "dsp_1",
        "payment_id": "pay_x",
        "business_id": support.BUSINESS,
        "created_at": "2026-11-22T00:00:00Z",
        "currency": "USD",
        "amount": "49.00",
        "dispute_stage": "dispute",
    }
    deliver(
        project, secret, "dispute.opened", {**dispute, "dispute_status": "dispute_opened"}, "msg_d1"
    )
    deliver(
        project, secret, "dispute.lost", {**dispute, "dispute_status": "dispute_lost"}, "msg_d2"
    )
    [row] = all_rows(session, Dispute)
    assert (row.subtracted, row.amount, row.status) == (True, 4900, "dispute_lost")


def test_database_down_then_redelivery_counts_once(
    project: Project, session: Session, secret: str, settings: Settings, engine: Engine
) -> None:
    body = support.envelope("payment.succeeded", support.payment())
    headers = support.headers(secret, body, "msg_dbdown")
    failures = {"left": 1}

    def drop_connection(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PAYMENTS") and failures["left"]:
            failures["left"] -= 1
            raise OperationalError(statement, {}, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", drop_connection)
    try:
        with TestClient(create_app(settings, engine=engine)) as client:
            down = client.post(f"/webhooks/dodo/{project.id}", content=body, headers=headers)
            assert down.status_code == 503
            assert all_rows(session, Payment) == [] and all_rows(session, WebhookMessage) == []
            again = client.post(f"/webhooks/dodo/{project.id}", content=body, headers=headers)
            assert again.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", drop_connection)
    assert len(all_rows(session, Payment)) == 1
    [message] = all_rows(session, WebhookMessage)
    assert message.deliveries == 1


def test_replay_reprocesses_stored_events(project: Project, session: Session, secret: str) -> None:
    deliver(project, secret, "payment.succeeded", support.payment())
    [payment] = all_rows(session, Payment)
    [message] = all_rows(session, WebhookMessage)
    message.handled_at = None
    session.delete(payment)
    session.commit()
    results = webhooks.replay(session, project.id)
    session.commit()
    assert [(r["ok"], r["status"]) for r in results] == [(True, "handled")]
    assert len(all_rows(session, Payment)) == 1
    assert webhooks.replay(session, project.id) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"this is not json", "not valid JSON"),
        (b"[" * 1000 + b"]" * 1000, "nested deeper"),
        (b'{"type": "payment.succeeded", "data": {"total_amount": NaN}}', "NaN"),
    ],
)
def test_a_signed_body_that_cannot_be_read_is_refused_and_kept(
    project: Project, session: Session, secret: str, raw: bytes, reason: str
) -> None:
    response = project.client.post(
        f"/webhooks/dodo/{project.id}", content=raw, headers=support.headers(secret, raw, "msg_x")
    )
    assert response.status_code == 400 and reason in response.text
    [message] = all_rows(session, WebhookMessage)
    assert message.handled_at is None and reason in (message.outcome or "")
    assert message.outcome and message.outcome.startswith("rejected: ")


@pytest.mark.parametrize(
    ("event_type", "overrides", "reason"),
    [
        ("payment.succeeded", {"total_amount": 1e30}, "total_amount"),
        ("payment.succeeded", {"total_amount": 2**70}, "total_amount"),
        ("payment.succeeded", {"total_amount": -4900}, "total_amount"),
        ("payment.succeeded", {"total_amount": 49.5}, "total_amount"),
        ("payment.succeeded", {"settlement_amount": "4612"}, "settlement_amount"),
        ("payment.succeeded", {"currency": "DOLLARS"}, "ISO 4217"),
        ("refund.succeeded", {"amount": -100000}, "amount"),
        ("dispute.lost", {"amount": "NaN"}, "amount"),
        ("dispute.lost", {"amount": "1e40"}, "amount"),
    ],
)
def test_impossible_numbers_are_refused_and_kept_never_a_500(
    project: Project,
    session: Session,
    secret: str,
    event_type: str,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    if event_type.startswith("payment."):
        data = support.payment(**overrides)
    elif event_type.startswith("refund."):
        data = support.refund(**overrides)
    else:
        data = {
            "dispute_id": "dsp_1",
            "payment_id": "pay_x",
            "created_at": "2026-11-22T00:00:00Z",
            "currency": "USD",
            "dispute_status": "dispute_lost",
            **overrides,
        }
    response = deliver(project, secret, event_type, data, "msg_bad")
    assert response.status_code == 400 and reason in response.text, response.text
    [message] = all_rows(session, WebhookMessage)
    assert message.handled_at is None and (message.outcome or "").startswith("rejected: ")
    assert all_rows(session, Payment) == [] and all_rows(session, Refund) == []
    # Dodo's retry, or a replay, finds it again: still refused, still kept, counted.
    again = deliver(project, secret, event_type, data, "msg_bad")
    assert again.status_code == 400 and all_rows(session, WebhookMessage)[0].deliveries == 2


def test_bad_signatures_cost_no_write_each(
    project: Project, session: Session, secret: str, settings: Settings
) -> None:
    body = support.envelope("payment.succeeded", support.payment())
    for number in range(5):
        response = project.client.post(
            f"/webhooks/dodo/{project.id}",
            content=body,
            headers=support.headers(support.new_secret(), body, f"msg_forged_{number}"),
        )
        assert response.status_code == 401
    integration = all_rows(session, DodoIntegration)[0]
    assert integration.webhook_failures == 1  # the first is written; the rest within a minute
    status = project.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status["webhook"]["failures"] == 5
    assert all_rows(session, WebhookMessage) == []


def test_the_inbox_lists_what_was_not_handled_and_why(
    project: Project, session: Session, secret: str
) -> None:
    deliver(project, secret, "payment.succeeded", support.payment(currency="DOLLARS"), "msg_bad")
    deliver(project, secret, "payment.succeeded", support.payment(), "msg_good")
    deliver(project, secret, "payment.succeeded", {"payment_id": "pay_sparse"}, "msg_sparse")
    listed = project.client.get("/api/v1/integrations/dodo/inbox", headers=project.headers)
    items = {i["webhookId"]: i for i in listed.json()["items"]}
    assert set(items) == {"msg_bad", "msg_sparse"}
    assert items["msg_bad"]["state"] == "rejected" and "ISO 4217" in items["msg_bad"]["reason"]
    assert items["msg_sparse"]["state"] == "waiting"
    everything = project.client.get(
        "/api/v1/integrations/dodo/inbox?all=true", headers=project.headers
    ).json()["items"]
    assert len(everything) == 3
    status = project.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status["counts"]["webhooksNotHandled"] == 2
    replayed = project.client.post(
        "/api/v1/integrations/dodo/inbox/replay", headers=project.headers
    ).json()["results"]
    assert {r["webhookId"]: r["ok"] for r in replayed} == {"msg_bad": False, "msg_sparse": True}
