"""The generator, small, against a Bantico served on a real port and the Dodo emulator: webhooks
really flow, and every report has something to show."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.demo.history import DemoProject, History, generate_history
from bantico.payments.models import Payment
from bantico.tracking.models import Event, Identity, Touch, Visitor, VisitSession
from bantico_emulators.dodo.server import RunningEmulator
from tests.conftest import Project
from tests.support.dodo import Bantico


def test_a_small_history(
    bantico: Bantico, emulator: RunningEmulator, project: Project, session: Session
) -> None:
    """One history (generating takes seconds), looked at from three sides."""
    demo = DemoProject(project.id, project.token, project.secret_key)
    history = generate_history(
        bantico.app.state.sessionmaker, bantico.client, emulator.state, demo, visitors=30, seed=3
    )
    reports_are_populated(history, bantico, project, emulator)
    each_payment_explains_itself(history, bantico, project)
    everything_happened_in_the_past_before_it_was_paid_for(history, session, project)


def get(bantico: Bantico, project: Project, path: str, **params: Any) -> Any:
    response = bantico.client.get(path, params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    return response.json()


def reports_are_populated(
    history: History, bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    since = history.plan.start.isoformat()
    report = get(
        bantico, project, "/api/v1/reports/attribution", groupBy="campaign", **{"from": since}
    )
    rows = {row["label"]: row for row in report["rows"]}
    earning = [r for label, r in rows.items() if label != "Unattributed" and r["net"]["amount"] > 0]
    assert len(earning) >= 3, rows.keys()
    assert rows["Unattributed"]["payments"] > 0
    [total] = report["totals"]
    assert total["refunded"]["amount"] > 0 and total["clicks"] > 0 and total["signups"] > 0
    # Some buyers came back through another campaign's link: first and last touch disagree.
    first = get(
        bantico,
        project,
        "/api/v1/reports/attribution",
        groupBy="campaign",
        model="first_touch",
        **{"from": since},
    )
    assert {r["label"]: r["payments"] for r in first["rows"]} != {
        label: r["payments"] for label, r in rows.items()
    }
    links = get(bantico, project, "/api/v1/reports/attribution", groupBy="link", **{"from": since})
    assert any(row["label"].startswith("/l/") and row["payments"] for row in links["rows"])

    test_mode = get(bantico, project, "/api/v1/reports/attribution", mode="test", **{"from": since})
    assert [t["payments"] for t in test_mode["totals"]] == [2]

    funnel = get(bantico, project, "/api/v1/reports/funnel", **{"from": since})
    assert all(step["visitors"] > 0 for step in funnel["steps"]), funnel["steps"]
    weeks = get(bantico, project, "/api/v1/reports/timeseries", interval="week", **{"from": since})
    assert sum(1 for point in weeks["points"] if point["clicks"]) >= 4

    status = get(bantico, project, "/api/v1/integrations/dodo")
    assert status["mode"] == "live" and status["webhook"]["state"] == "registered"
    assert status["webhook"]["failures"] == 0 and status["counts"]["disputes"] == 1
    assert all(attempt.ok for attempt in emulator.state.deliveries.attempts())


def each_payment_explains_itself(history: History, bantico: Bantico, project: Project) -> None:
    since = history.plan.start.isoformat()
    listed = get(bantico, project, "/api/v1/payments", limit=500, **{"from": since})["items"]
    # Declined renewals are stored too (status failed), and kept out of revenue.
    assert len(listed) == sum(s.mode == "live" for s in history.plan.sales) + sum(
        a.kind in ("renew", "renew_declined") for a in history.plan.after_sales
    )
    assert sum(not p["countsAsRevenue"] for p in listed) == sum(
        a.kind == "renew_declined" for a in history.plan.after_sales
    )
    methods = Counter(p["attribution"]["method"] for p in listed)
    assert methods["metadata"] and methods["session"] and methods["identify"] and methods["none"]
    details = [get(bantico, project, f"/api/v1/payments/{p['paymentId']}") for p in listed]
    explained = ["\n".join(d["explanation"]) for d in details]
    assert all(text.startswith("Payment pay_") for text in explained)
    assert any("Attributed from the Dodo payment metadata to link" in t for t in explained)
    assert any("renewal of subscription" in t for t in explained)
    assert any("It is unattributed" in t for t in explained)
    assert any("late identify()" in t and "Attribution ran 2 times" in t for t in explained)
    refunds = [r for d in details for r in d["refunds"]]
    assert {r["isPartial"] for r in refunds} == {True, False}
    assert [d["subtracted"] for p in details for d in p["disputes"]] == [True]


def everything_happened_in_the_past_before_it_was_paid_for(
    history: History, session: Session, project: Project
) -> None:
    plan = history.plan
    for model, column in (
        (Event, Event.occurred_at),
        (Event, Event.received_at),
        (Touch, Touch.occurred_at),
        (Visitor, Visitor.last_seen_at),
        (VisitSession, VisitSession.started_at),
        (Identity, Identity.created_at),
    ):
        low, high = session.execute(
            select(func.min(column), func.max(column)).where(model.project_id == project.id)
        ).one()
        assert plan.start - (plan.end - plan.start) / 10 < low and high <= plan.end, model
    moments = session.execute(select(Event.occurred_at).where(Event.project_id == project.id))
    assert len({moment.date() for moment in moments.scalars()}) >= 10
    paid = {
        p.provider_payment_id: p.created_at
        for p in session.execute(select(Payment).where(Payment.project_id == project.id)).scalars()
    }
    assert all(plan.start <= moment <= plan.end for moment in paid.values())
    for sale in plan.sales:
        if sale.visitor is None:
            continue
        touches = (
            session.execute(select(Touch.occurred_at).where(Touch.visitor_id == sale.visitor.id))
            .scalars()
            .all()
        )
        assert all(moment < paid[history.payments[sale.ref]] for moment in touches)
