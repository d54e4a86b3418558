"""`bantico dodo …` in the terminal: connect with a backfill and its progress, status with the
backfill and the errors in words, sync."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bantico.cli import app
from bantico.config import get_settings
from bantico.payments.models import Payment
from bantico_emulators.dodo import billing
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import TEST_READ_ONLY_KEY
from tests.conftest import Project

runner = CliRunner()


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str, emulator: RunningEmulator
) -> Iterator[None]:
    monkeypatch.setenv("BANTICO_DATABASE_URL", database_url)
    monkeypatch.setenv("BANTICO_SECRET_KEY", "test-secret-key-not-for-production")
    monkeypatch.setenv("BANTICO_DODO_TEST_URL", emulator.test_url)
    monkeypatch.setenv("BANTICO_DODO_LIVE_URL", emulator.live_url)
    monkeypatch.setenv("BANTICO_DODO_RATE_PER_MINUTE", "5000")
    monkeypatch.setenv("BANTICO_DODO_RATE_BURST", "500")
    monkeypatch.delenv("BANTICO_PUBLIC_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_connect_backfills_and_status_tells_how_far(
    cli_env: None, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    now = datetime.now(UTC)
    made = billing.create_payments(
        emulator.state, 130, start=now - timedelta(days=40), end=now - timedelta(days=1)
    )
    out = run("dodo", "connect", "--api-key", TEST_READ_ONLY_KEY, "--project", project.id)
    assert "connected in test mode" in out and "polling only" in out
    assert "stored 130 payments" in out
    assert len(session.execute(select(Payment)).scalars().all()) == len(made)

    status = run("dodo", "status", "--project", project.id)
    assert "backfill    complete" in status and "5000 requests a minute" in status
    # Times to the minute with how long ago; counts in words.
    assert re.search(r"last sync   \d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\)", status)
    assert "last webhook never" in status
    assert "stored      130 payments, 0 refunds, 0 disputes, 0 webhook messages" in status
    assert "webhookMessages" not in status

    # A 4xx answer is not retried (the back-off of 5xx answers is tested with the pass itself).
    emulator.state.faults.inject(400, count=1000, path="/refunds", method="GET")
    out = run("dodo", "sync", "--project", project.id, "--since", "30d")
    assert "refunds: Dodo answered 400 to list refunds" in out
    status = run("dodo", "status", "--project", project.id)
    assert "error       refunds: Dodo answered 400 to list refunds" in status
    assert "every webhook delivery was handled" in run("dodo", "inbox", "--project", project.id)
