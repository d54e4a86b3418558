"""History for backfill tests: many payments, made quickly, paged exactly once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dodopayments
import pytest
from dodopayments import DodoPayments

from bantico.dodo_emulator import RunningEmulator, create_payments
from bantico.dodo_emulator.clock import add_interval

START = datetime(2025, 1, 1, tzinfo=UTC)


def test_ten_thousand_payments_page_exactly_once(
    emu: RunningEmulator, client: DodoPayments
) -> None:
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


def test_billing_dates_follow_the_calendar() -> None:
    jan31 = datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert add_interval(jan31, "Month") == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert add_interval(jan31, "Month", 13) == datetime(2027, 2, 28, 10, tzinfo=UTC)
    assert add_interval(datetime(2028, 2, 29, tzinfo=UTC), "Year") == datetime(
        2029, 2, 28, tzinfo=UTC
    )
    assert add_interval(jan31, "Week", 2) == jan31 + timedelta(days=14)
