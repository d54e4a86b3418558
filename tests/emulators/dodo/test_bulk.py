"""History for backfill tests: many payments, with refunds and disputes, made quickly and paged
exactly once each; and Dodo's cap on deep page numbers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dodopayments
import httpx
import pytest
from dodopayments import DodoPayments

from bantico_emulators.dodo import EmulatorOptions, RunningEmulator, create_payments
from bantico_emulators.dodo.clock import add_interval
from bantico_emulators.dodo.records import Dispute, Refund

START = datetime(2025, 1, 1, tzinfo=UTC)


def test_ten_thousand_payments_page_exactly_once(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    emu.state.options.max_page_number = None  # about sort order; the cap has its own tests
    made = create_payments(
        emu.state,
        10_000,
        start=START,
        end=START + timedelta(days=365),
        metadata=lambda i: {"linkId": f"lnk_{i % 7}"},
    )
    seen: list[str] = []
    page_number = 0
    while True:
        # Raw pages: the SDK builds the request; skipping its model building halves the runtime.
        raw = client.payments.with_raw_response.list(page_number=page_number, page_size=100)
        items = raw.http_response.json()["items"]
        seen += [p["payment_id"] for p in items]
        if len(items) < 100:
            break
        page_number += 1
    assert len(seen) == len(set(seen)) == 10_000
    assert set(seen) == {p.payment_id for p in made}

    march = client.payments.list(
        created_at_gte=datetime(2025, 3, 1, tzinfo=UTC),
        created_at_lte=datetime(2025, 3, 1, 23, 59, 59, tzinfo=UTC),
        page_size=100,
    ).items
    assert 20 <= len(march) <= 30 and {p.metadata["linkId"] for p in march} <= {
        f"lnk_{i}" for i in range(7)
    }


def test_page_number_cap_is_configurable(emu: RunningEmulator, client: DodoPayments) -> None:
    emu.state.options.max_page_number = 2
    assert client.payments.list(page_number=2).items == []
    with pytest.raises(dodopayments.UnprocessableEntityError):
        client.payments.list(page_number=3)


def test_every_list_caps_the_page_number(emu: RunningEmulator, client: DodoPayments) -> None:
    assert EmulatorOptions().max_page_number == 50
    listings: list[Callable[..., Any]] = [
        client.payments.list,
        client.refunds.list,
        client.disputes.list,
        client.customers.list,
        client.products.list,
    ]
    for listing in listings:
        assert listing(page_number=50).items == []
        with pytest.raises(dodopayments.UnprocessableEntityError) as deep:
            listing(page_number=51)
        assert deep.value.body == {
            "code": "INVALID_REQUEST",
            "message": "page_number may be at most 50",
        }


def test_history_with_refunds_and_disputes(emu: RunningEmulator, client: DodoPayments) -> None:
    endpoint = client.webhooks.create(url="http://127.0.0.1:9/hooks")
    began = time.monotonic()
    made = create_payments(
        emu.state,
        10_000,
        start=START,
        end=START + timedelta(days=365),
        refund_every=10,
        partial_refund_every=7,
        partial_refund_amount=1000,
        dispute_every=50,
        dispute_status="dispute_won",
        aftermath=timedelta(days=3),
    )
    assert time.monotonic() - began < 5  # about a quarter of a second here
    ledger = emu.state.ledger()
    refunds, disputes = list(ledger.refunds.values()), list(ledger.disputes.values())
    full = [r for r in refunds if not r.is_partial]
    partial = [r for r in refunds if r.is_partial]
    # Every 10th in full; every 7th in part unless also a 10th (a full refund wins).
    assert (len(full), len(partial), len(disputes)) == (1_000, 1_429 - 143, 200)
    assert {r.amount for r in full} == {4900} and {r.amount for r in partial} == {1000}
    assert {(d.stage, d.status) for d in disputes} == {("dispute", "dispute_won")}
    records: list[Refund | Dispute] = [*refunds, *disputes]
    for record in records:
        paid = ledger.payments[record.payment_id]
        assert paid.created_at < record.created_at <= paid.created_at + timedelta(days=3)
        assert record.created_at <= START + timedelta(days=365, microseconds=1)
    assert emu.state.deliveries.messages() == []  # history: nobody was listening
    assert endpoint.id in ledger.webhooks

    tenth, seventh, fiftieth = made[9], made[6], made[49]
    assert client.payments.retrieve(tenth.payment_id).refund_status == "full"
    assert client.payments.retrieve(seventh.payment_id).refund_status == "partial"
    shown = client.payments.retrieve(fiftieth.payment_id)
    assert shown.refund_status == "full" and shown.disputes[0].dispute_status == "dispute_won"
    assert made[0].refund_ids == [] and made[0].dispute_ids == []
    window = {"created_at_gte": START, "created_at_lte": START + timedelta(days=10)}
    assert client.refunds.list(**window, page_size=100).items  # type: ignore[arg-type]
    assert client.disputes.list(dispute_status="dispute_won", page_size=100).items


def test_bulk_history_over_the_control_api(emu: RunningEmulator, client: DodoPayments) -> None:
    with httpx.Client(base_url=emu.control_url) as control:
        made = control.post(
            "/payments/bulk",
            json={
                "count": 100,
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-03-01T00:00:00Z",
                "refund_every": 5,
                "partial_refund_every": 3,
                "dispute_every": 20,
                "dispute_status": "dispute_lost",
                "dispute_stage": "pre_arbitration",
            },
        ).json()
        assert (made["count"], made["refunds"], made["disputes"]) == (100, 20 + 33 - 6, 5)
        partial = client.refunds.list(page_size=100).items
        assert {r.amount for r in partial if r.is_partial} == {2450}  # half, by default
        lost = client.disputes.list(dispute_stage="pre_arbitration").items
        assert len(lost) == 5 and {d.dispute_status for d in lost} == {"dispute_lost"}
        refused = control.post(
            "/payments/bulk",
            json={
                "count": 1,
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-01T00:00:00Z",
                "status": "failed",
                "refund_every": 1,
            },
        )
        assert refused.status_code == 422


def test_billing_dates_follow_the_calendar() -> None:
    jan31 = datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert add_interval(jan31, "Month") == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert add_interval(jan31, "Month", 13) == datetime(2027, 2, 28, 10, tzinfo=UTC)
    assert add_interval(datetime(2028, 2, 29, tzinfo=UTC), "Year") == datetime(
        2029, 2, 28, tzinfo=UTC
    )
    assert add_interval(jan31, "Week", 2) == jan31 + timedelta(days=14)
