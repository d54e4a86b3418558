"""Polling alone (a read-only key, no webhooks) converges on Dodo's current state: late changes,
deep paging, a list that fails, a pass that stops half-way, Dodo's rate limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dodopayments import DodoPayments
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.integrations.dodo.models import DodoIntegration
from bantico.integrations.dodo.sync import SyncReport
from bantico.payments.models import Dispute, Payment, Refund
from bantico_emulators.dodo import TIER_0, RateLimit, billing, checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import ONE_TIME_PRODUCT_ID, TEST_KEY, TEST_READ_ONLY_KEY
from tests.conftest import Project
from tests.support.dodo import Bantico, connect_with, one_pass


@pytest.fixture
def polling(bantico: Bantico, project: Project) -> Bantico:
    """Connected with a read-only key: Dodo will not let it register a webhook."""
    assert connect_with(bantico, project, TEST_READ_ONLY_KEY)["webhook"]["state"] == "polling_only"
    return bantico


def until_done(bantico: Bantico, project: Project, **kwargs: Any) -> list[SyncReport]:
    reports = [one_pass(bantico, project, **kwargs)]
    while reports[-1].more:
        assert len(reports) < 50
        reports.append(one_pass(bantico, project))
    return reports


@pytest.fixture
def back_then(emulator: RunningEmulator) -> Iterator[Any]:
    """`with back_then(days)`: what happens inside took place `days` ago at Dodo."""
    from contextlib import contextmanager

    @contextmanager
    def at(days: float) -> Iterator[None]:
        emulator.state.clock.advance(timedelta(days=-days))
        try:
            yield
        finally:
            emulator.state.clock.advance(timedelta(days=days))

    return at


def hours_pass(session: Session, project: Project, hours: float) -> None:
    """Bantico's own clock moves on: its last reads of each object and its last sweep are
    `hours` further back."""
    back = timedelta(hours=hours)
    for model in (Payment, Refund, Dispute):
        for stored in session.execute(select(model).where(model.checked_at.is_not(None))):
            stored[0].checked_at -= back
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None
    state = dict(integration.sync_state or {})
    if state.get("sweptAt"):
        state["sweptAt"] = (datetime.fromisoformat(state["sweptAt"]) - back).isoformat()
    integration.sync_state = state
    integration.connected_at -= back
    session.commit()


def checkout(emulator: RunningEmulator, **kwargs: Any) -> checkouts.Payment:
    with DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url) as sdk:
        made = sdk.checkout_sessions.create(
            product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
            customer={"email": "jane@example.com", "name": "Jane"},
            metadata={"source": "newsletter"},
        )
    return checkouts.complete_checkout(emulator.state, made.session_id, **kwargs)


def row(session: Session, model: Any) -> Any:
    session.expire_all()
    return session.execute(select(model)).scalar_one()


def test_a_payment_that_succeeds_days_after_it_was_created(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session, back_then: Any
) -> None:
    with back_then(5):
        paid = checkout(emulator, status="processing")
    one_pass(polling, project)
    stored = row(session, Payment)
    assert stored.status == "processing" and not stored.counts_as_revenue

    billing.settle_payment(emulator.state, paid.payment_id, "succeeded")
    hours_pass(session, project, 6)
    report = one_pass(polling, project)
    assert report.rechecked >= 1
    stored = row(session, Payment)
    assert stored.status == "succeeded" and stored.counts_as_revenue
    assert stored.settlement_amount is not None and not stored.details_pending


def test_a_refund_that_leaves_pending_weeks_later(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session, back_then: Any
) -> None:
    with back_then(40):
        paid = checkout(emulator)
    with back_then(39):
        refund = billing.refund_payment(emulator.state, paid.payment_id, 900, status="pending")
    one_pass(polling, project)
    assert row(session, Refund).status == "pending" and row(session, Payment).refunded_amount == 0

    billing.settle_refund(emulator.state, refund.refund_id, "succeeded")
    hours_pass(session, project, 7)
    one_pass(polling, project)
    assert row(session, Refund).status == "succeeded"
    assert row(session, Payment).refunded_amount == 900


@pytest.mark.parametrize("outcome", ["dispute_lost", "dispute_accepted", "dispute_expired"])
def test_a_dispute_decided_weeks_after_it_opened(
    polling: Bantico,
    project: Project,
    emulator: RunningEmulator,
    session: Session,
    back_then: Any,
    outcome: str,
) -> None:
    with back_then(45):
        paid = checkout(emulator)
    with back_then(30):
        dispute = billing.open_dispute(emulator.state, paid.payment_id)
    one_pass(polling, project)
    assert row(session, Dispute).status == "dispute_opened"
    assert row(session, Payment).disputed_amount == 0

    billing.resolve_dispute(emulator.state, dispute.dispute_id, outcome)
    hours_pass(session, project, 7)
    one_pass(polling, project)
    assert row(session, Dispute).status == outcome
    assert row(session, Payment).disputed_amount == paid.total_amount
    revenue = polling.client.get(
        "/api/v1/reports/attribution?groupBy=source&mode=test&from=2026-01-01",
        headers=project.headers,
    ).json()
    [total] = revenue["totals"]
    assert total["gross"]["amount"] == paid.total_amount and total["net"]["amount"] == 0


def test_the_sweep_sees_a_decided_dispute_change_again(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session, back_then: Any
) -> None:
    """A won dispute is not re-read by id; escalated and lost, the periodic sweep sees it."""
    with back_then(60):
        paid = checkout(emulator)
    with back_then(50):
        dispute = billing.open_dispute(emulator.state, paid.payment_id)
        billing.resolve_dispute(emulator.state, dispute.dispute_id, "dispute_won")
    one_pass(polling, project)
    assert row(session, Dispute).status == "dispute_won"

    billing.escalate_dispute(emulator.state, dispute.dispute_id, "pre_arbitration")
    billing.resolve_dispute(emulator.state, dispute.dispute_id, "dispute_lost")
    report = one_pass(polling, project)
    assert report.rechecked == 0 and row(session, Dispute).status == "dispute_won"
    hours_pass(session, project, 7)
    one_pass(polling, project)
    stored = row(session, Dispute)
    assert (stored.status, stored.stage) == ("dispute_lost", "pre_arbitration")
    assert row(session, Payment).disputed_amount == paid.total_amount


def test_nothing_is_read_again_after_120_days(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session, back_then: Any
) -> None:
    with back_then(121):
        checkout(emulator, status="processing")
    one_pass(polling, project, since=datetime.now(UTC) - timedelta(days=130))
    assert row(session, Payment).status == "processing"
    hours_pass(session, project, 24)
    emulator.state.requests.reset()
    assert one_pass(polling, project).rechecked == 0
    assert emulator.state.requests.count(route="/payments/{id}") == 0


def test_deep_history_is_listed_in_windows_under_the_page_cap(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    emulator.state.options.max_page_number = 1  # Dodo refuses page 2 and deeper
    now = datetime.now(UTC)
    made = billing.create_payments(
        emulator.state,
        250,
        start=now - timedelta(days=80),
        end=now - timedelta(hours=2),
        refund_every=10,
        dispute_every=25,
    )
    reports = until_done(polling, project)
    assert not any(r.errors for r in reports)
    session.expire_all()
    stored = set(session.execute(select(Payment.provider_payment_id)).scalars())
    assert stored == {p.payment_id for p in made}
    assert len(session.execute(select(Refund)).scalars().all()) == 25
    assert len(session.execute(select(Dispute)).scalars().all()) == 10
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None and (integration.sync_state or {})["pageCap"] == 1
    assert emulator.state.requests.count(route="/payments") > 3  # windows, not one deep list


def test_one_failing_list_never_stops_the_others(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    paid = checkout(emulator)
    billing.refund_payment(emulator.state, paid.payment_id, 500)
    emulator.state.faults.inject(500, count=1000, path="/disputes", method="GET")
    report = one_pass(polling, project)
    assert set(report.errors) == {"disputes"} and "500" in report.errors["disputes"]
    assert row(session, Payment).provider_payment_id == paid.payment_id
    assert row(session, Refund).amount == 500
    status = polling.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert "disputes" in status["sync"]["errors"] and "500" in status["sync"]["lastError"]
    assert status["sync"]["backfillPending"] is True  # the disputes of the history are owed

    emulator.state.faults.clear()
    dispute = billing.open_dispute(emulator.state, paid.payment_id)
    report = one_pass(polling, project)
    assert not report.errors and row(session, Dispute).provider_dispute_id == dispute.dispute_id
    status = polling.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status["sync"]["errors"] == {} and status["sync"]["lastError"] is None
    assert status["sync"]["backfillPending"] is False


def test_a_backfill_resumes_where_it_stopped(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    emulator.state.options.max_page_number = None
    now = datetime.now(UTC)
    made = billing.create_payments(
        emulator.state, 450, start=now - timedelta(days=60), end=now - timedelta(days=1)
    )
    pages = 0

    def crash_on_third_page(stage: str, _count: int) -> None:
        nonlocal pages
        if stage == "payments":
            pages += 1
            if pages == 3:
                raise KeyboardInterrupt  # the process is killed half-way through the backfill

    with pytest.raises(KeyboardInterrupt):
        one_pass(polling, project, progress=crash_on_third_page)
    session.expire_all()
    assert len(session.execute(select(Payment)).scalars().all()) == 300
    listed_before = emulator.state.requests.count(route="/payments")

    reports = until_done(polling, project)
    assert not any(r.errors for r in reports)
    session.expire_all()
    assert {p.provider_payment_id for p in session.execute(select(Payment)).scalars()} == {
        p.payment_id for p in made
    }
    # Pages 0-2 are not asked for again: the new pass went on from page 3 (plus the new-items
    # list of each pass).
    assert emulator.state.requests.count(route="/payments") - listed_before <= 2 + len(reports)
    assert all(not p.details_pending for p in session.execute(select(Payment)).scalars())


def test_status_shows_the_backfill_done_of_total_and_the_time_left(
    polling: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    now = datetime.now(UTC)
    billing.create_payments(
        emulator.state, 120, start=now - timedelta(days=30), end=now - timedelta(days=1)
    )
    report = one_pass(polling, project, budget=0.0)  # listing and reading get no time
    assert report.more
    sync = polling.client.get("/api/v1/integrations/dodo", headers=project.headers).json()["sync"]
    assert sync["backfill"]["phase"] == "listing" and sync["backfillPending"] is True
    assert "left at 5000 requests a minute" in sync["backfill"]["words"]

    one_pass(polling, project, budget=None)
    sync = polling.client.get("/api/v1/integrations/dodo", headers=project.headers).json()["sync"]
    assert sync["backfill"]["phase"] == "done" and sync["backfill"]["done"] == 120
    assert sync["backfill"]["total"] == 120 and sync["jobs"] == []


def test_throttled_by_dodo_a_pass_waits_and_never_fails(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    """Dodo's limit below Bantico's budget (a merchant on a lower tier than configured): Dodo
    answers 429 without Retry-After, Bantico waits for X-RateLimit-Reset and goes on."""
    emulator.state.options.rate_limit = RateLimit(
        per_second=8, per_minute=25, second=1.0, minute=2.0
    )
    now = datetime.now(UTC)
    made = billing.create_payments(
        emulator.state, 40, start=now - timedelta(days=20), end=now - timedelta(days=1)
    )
    reports = until_done(polling, project)
    assert not any(r.errors for r in reports) and sum(r.throttled for r in reports) > 0
    assert emulator.state.requests.too_many > 0
    session.expire_all()
    assert len(session.execute(select(Payment)).scalars().all()) == len(made)


def test_at_dodos_default_tier_the_default_budget_is_never_refused(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    """Bantico's defaults (240 a minute, bursts of 40) against Dodo's Tier 0, both as
    documented: more requests than one burst, and not one 429."""
    polling.settings.dodo_rate_per_minute, polling.settings.dodo_rate_burst = 240, 40
    emulator.state.options.rate_limit = TIER_0
    now = datetime.now(UTC)
    made = billing.create_payments(
        emulator.state, 55, start=now - timedelta(days=20), end=now - timedelta(days=1)
    )
    started = time.monotonic()
    reports = until_done(polling, project)
    assert not any(r.errors for r in reports) and sum(r.throttled for r in reports) == 0
    assert emulator.state.requests.too_many == 0 and emulator.state.requests.total > 40
    assert time.monotonic() - started > 2  # the budget, not Dodo, held the requests back
    session.expire_all()
    assert len(session.execute(select(Payment)).scalars().all()) == len(made)


def test_a_passing_dodo_outage_is_retried_in_every_step(
    polling: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    one_pass(polling, project)  # the backfill is done; the next pass lists new items
    paid = checkout(emulator)
    emulator.state.faults.inject(503, count=2, path="/payments", method="GET")
    report = one_pass(polling, project)
    assert not report.errors and report.retries >= 2
    assert row(session, Payment).provider_payment_id == paid.payment_id
