"""`traffic_source`: a report test using it runs twice, once with the rollups empty (every
count read from `events`), once with them caught up just before each report reads them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bantico.reports import funnel, rollup, traffic


@pytest.fixture(params=["events", "rollup"])
def traffic_source(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "rollup":

        def caught_up(session: Session) -> int:
            rollup.catch_up_batch(session, lag_seconds=0, batch=1_000_000)
            return rollup.watermark(session)

        monkeypatch.setattr(traffic, "watermark", caught_up)
        monkeypatch.setattr(funnel, "watermark", caught_up)
    return str(request.param)
