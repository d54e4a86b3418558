"""Settings → Integrations → Dodo Payments, against the Dodo emulator."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime, timedelta

import pytest
from dodopayments import DodoPayments
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.dashboard import jobs
from bantico.dashboard.models import DashboardJob
from bantico.db import utcnow
from bantico.integrations.dodo.models import DodoIntegration
from bantico.integrations.dodo.sync import run_sync
from bantico.kit.crypto import decrypt
from bantico.kit.leases import acquire, release
from bantico_emulators.dodo import billing, checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import (
    INVALID_KEY,
    ONE_TIME_PRODUCT_ID,
    TEST_KEY,
    TEST_READ_ONLY_KEY,
)
from tests.conftest import Project
from tests.dashboard.conftest import Admin, csrf_of, log_in, post_form
from tests.integrations.dodo import support
from tests.support.dodo import Bantico


@pytest.fixture
def dash(bantico: Bantico, admin: Admin, project: Project) -> TestClient:
    """The emulator-wired Bantico's client, logged in."""
    assert log_in(bantico.client).status_code == 303
    return bantico.client


def page_url(project: Project) -> str:
    return f"/app/p/{project.id}/settings/integrations/dodo"


def connect(dash: TestClient, project: Project, key: str) -> TestClient:
    response = post_form(dash, page_url(project), api_key=key)
    assert response.status_code == 303, response.text
    return dash


def pay(emulator: RunningEmulator) -> None:
    with DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url) as sdk:
        created = sdk.checkout_sessions.create(
            product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
            customer={"email": "jane@example.com"},
            metadata={"linkId": "", "source": "newsletter"},
        )
    checkouts.complete_checkout(emulator.state, created.session_id)


def wait_for_sync(dash: TestClient, project: Project, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        partial = dash.get(page_url(project) + "/sync").text
        if 'hx-trigger="every 1s"' not in partial:  # no job running (a backfill polls slower)
            return partial
        assert time.monotonic() < deadline, partial
        time.sleep(0.1)


def test_a_rejected_key_is_explained_and_nothing_is_saved(
    dash: TestClient, project: Project, session: Session
) -> None:
    page = dash.get(page_url(project))
    assert page.status_code == 200 and "Connect Dodo Payments" in page.text
    response = post_form(dash, page_url(project), api_key=INVALID_KEY)
    assert response.status_code == 422
    assert 'id="f-api_key-error">Dodo rejected this API key in both test and live mode.' in (
        response.text
    )
    assert INVALID_KEY not in response.text
    empty = post_form(dash, page_url(project), api_key="  ")
    assert (
        empty.status_code == 422
        and "the API key is empty: paste your Dodo Payments API key" in empty.text
    )
    assert session.execute(select(DodoIntegration)).first() is None


def test_connect_registers_the_webhook_and_shows_the_connection(
    dash: TestClient, bantico: Bantico, project: Project
) -> None:
    connect(dash, project, TEST_KEY)
    page = dash.get(page_url(project)).text
    assert "Connected to Dodo Payments in test mode. Dodo will send payments" in page
    assert "<strong>test</strong> mode" in page
    assert "Registered</span> at <code>" in page
    assert f"{bantico.url}/webhooks/dodo/{project.id}" in page
    assert "Last webhook</dt><dd>never" in page
    assert TEST_KEY not in page and f"…{TEST_KEY[-4:]}" in page
    settings = dash.get(f"/app/p/{project.id}/settings").text
    assert "Connected in <strong>test</strong> mode" in settings


def test_a_read_only_key_means_polling_with_the_reason(dash: TestClient, project: Project) -> None:
    connect(dash, project, TEST_READ_ONLY_KEY)
    page = dash.get(page_url(project)).text
    assert "Polling only</span>" in page
    assert "the API key is read-only" in page
    assert "Payments will arrive by polling" in page


def test_sync_now_runs_in_the_background_with_progress(
    dash: TestClient, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect(dash, project, TEST_READ_ONLY_KEY)  # polling only: the sync finds the payment
    pay(emulator)
    assert "Last sync: never" in dash.get(page_url(project)).text
    token = csrf_of(dash.get(page_url(project)))
    started = dash.post(
        page_url(project) + "/sync", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert started.status_code == 200
    assert "<html" not in started.text  # a partial for htmx
    done = wait_for_sync(dash, project)
    assert "Sync finished" in done
    assert "Checked 1 payment (1 new), 0 refunds and 0 disputes." in done
    assert "Last sync: <time" in done
    job = session.execute(select(DashboardJob)).scalar_one()
    assert (job.state, job.progress["paymentsStored"]) == ("done", 1)
    page = dash.get(page_url(project)).text
    assert "1 payments, 0 refunds, 0 disputes" in page
    # Without htmx the form still works: a redirect back to the page.
    again = post_form(dash, page_url(project), page_url(project) + "/sync")
    assert again.status_code == 303
    assert "Checked 1 payment (0 new)" in wait_for_sync(dash, project)


def test_a_failed_sync_says_why(
    dash: TestClient, project: Project, emulator: RunningEmulator
) -> None:
    connect(dash, project, TEST_READ_ONLY_KEY)
    emulator.state.revoke_key(TEST_READ_ONLY_KEY)
    post_form(dash, page_url(project), page_url(project) + "/sync")
    partial = wait_for_sync(dash, project)
    assert "The last sync failed:" in partial


def test_sync_needs_a_connection(dash: TestClient, project: Project) -> None:
    response = post_form(dash, page_url(project), page_url(project) + "/sync")
    assert response.status_code == 303
    assert "Connect Dodo Payments before syncing." in dash.get(page_url(project)).text


def test_disconnect_removes_the_webhook(
    dash: TestClient, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect(dash, project, TEST_KEY)
    assert emulator.state.ledger(mode="test").webhooks
    response = post_form(dash, page_url(project), page_url(project) + "/disconnect")
    assert response.status_code == 303
    page = dash.get(page_url(project)).text
    assert "Disconnected Dodo Payments. Payments already stored are kept." in page
    assert "Connect Dodo Payments" in page
    assert not emulator.state.ledger(mode="test").webhooks
    assert session.execute(select(DodoIntegration)).first() is None


def test_sync_now_waits_for_the_periodic_sync(
    dash: TestClient, project: Project, session: Session
) -> None:
    connect(dash, project, TEST_READ_ONLY_KEY)
    lease = f"dodo-sync:{project.id}"
    assert acquire(session, lease, "reconciler", timedelta(minutes=5))
    session.commit()
    post_form(dash, page_url(project), page_url(project) + "/sync")
    deadline = time.monotonic() + 10
    while "Waiting for the sync already running" not in dash.get(page_url(project) + "/sync").text:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    release(session, lease, "reconciler")
    session.commit()
    assert "Sync finished" in wait_for_sync(dash, project)


def test_a_sync_whose_process_died_can_be_started_again(
    dash: TestClient, project: Project, session: Session
) -> None:
    connect(dash, project, TEST_READ_ONLY_KEY)
    stale = utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)
    session.add(
        DashboardJob(
            id="job_dead",
            project_id=project.id,
            kind=jobs.DODO_SYNC,
            state="running",
            stage="payments",
            progress={},
            started_at=stale,
            updated_at=stale,
        )
    )
    session.commit()
    partial = dash.get(page_url(project) + "/sync").text
    assert "stopped without finishing" in partial and "every 1s" not in partial
    post_form(dash, page_url(project), page_url(project) + "/sync")
    assert "Sync finished" in wait_for_sync(dash, project)


def test_the_page_shows_the_backfill_and_what_dodo_did_not_answer(
    dash: TestClient, bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    now = datetime.now(UTC)
    billing.create_payments(
        emulator.state, 60, start=now - timedelta(days=30), end=now - timedelta(days=1)
    )
    connect(dash, project, TEST_READ_ONLY_KEY)
    factory, settings = bantico.app.state.sessionmaker, bantico.settings
    emulator.state.faults.inject(500, count=1000, path="/disputes", method="GET")
    run_sync(factory, settings, project.id, sleep=lambda _s: None)
    page = html.unescape(dash.get(page_url(project)).text)
    assert "History backfill:</strong> listing history (60 payments, 0 refunds, 0 disputes" in page
    assert "left at 5000 requests a minute" in page
    assert "disputes: Dodo failed to list disputes (500)" in page

    emulator.state.faults.clear()
    run_sync(factory, settings, project.id, sleep=lambda _s: None, budget=None)
    page = html.unescape(dash.get(page_url(project)).text)
    assert "History backfill" not in page and "failed to list" not in page
    assert "60 payments, 0 refunds, 0 disputes" in page


def test_rejected_deliveries_are_shown_with_their_reason_and_can_be_replayed(
    dash: TestClient, bantico: Bantico, project: Project, session: Session
) -> None:
    connect(dash, project, TEST_KEY)
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None and integration.webhook_secret_encrypted
    secret = decrypt(bantico.settings.secret_key, integration.webhook_secret_encrypted)
    body = support.envelope("refund.succeeded", support.refund(amount=-100000))
    response = dash.post(
        f"/webhooks/dodo/{project.id}", content=body, headers=support.headers(secret, body)
    )
    assert response.status_code == 400
    page = html.unescape(dash.get(page_url(project)).text)
    assert "Webhook deliveries not handled" in page and "refund.succeeded" in page
    assert "amount -100000 is not an amount" in page
    replayed = post_form(dash, page_url(project), page_url(project) + "/replay")
    assert replayed.status_code == 303
    page = html.unescape(dash.get(page_url(project)).text)
    assert "Replayed 1 deliveries: 0 handled now, 1 still not." in page
