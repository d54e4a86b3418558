"""The install page: the loader with the project's token, and checkout examples that really
work with the current Dodo SDK (the Python one is run against the Dodo emulator)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bantico.dashboard import snippets
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import ONE_TIME_PRODUCT_ID, TEST_KEY
from tests.conftest import Project


def code_blocks(page: str) -> dict[str, str]:
    blocks = re.findall(r'<pre id="([\w-]+)" tabindex="0"><code>(.*?)</code></pre>', page, re.S)
    return {name: html.unescape(text) for name, text in blocks}


def test_install_page_has_the_token_in_both_loader_forms(
    signed_in: TestClient, project: Project
) -> None:
    page = signed_in.get(f"/app/p/{project.id}/install")
    assert page.status_code == 200
    blocks = code_blocks(page.text)
    base = "https://bnt.example"  # BANTICO_PUBLIC_URL
    assert blocks["snippet-loader"] == (
        f'<script>window.BANTICO_TOKEN = "{project.token}";</script>\n'
        f'<script src="{base}/bantico.js" defer></script>'
    )
    consent = blocks["snippet-consent"]
    assert f'window.BANTICO_TOKEN = "{project.token}";' in consent
    assert f'script.src = "{base}/bantico.js";' in consent
    assert "function loadBantico()" in consent
    for name in ("snippet-browser", "snippet-python", "snippet-typescript"):
        assert name in blocks
    assert "bantico.context()" in blocks["snippet-browser"]
    assert "client.checkoutSessions.create({" in blocks["snippet-typescript"]
    assert "dodo.checkout_sessions.create(" in blocks["snippet-python"]
    for field in snippets.CONTEXT_FIELDS:
        assert field in blocks["snippet-python"] and field in blocks["snippet-typescript"]


def test_the_python_checkout_example_runs_against_dodo(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example as shown, pointed at the emulator instead of Dodo's test host."""
    code = snippets.PYTHON.replace('environment="test_mode"', f'base_url="{emulator.test_url}"')
    assert code != snippets.PYTHON
    monkeypatch.setenv("DODO_PAYMENTS_API_KEY", TEST_KEY)
    namespace: dict[str, Any] = {"__name__": "shop"}
    exec(compile(code, "checkout_example.py", "exec"), namespace)
    shop: FastAPI = namespace["app"]
    context = {"linkId": "lnk_1", "source": "linkedin", "visitorId": "v1", "sessionId": None}
    with TestClient(shop) as client:
        response = client.post(
            "/api/checkout",
            json={
                "product_id": ONE_TIME_PRODUCT_ID,
                "email": "ada@example.com",
                "context": context,
            },
        )
        no_context = client.post(
            "/api/checkout", json={"product_id": ONE_TIME_PRODUCT_ID, "email": "bo@example.com"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["checkout_url"]
    assert no_context.status_code == 200, no_context.text
    checkouts = emulator.state.ledger(mode="test").checkouts.values()
    by_email = {checkout.customer_email: checkout for checkout in checkouts}
    assert by_email["ada@example.com"].metadata == {
        "linkId": "lnk_1",
        "campaignId": "",
        "source": "linkedin",
        "medium": "",
        "content": "",
        "leadId": "",
        "visitorId": "v1",
        "sessionId": "",
    }
    assert set(by_email["bo@example.com"].metadata.values()) == {""}
