from __future__ import annotations

from typing import Any

import pytest
from dodopayments import DodoPayments
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.integrations.dodo.models import DodoIntegration
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import (
    INVALID_KEY,
    LIVE_KEY,
    TEST_KEY,
    TEST_READ_ONLY_KEY,
)
from tests.conftest import Project
from tests.support.dodo import Bantico


def put(bantico: Bantico, project: Project, key: str) -> Any:
    return bantico.client.put(
        "/api/v1/integrations/dodo", headers=project.headers, json={"apiKey": key}
    )


def endpoints(emulator: RunningEmulator, key: str = TEST_KEY) -> list[Any]:
    with DodoPayments(bearer_token=key, base_url=emulator.test_url) as sdk:
        return list(sdk.webhooks.list().data)


def test_test_key_connects_in_test_mode_and_registers_webhook(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    response = put(bantico, project, TEST_KEY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["connected"], body["mode"], body["keyLast4"]) == (True, "test", TEST_KEY[-4:])
    assert body["webhook"]["state"] == "registered" and body["webhook"]["reason"] is None
    assert TEST_KEY not in response.text
    [endpoint] = endpoints(emulator)
    assert endpoint.url == f"{bantico.url}/webhooks/dodo/{project.id}"
    assert "payment.succeeded" in (endpoint.filter_types or [])
    integration = session.execute(select(DodoIntegration)).scalar_one()
    assert TEST_KEY not in integration.api_key_encrypted
    assert (
        integration.webhook_secret_encrypted
        and "whsec_" not in integration.webhook_secret_encrypted
    )
    status = bantico.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status["mode"] == "test" and TEST_KEY not in str(status)
    assert status["sync"]["backfillPending"] is True


def test_live_key_connects_in_live_mode(bantico: Bantico, project: Project) -> None:
    assert put(bantico, project, LIVE_KEY).json()["mode"] == "live"


def test_reconnecting_reuses_the_endpoint(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    put(bantico, project, TEST_KEY)
    put(bantico, project, TEST_KEY)
    assert len(endpoints(emulator)) == 1


def test_read_only_key_falls_back_to_polling(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    body = put(bantico, project, TEST_READ_ONLY_KEY).json()
    assert (body["connected"], body["mode"]) == (True, "test")
    assert body["webhook"]["state"] == "polling_only"
    assert "read-only" in body["webhook"]["reason"]
    assert endpoints(emulator) == []


def test_invalid_key_is_refused_and_nothing_saved(
    bantico: Bantico, project: Project, session: Session
) -> None:
    response = put(bantico, project, INVALID_KEY)
    assert response.status_code == 422
    assert "rejected this API key" in response.json()["error"]["message"]
    assert session.execute(select(DodoIntegration)).first() is None
    blank = put(bantico, project, "   ")
    assert blank.status_code == 422


def test_dodo_unreachable_means_try_again(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    emulator.state.faults.inject(503, count=2, path="/payments")
    response = put(bantico, project, TEST_KEY)
    assert response.status_code == 503
    assert "try again" in response.json()["error"]["message"]
    assert session.execute(select(DodoIntegration)).first() is None


def test_no_public_url_means_polling(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    bantico.settings.public_url = None
    try:
        body = put(bantico, project, TEST_KEY).json()
    finally:
        bantico.settings.public_url = bantico.url
    assert body["webhook"]["state"] == "polling_only"
    assert "BANTICO_PUBLIC_URL" in body["webhook"]["reason"]
    assert endpoints(emulator) == []


def test_failed_registration_means_polling(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    emulator.state.faults.inject(500, count=3, path="/webhooks", method="GET")
    body = put(bantico, project, TEST_KEY).json()
    assert body["webhook"]["state"] == "polling_only"
    assert "registration failed" in body["webhook"]["reason"]


def test_disconnect_removes_the_endpoint(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    put(bantico, project, TEST_KEY)
    response = bantico.client.delete("/api/v1/integrations/dodo", headers=project.headers)
    assert response.json() == {"disconnected": True, "webhookRemoved": True, "note": None}
    assert endpoints(emulator) == []
    status = bantico.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status == {"connected": False}
    again = bantico.client.delete("/api/v1/integrations/dodo", headers=project.headers)
    assert again.status_code == 404


@pytest.mark.parametrize("key", ["sk_tëst_key", "sk test key", "ключ"])
def test_a_key_with_characters_no_dodo_key_has_is_422(
    bantico: Bantico, project: Project, key: str
) -> None:
    response = put(bantico, project, key)
    assert response.status_code == 422, response.text
    assert "characters a Dodo API key never has" in response.text
