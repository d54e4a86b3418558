"""A request that fails unexpectedly is one log line (request id, route, exception type) and a
500 carrying the same id; never the SQL statement, its parameters or a secret."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy.exc import DataError, OperationalError

from bantico.kit import request_log
from bantico.payments import routes as payment_routes
from tests.conftest import Project

STATEMENT = "SELECT * FROM payments WHERE customer_email = 'jane@example.com' -- bsk_secret"


class Driver(Exception):
    pass


def failing(error: Exception) -> Any:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    return fail


def test_an_unexpected_error_is_one_line_and_a_500_with_its_id(
    project: Project, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    error = DataError(STATEMENT, {"email": "jane@example.com"}, Driver("value out of range"))
    monkeypatch.setattr(payment_routes.queries, "list_payments", failing(error))
    with caplog.at_level(logging.INFO):
        response = project.client.get(
            "/api/v1/payments", headers={**project.headers, "X-Request-ID": "req-abc-123"}
        )
    assert response.status_code == 500
    assert response.json()["error"]["requestId"] == "req-abc-123"
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.getMessage() == (
        "request.failed id=req-abc-123 method=GET route=/api/v1/payments error=DataError"
    )
    assert line.exc_info is None
    assert "jane@example.com" not in caplog.text and "SELECT" not in caplog.text


def test_a_database_outage_is_one_line_and_a_503(
    project: Project, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    error = OperationalError(STATEMENT, {"email": "jane@example.com"}, Driver("connection lost"))
    monkeypatch.setattr(payment_routes.queries, "list_payments", failing(error))
    response = project.client.get("/api/v1/payments", headers=project.headers)
    assert response.status_code == 503
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (
        line.getMessage().startswith("db.unavailable id=") and "error=Driver" in line.getMessage()
    )
    assert "SELECT" not in caplog.text and "bsk_secret" not in caplog.text


def test_a_made_up_request_id_is_not_echoed(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_routes.queries, "list_payments", failing(RuntimeError("x")))
    response = project.client.get(
        "/api/v1/payments", headers={**project.headers, "X-Request-ID": "<script>alert(1)"}
    )
    assert response.status_code == 500
    assert "<script>" not in response.text and len(response.json()["error"]["requestId"]) == 16


def test_request_ids_are_16_hex_digits_and_differ() -> None:
    ids = {request_log._new_id() for _ in range(1_000)}
    assert len(ids) == 1_000
    assert all(len(rid) == 16 and int(rid, 16) >= 0 for rid in ids)
    given = request_log._given_id([(b"host", b"x"), (b"x-request-id", b"req-abc-123")])
    assert given == "req-abc-123"
    assert request_log._given_id([(b"x-request-id", b"<script>")]) is None
