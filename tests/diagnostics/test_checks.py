from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import TEST_KEY
from tests.attribution.journeys import Browser, pay
from tests.conftest import Project
from tests.factories import make_link
from tests.support.dodo import Bantico


def checks(client: Any, project: Project, **params: str) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/diagnostics", headers=project.headers, params=params)
    assert response.status_code == 200, response.text
    return {check["id"]: check for check in response.json()["checks"]}


def test_a_new_project_is_told_what_to_do(project: Project) -> None:
    found = checks(project.client, project)
    assert found["dodo_connected"]["status"] == "fail"
    assert "bantico dodo connect" in found["dodo_connected"]["fix"]
    assert found["loader"]["status"] == "fail" and "snippet" in found["loader"]["fix"]
    assert found["metadata"]["status"] == "warn"


def test_a_healthy_and_a_leaky_setup(
    bantico: Bantico, project: Project, session: Session, emulator: RunningEmulator
) -> None:
    assert (
        bantico.client.put(
            "/api/v1/integrations/dodo", headers=project.headers, json={"apiKey": TEST_KEY}
        ).status_code
        == 200
    )
    link = make_link(session, project_id=project.id, key="dm")
    session.commit()
    browser = Browser(project, "v_diag_000001")
    browser.click("dm")
    browser.identify("ok@example.com")
    pay(
        session,
        project,
        "pay_ok",
        mode="test",
        metadata={"linkId": link.id},
        customer={"customer_id": "cus_ok", "email": "ok@example.com", "name": "Ok"},
    )
    found = checks(bantico.client, project)
    assert {k: c["status"] for k, c in found.items()} == {
        "dodo_connected": "pass",
        "webhooks": "pass",
        "metadata": "pass",
        "metadata_matches": "pass",
        "loader": "pass",
        "identify": "pass",
        "foreign_ids": "pass",
    }

    pay(
        session,
        project,
        "pay_bad",
        mode="test",
        metadata={"linkId": "lnk_typo"},
        customer={"customer_id": "cus_x", "email": "x@example.com", "name": "X"},
    )
    pay(
        session,
        project,
        "pay_none",
        mode="test",
        metadata={},
        customer={"customer_id": "cus_y", "email": "y@example.com", "name": "Y"},
    )
    found = checks(bantico.client, project)
    assert found["metadata"]["status"] == "warn"
    assert "2 of 3 payments" in found["metadata"]["detail"]
    assert found["metadata_matches"]["status"] == "warn"
    assert "lnk_typo" in found["metadata_matches"]["detail"]
    assert found["identify"]["status"] == "warn"
    assert "2 of 3" in found["identify"]["detail"]

    emulator.state.revoke_key(TEST_KEY)
    found = checks(bantico.client, project)
    assert found["dodo_connected"]["status"] == "fail"
    assert "revoked" in found["dodo_connected"]["detail"]
