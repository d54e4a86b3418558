"""Fixtures for the Dodo emulator and a Bantico served on a real port (a pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bantico.app import create_app
from bantico.config import Settings
from bantico.integrations.dodo.sync import SyncReport, run_sync
from bantico_emulators.dodo.options import EmulatorOptions
from bantico_emulators.dodo.ratelimit import TIER_2
from bantico_emulators.dodo.server import RunningEmulator, run_emulator
from bantico_emulators.dodo.state import EmulatorState
from tests.support.servers import serve


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    # Dodo's retry schedule, a thousand times faster; Dodo's Tier 2 rate limit (the tests of the
    # limit itself pick Tier 0) and its page-number cap.
    options = EmulatorOptions(time_scale=0.001, rate_limit=TIER_2)
    with EmulatorState(options) as state, run_emulator(state) as running:
        yield running


@dataclass
class Bantico:
    """Bantico served on a real port, so that the emulator can deliver webhooks to it."""

    url: str
    app: FastAPI
    settings: Settings
    client: TestClient


@pytest.fixture
def bantico(emulator: RunningEmulator, settings: Settings, engine: Engine) -> Iterator[Bantico]:
    made: dict[str, FastAPI] = {}

    def make_app(base_url: str) -> FastAPI:
        live = settings.model_copy(
            update={
                "public_url": base_url,
                "dodo_test_url": emulator.test_url,
                "dodo_live_url": emulator.live_url,
            }
        )
        made["app"] = create_app(live, engine=engine)
        return made["app"]

    with serve(make_app) as url:
        app = made["app"]
        with TestClient(app) as client:
            yield Bantico(url, app, app.state.settings, client)


def connect_with(bantico: Bantico, project: Any, key: str) -> dict[str, Any]:
    """Connect the project with `key` through the API; the status it answers."""
    response = bantico.client.put(
        "/api/v1/integrations/dodo", headers=project.headers, json={"apiKey": key}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def one_pass(bantico: Bantico, project: Any, **kwargs: Any) -> SyncReport:
    """One reconciliation pass, without waiting between retries (unless given a `sleep`)."""
    kwargs.setdefault("sleep", lambda _s: None)
    return run_sync(bantico.app.state.sessionmaker, bantico.settings, project.id, **kwargs)
