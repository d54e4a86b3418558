"""Webhooks as a receiver sees them: signed like Dodo, retried like Dodo, shaped like Dodo."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from dodopayments import DodoPayments
from dodopayments.types import Dispute, Payment, Refund, Subscription
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bantico_emulators.dodo import (
    LIVE_KEY,
    MONTHLY_PRODUCT_ID,
    RunningEmulator,
    complete_checkout,
    fail_checkout,
    lose_dispute,
    open_dispute,
    refund_payment,
    renew_subscription,
)
from bantico_emulators.dodo.payloads import NEWER_PAYMENT_FIELDS
from tests.emulators.dodo.conftest import METADATA, Receiver, buy


def listen(client: DodoPayments, receiver: Receiver, **fields: Any) -> tuple[str, str]:
    """Register the receiver as Bantico would; returns (endpoint id, signing secret)."""
    endpoint = client.webhooks.create(url=receiver.url, **fields)
    return endpoint.id, client.webhooks.retrieve_secret(endpoint.id).secret


def events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_delivery_is_signed_and_shaped_like_dodo(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    _, secret = listen(client, receiver, headers={"X-Tenant": "t1"})
    assert secret.startswith("whsec_")
    paid = complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()

    [request] = receiver.requests
    headers = request.headers
    assert headers["webhook-id"].startswith("msg_") and len(headers["webhook-id"]) == 31
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["user-agent"] == "Svix-Webhooks/rolling"
    assert headers["content-type"] == "application/json" and headers["x-tenant"] == "t1"

    event = client.webhooks.unwrap(request.body, headers=headers, key=secret)
    assert event.type == "payment.succeeded" and event.data.payment_id == paid.payment_id
    assert event.data.model_extra == {"payload_type": "Payment"}
    Webhook(secret).verify(request.body, headers)

    envelope = json.loads(request.body)
    assert list(envelope) == ["business_id", "type", "timestamp", "data"]
    assert envelope["timestamp"].endswith("Z") and envelope["data"]["payload_type"] == "Payment"
    payment = Payment.model_validate(envelope["data"])
    assert payment.metadata == METADATA and payment.customer.email == "jane@example.com"

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body + " ", headers)


def test_failures_are_retried_with_the_same_webhook_id(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    _, secret = listen(client, receiver)
    receiver.statuses = [500, 503]
    complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()

    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)
    log = emu.state.deliveries.attempts()
    assert [(a.number, a.status_code, a.ok) for a in log] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert emu.state.deliveries.messages()[0].status == "delivered"


def test_gives_up_after_eight_retries_and_can_be_redelivered(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    emu.state.options.time_scale = 0.00001  # the whole 27.5 h schedule in about a second
    listen(client, receiver)
    receiver.statuses = [500] * 9
    complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()
    [message] = emu.state.deliveries.messages()
    assert (len(receiver.requests), message.status) == (9, "failed")

    emu.state.deliveries.redeliver(message.message_id)
    assert emu.state.deliveries.wait_idle()
    assert len(receiver.requests) == 10 and message.status == "delivered"
    assert receiver.requests[-1].headers["webhook-id"] == message.message_id
    assert emu.state.deliveries.attempts()[-1].manual


def test_unreachable_endpoint_is_logged_as_an_error(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    emu.state.options.retry_schedule = (0,)
    client.webhooks.create(url="http://127.0.0.1:9/nothing-listens-here")
    complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()
    attempts = emu.state.deliveries.attempts()
    assert len(attempts) == 2 and all(a.status_code is None and a.error for a in attempts)


def test_rotation_signs_with_both_secrets_for_a_day(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    endpoint_id, old = listen(client, receiver)
    new = emu.state.rotate_secret(endpoint_id)
    assert client.webhooks.retrieve_secret(endpoint_id).secret == new != old
    complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()
    rotated = receiver.requests[-1]
    assert len(rotated.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        client.webhooks.unwrap(rotated.body, headers=rotated.headers, key=secret)

    emu.state.clock.advance(timedelta(hours=24, seconds=1))
    complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()
    later = receiver.requests[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)


def test_older_field_set_omits_the_newer_fields(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    endpoint_id, secret = listen(client, receiver)
    emu.state.find_webhook(endpoint_id)[1].field_set = "old"
    complete_checkout(emu.state, buy(client, MONTHLY_PRODUCT_ID))
    assert emu.state.deliveries.wait_idle()
    # Deliveries run in parallel and, as at Dodo, arrive in no guaranteed order.
    request = next(r for r in receiver.requests if '"type":"payment.succeeded"' in r.body)
    payment = json.loads(request.body)["data"]
    assert payment["payload_type"] == "Payment" and payment["subscription_id"].startswith("sub_")
    assert not NEWER_PAYMENT_FIELDS & payment.keys()
    assert "is_update_payment_method" in payment  # kept: the older set omits only seven
    event = client.webhooks.unwrap(request.body, headers=request.headers, key=secret)
    assert event.type == "payment.succeeded"  # the SDK still parses it (construct, no validation)


def test_filter_types_disabled_endpoints_and_modes(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    refunds_only = client.webhooks.create(
        url=receiver.url + "?refunds", filter_types=["refund.succeeded"]
    )
    client.webhooks.create(url=receiver.url + "?disabled", disabled=True)
    client.webhooks.create(url=receiver.url + "?all")
    with DodoPayments(bearer_token=LIVE_KEY, base_url=emu.live_url, max_retries=0) as live:
        live.webhooks.create(url=receiver.url + "?live")
    paid = complete_checkout(emu.state, buy(client))
    refund_payment(emu.state, paid.payment_id, 100)
    assert emu.state.deliveries.wait_idle()

    seen = sorted((a.url.split("?")[1], a.event_type) for a in emu.state.deliveries.attempts())
    assert seen == [
        ("all", "payment.succeeded"),
        ("all", "refund.succeeded"),
        ("refunds", "refund.succeeded"),
    ]
    refund = next(e for e in events(receiver) if e["type"] == "refund.succeeded")["data"]
    assert Refund.model_validate(refund).is_partial and refund["payload_type"] == "Refund"

    client.webhooks.update(refunds_only.id, disabled=True)
    refund_payment(emu.state, paid.payment_id, 100)
    assert emu.state.deliveries.wait_idle()
    assert len(emu.state.deliveries.attempts(endpoint_id=refunds_only.id)) == 1


def test_renewal_sends_payment_succeeded_then_subscription_renewed(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    _, secret = listen(client, receiver)
    first = complete_checkout(emu.state, buy(client, MONTHLY_PRODUCT_ID))
    [subscription_id] = first.subscription_ids
    renewal = renew_subscription(emu.state, subscription_id)
    copied = renew_subscription(emu.state, subscription_id, copy_metadata=True)
    assert emu.state.deliveries.wait_idle()

    sent = sorted(events(receiver), key=lambda e: e["timestamp"])
    by_type = [(e["type"], e["data"].get("charge_type")) for e in sent]
    assert set(by_type[:2]) == {("payment.succeeded", "new"), ("subscription.active", None)}
    renewed = [e for e in sent if e["type"] == "subscription.renewed"]
    assert [e["data"]["payment_id"] for e in renewed] == [renewal.payment_id, copied.payment_id]
    Subscription.model_validate(renewed[0]["data"])
    renewal_payment = next(
        e["data"]
        for e in sent
        if e["data"].get("payment_id") == renewal.payment_id and e["type"] == "payment.succeeded"
    )
    assert renewal_payment["charge_type"] == "renewal"
    assert renewal_payment["subscription_id"] == subscription_id
    assert renewal_payment["metadata"] == {}  # not copied unless asked: undocumented by Dodo
    assert (
        renewal_payment["service_periods"][0]["starts_at"]
        < (renewal_payment["service_periods"][0]["ends_at"])
    )
    assert client.payments.retrieve(copied.payment_id).metadata == METADATA
    active = next(e for e in sent if e["type"] == "subscription.active")["data"]
    assert active["metadata"] == METADATA and active["payment_id"] is None
    for request in receiver.requests:
        client.webhooks.unwrap(request.body, headers=request.headers, key=secret)


def test_failure_dispute_and_trial_events(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    listen(client, receiver)
    session_id = buy(client)
    declined = fail_checkout(emu.state, session_id)
    paid = complete_checkout(emu.state, session_id)  # the same session can be paid after a decline
    dispute = open_dispute(emu.state, paid.payment_id)
    lose_dispute(emu.state, dispute.dispute_id)
    trial = complete_checkout(
        emu.state, buy(client, MONTHLY_PRODUCT_ID, subscription_data={"trial_period_days": 7})
    )
    assert emu.state.deliveries.wait_idle()

    sent = {(e["type"], e["data"].get("payment_id")): e["data"] for e in events(receiver)}
    failed = sent[("payment.failed", declined.payment_id)]
    assert failed["status"] == "failed" and failed["error_code"] == "CARD_DECLINED"
    lost = sent[("dispute.lost", paid.payment_id)]
    assert Dispute.model_validate(lost).dispute_status == "dispute_lost"
    assert lost["amount"] == "4900" and lost["payload_type"] == "Dispute"
    assert ("dispute.opened", paid.payment_id) in sent
    assert sent[("payment.succeeded", trial.payment_id)]["total_amount"] == 0


def test_retries_carry_the_latest_data(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    emu.state.options.retry_schedule = (0.3,)
    emu.state.options.time_scale = 1.0
    listen(client, receiver, filter_types=["payment.succeeded"])
    receiver.statuses = [500]
    paid = complete_checkout(emu.state, buy(client))
    deadline = time.monotonic() + 5
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    refund_payment(emu.state, paid.payment_id)
    assert emu.state.deliveries.wait_idle()
    first, retry = (e["data"] for e in events(receiver))
    assert (first["refund_status"], retry["refund_status"]) == (None, "full")


def test_deleting_an_endpoint_stops_its_retries(
    emu: RunningEmulator, client: DodoPayments, receiver: Receiver
) -> None:
    emu.state.options.retry_schedule = (0.2,)
    emu.state.options.time_scale = 1.0
    endpoint_id, _ = listen(client, receiver)
    receiver.statuses = [500]
    complete_checkout(emu.state, buy(client))
    deadline = time.monotonic() + 5
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    client.webhooks.delete(endpoint_id)
    assert emu.state.deliveries.wait_idle()
    assert len(receiver.requests) == 1
    assert emu.state.deliveries.messages()[0].status == "cancelled"


def test_a_sender_hook_delivers_in_process(emu: RunningEmulator, client: DodoPayments) -> None:
    got: list[tuple[str, str, dict[str, str]]] = []

    def sender(url: str, body: str, headers: dict[str, str]) -> int:
        got.append((url, body, headers))
        if len(got) == 1:
            raise ConnectionError("receiver not ready")
        return 204

    emu.state.options.sender = sender
    _, secret = listen(client, Receiver("https://bnt.example/hooks/dodo/t1"))
    complete_checkout(emu.state, buy(client))
    assert emu.state.deliveries.wait_idle()
    assert [url for url, _, _ in got] == ["https://bnt.example/hooks/dodo/t1"] * 2
    assert emu.state.deliveries.attempts()[0].error == "ConnectionError: receiver not ready"
    Webhook(secret).verify(got[1][1], got[1][2])
