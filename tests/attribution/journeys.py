"""Realistic journeys: a browser clicks links and lands (through the real endpoints), then Dodo
reports a payment (through the real webhook parser and payment service)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.attribution.models import Attribution, Credit
from bantico.integrations.dodo import payloads
from bantico.payments import service
from bantico.payments.models import Payment
from bantico.tracking.models import Touch
from tests.conftest import Project
from tests.integrations.dodo import support

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


class Browser:
    """One visitor's browser, as the loader would report it."""

    def __init__(self, project: Project, visitor_id: str) -> None:
        self.project, self.visitor_id = project, visitor_id
        self.session_id = f"s_{visitor_id}_1"
        self.context: dict[str, Any] | None = None
        self.visits = 1

    def send(self, name: str = "page_view", **fields: Any) -> dict[str, Any]:
        body = {
            "token": self.project.token,
            "name": name,
            "visitorId": self.visitor_id,
            "sessionId": self.session_id,
            "url": "https://shop.example/",
            "context": self.context,
            **fields,
        }
        response = self.project.client.post("/api/collect", content=json.dumps(body))
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if "context" in answer:
            self.context = answer["context"]
        return answer

    def click(self, key: str) -> None:
        location = self.project.client.get(
            f"/l/{key}", headers={"User-Agent": BROWSER}, follow_redirects=False
        ).headers["location"]
        query = parse_qs(urlsplit(location).query)
        self.send(clickId=query["bantico_click"][0], linkId=query["bantico_link"][0])

    def new_session(self) -> None:
        self.visits += 1
        self.session_id = f"s_{self.visitor_id}_{self.visits}"

    def identify(self, email: str) -> None:
        self.send("identify", user={"email": email})


def age_touches(session: Session, visitor_id: str, days: float) -> None:
    """Move this visitor's touches back in time."""
    for touch in session.execute(select(Touch).where(Touch.visitor_id == visitor_id)).scalars():
        touch.occurred_at -= timedelta(days=days)
    session.commit()


def pay(
    session: Session,
    project: Project,
    payment_id: str,
    *,
    mode: str = "live",
    at: datetime | None = None,
    **fields: Any,
) -> Payment:
    at = at or datetime.now(UTC) + timedelta(seconds=1)
    data = support.payment(payment_id, created_at=at.isoformat(), **fields)
    payment = service.store_payment(
        session, project.id, payloads.payment(data, mode), via="webhook"
    )
    session.commit()
    return payment


def attribution_of(session: Session, payment: Payment) -> Attribution:
    session.expire_all()
    found = session.get(Attribution, payment.id)
    assert found is not None
    return found


def credits(session: Session, payment: Payment, model: str) -> list[tuple[float, str | None]]:
    session.expire_all()
    rows = session.execute(
        select(Credit).where(Credit.payment_id == payment.id, Credit.model == model)
    ).scalars()
    return sorted((round(c.weight, 4), c.link_id or c.source) for c in rows)
