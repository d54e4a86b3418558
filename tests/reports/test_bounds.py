"""Every report request is bounded: dates in a sane calendar range, at most five years at once,
a clear 422 otherwise — never a 500, never a request that takes the server down."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Project


@pytest.mark.parametrize("report", ["attribution", "timeseries", "funnel"])
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("from=0001-01-01", "from must be between 2000-01-01 and 2100-01-01"),
        ("to=0001-01-01", "to must be between"),
        ("to=9999-12-31", "to must be between"),
        ("from=2001-01-01&to=2099-01-01", "at most 1830 days"),
        ("from=2026-01-02&to=2026-01-01", "from must be before to"),
    ],
)
def test_out_of_bounds_ranges_are_422(
    project: Project, report: str, query: str, reason: str
) -> None:
    started = time.monotonic()
    for fmt in ("json", "csv"):
        response = project.client.get(
            f"/api/v1/reports/{report}?{query}&format={fmt}", headers=project.headers
        )
        assert response.status_code == 422, response.text
        assert reason in response.json()["error"]["message"]
    assert time.monotonic() - started < 2


def test_five_years_is_answered(project: Project) -> None:
    response = project.client.get(
        "/api/v1/reports/timeseries?from=2021-06-01&to=2026-06-01&interval=month",
        headers=project.headers,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "cursor", ["99999999999999999999999", "-1", "12a", "١٢", "9223372036854775808"]
)
def test_payment_cursors_are_checked(project: Project, cursor: str) -> None:
    response = project.client.get(f"/api/v1/payments?cursor={cursor}", headers=project.headers)
    assert response.status_code == 422 and "cursor" in response.text
