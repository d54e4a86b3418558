from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.attribution.service import attribute
from bantico.tracking.models import ForeignId
from tests.attribution.journeys import Browser, age_touches, attribution_of, credits, pay
from tests.conftest import Project
from tests.factories import make_link, make_project


def links(session: Session, project: Project) -> dict[str, str]:
    made = {
        "dm": make_link(
            session,
            project_id=project.id,
            key="dm",
            campaign_id="spring26",
            source="linkedin",
            medium="dm",
            content="hero",
            lead_id="lead_42",
        ),
        "nl": make_link(
            session,
            project_id=project.id,
            key="nl",
            campaign_id="newsletter-11",
            source="newsletter",
            medium="email",
            content=None,
            lead_id=None,
        ),
    }
    session.commit()
    return {key: link.id for key, link in made.items()}


def test_metadata_link_fills_the_rest(project: Project, session: Session) -> None:
    ids = links(session, project)
    payment = pay(session, project, "pay_meta", metadata={"linkId": ids["dm"], "source": ""})
    found = attribution_of(session, payment)
    assert (found.method, found.confidence) == ("metadata", 0.95)
    assert (
        found.link_id,
        found.campaign_id,
        found.source,
        found.medium,
        found.content,
        found.lead_id,
    ) == (ids["dm"], "spring26", "linkedin", "dm", "hero", "lead_42")
    assert found.warnings == []
    [run] = found.trace
    assert run["reason"] == "payment received by webhook"
    assert [s["step"] for s in run["steps"]] == ["metadata", "session", "identify"][
        : len(run["steps"])
    ]
    assert "filled in the campaign, source, medium, content, lead" in run["steps"][0]["detail"]


def test_contradicting_and_unknown_metadata_is_kept_with_warnings(
    project: Project, session: Session
) -> None:
    ids = links(session, project)
    payment = pay(
        session,
        project,
        "pay_warn",
        metadata={"link_id": ids["dm"], "campaignId": "winter", "leadId": 1234},
    )
    found = attribution_of(session, payment)
    assert (found.method, found.campaign_id, found.lead_id) == ("metadata", "winter", "1234")
    assert found.warnings == [
        "metadata campaignId 'winter' differs from the link's campaign 'spring26'",
        "metadata leadId '1234' differs from the link's lead 'lead_42'",
        "metadata campaignId 'winter' names no known campaign",
        "metadata leadId '1234' names no known lead",
    ]
    unknown = pay(session, project, "pay_unknown", metadata={"metadata_linkId": "lnk_nope"})
    found = attribution_of(session, unknown)
    assert (found.method, found.link_id, found.confidence) == ("metadata", "lnk_nope", 0.8)
    assert found.warnings == ["metadata linkId 'lnk_nope' names no known link"]


def test_session_context_through_visitor_id(project: Project, session: Session) -> None:
    ids = links(session, project)
    browser = Browser(project, "v_session_001")
    browser.click("dm")
    age_touches(session, browser.visitor_id, 3)
    payment = pay(
        session,
        project,
        "pay_sess",
        metadata={"visitorId": browser.visitor_id, "linkId": "", "campaignId": ""},
    )
    found = attribution_of(session, payment)
    assert (found.method, found.link_id, found.lead_id) == ("session", ids["dm"], "lead_42")
    assert found.visitor_id == browser.visitor_id and found.confidence == 0.85


def test_session_id_and_window(project: Project, session: Session) -> None:
    links(session, project)
    browser = Browser(project, "v_window_0001")
    browser.click("nl")
    age_touches(session, browser.visitor_id, 31)
    payment = pay(session, project, "pay_old", metadata={"sessionId": browser.session_id})
    found = attribution_of(session, payment)
    assert found.method == "none" and found.visitor_id == browser.visitor_id
    assert "30-day window" in found.trace[0]["steps"][1]["detail"]
    # A touch after the payment does not count either.
    later = Browser(project, "v_after_00001")
    early = pay(
        session,
        project,
        "pay_early",
        metadata={"visitorId": later.visitor_id},
        at=datetime.now(UTC) - timedelta(hours=1),
    )
    later.click("dm")
    assert attribution_of(session, early).method == "none"


def test_renewal_inherits_the_first_payment(project: Project, session: Session) -> None:
    ids = links(session, project)
    first = pay(
        session,
        project,
        "pay_sub1",
        subscription_id="sub_1",
        charge_type="new",
        metadata={"linkId": ids["nl"]},
        at=datetime.now(UTC) - timedelta(days=40),
    )
    renewal = pay(
        session,
        project,
        "pay_sub2",
        subscription_id="sub_1",
        charge_type="renewal",
        metadata={},
        customer={"customer_id": "cus_other", "email": "x@y.z", "name": "X"},
    )
    found = attribution_of(session, renewal)
    assert (found.method, found.link_id, found.campaign_id) == (
        "session",
        ids["nl"],
        "newsletter-11",
    )
    assert "renewal of subscription sub_1" in found.trace[0]["steps"][1]["detail"]
    assert credits(session, renewal, "linear") == credits(session, first, "linear")


def test_earlier_payment_of_the_same_customer(project: Project, session: Session) -> None:
    ids = links(session, project)
    pay(
        session,
        project,
        "pay_c1",
        metadata={"linkId": ids["dm"]},
        at=datetime.now(UTC) - timedelta(days=2),
    )
    second = pay(session, project, "pay_c2", metadata={})
    found = attribution_of(session, second)
    assert (found.method, found.link_id, found.confidence) == ("session", ids["dm"], 0.76)


def test_identify_matches_email_case_insensitively(project: Project, session: Session) -> None:
    ids = links(session, project)
    browser = Browser(project, "v_identify_01")
    browser.click("nl")
    browser.identify("  Jane@Example.COM ")
    payment = pay(
        session,
        project,
        "pay_email",
        metadata={},
        customer={"customer_id": "cus_new", "email": "jane@example.com ", "name": "Jane"},
    )
    found = attribution_of(session, payment)
    assert (found.method, found.link_id, found.confidence) == ("identify", ids["nl"], 0.6)


def test_late_identify_re_resolves_and_keeps_the_trace(project: Project, session: Session) -> None:
    ids = links(session, project)
    browser = Browser(project, "v_late_000001")
    browser.click("dm")
    payment = pay(
        session,
        project,
        "pay_late",
        metadata={},
        customer={"customer_id": "cus_late", "email": "late@example.com", "name": "L"},
    )
    assert attribution_of(session, payment).method == "none"
    browser.identify("LATE@example.com")
    found = attribution_of(session, payment)
    assert (found.method, found.link_id) == ("identify", ids["dm"])
    assert [run["reason"] for run in found.trace] == [
        "payment received by webhook",
        "late identify() of late@example.com",
    ]


def test_late_lead_re_resolves(project: Project, session: Session) -> None:
    payment = pay(session, project, "pay_lead", metadata={"leadId": "lead_new"})
    assert attribution_of(session, payment).warnings == [
        "metadata leadId 'lead_new' names no known lead"
    ]
    make_link(session, project_id=project.id, key="x", lead_id="lead_new")
    session.commit()
    found = attribution_of(session, payment)
    assert found.warnings == [] and len(found.trace) == 2
    assert found.trace[1]["reason"] == "lead lead_new created"


def test_models_share_credit_across_touches(project: Project, session: Session) -> None:
    ids = links(session, project)
    browser = Browser(project, "v_models_0001")
    browser.send(utm={"source": "twitter", "medium": "social"})
    age_touches(session, browser.visitor_id, 10)
    browser.new_session()
    browser.click("nl")
    age_touches(session, browser.visitor_id, 2)
    browser.new_session()
    browser.click("dm")
    payment = pay(
        session,
        project,
        "pay_models",
        metadata={**(browser.context or {}), "visitorId": browser.visitor_id},
    )
    found = attribution_of(session, payment)
    assert (found.method, found.link_id) == ("metadata", ids["dm"])
    assert credits(session, payment, "last_touch") == [(1.0, ids["dm"])]
    assert credits(session, payment, "first_touch") == [(1.0, "twitter")]
    assert credits(session, payment, "linear") == sorted(
        [(0.3333, "twitter"), (0.3333, ids["nl"]), (0.3333, ids["dm"])]
    )


def test_unattributed_payment_gets_an_empty_credit(project: Project, session: Session) -> None:
    payment = pay(
        session,
        project,
        "pay_none",
        metadata={"linkId": "", "campaignId": " "},
        customer={"customer_id": "cus_z", "email": "nobody@example.com", "name": "N"},
    )
    found = attribution_of(session, payment)
    assert found.method == "none" and found.confidence == 0
    for model in ("last_touch", "first_touch", "linear"):
        assert credits(session, payment, model) == [(1.0, None)]


def test_payment_api_explains_in_plain_words(project: Project, session: Session) -> None:
    ids = links(session, project)
    pay(session, project, "pay_explain", metadata={"linkId": ids["dm"], "campaignId": "other"})
    body = project.client.get("/api/v1/payments/pay_explain", headers=project.headers).json()
    assert body["attribution"]["method"] == "metadata"
    assert body["attribution"]["linkId"] == ids["dm"]
    text = "\n".join(body["explanation"])
    assert "Attributed from the Dodo payment metadata to link" in text
    assert "Warning: metadata campaignId 'other' differs from the link's campaign" in text
    assert body["trace"][0]["steps"][0]["step"] == "metadata"
    listed = project.client.get("/api/v1/payments?attributed=true", headers=project.headers).json()[
        "items"
    ]
    assert [p["paymentId"] for p in listed] == ["pay_explain"]
    none = project.client.get("/api/v1/payments?attributed=false", headers=project.headers).json()[
        "items"
    ]
    assert none == []


def test_another_projects_link_in_metadata_is_ignored_counted_once_and_never_joined(
    project: Project, session: Session
) -> None:
    """Metadata is the merchant's (or a customer's) text: a linkId of another project must
    neither credit that link nor stop the cascade from finding this project's own touch."""
    ids = links(session, project)
    other = make_project(session, name="Other shop")
    theirs = make_link(session, project_id=other.project.id, key="theirs", campaign_id="b-camp")
    session.commit()
    browser = Browser(project, "v_meta_foreign")
    browser.click("nl")
    browser.identify("ada@example.com")
    payment = pay(
        session,
        project,
        "pay_foreign",
        metadata={"linkId": theirs.id},
        customer={"customer_id": "cus_1", "email": "ada@example.com", "name": "Ada"},
    )
    found = attribution_of(session, payment)
    assert found.link_id == ids["nl"] and found.campaign_id == "newsletter-11"
    assert found.method != "metadata"
    assert found.warnings[0] == (
        f"metadata linkId '{theirs.id}' names a link of another project: ignored"
    )
    assert "only a link of another project" in found.trace[0]["steps"][0]["detail"]
    with_source = pay(
        session, project, "pay_foreign_2", metadata={"linkId": theirs.id, "source": "x"}
    )
    found = attribution_of(session, with_source)
    assert (found.method, found.link_id, found.source, found.campaign_id) == (
        "metadata",
        None,
        "x",
        None,
    )
    assert found.confidence == 0.8

    attribute(session, with_source, "re-run")  # a later run does not count it again
    session.commit()
    [counted] = session.execute(select(ForeignId)).scalars().all()
    assert (counted.project_id, counted.field, counted.count) == (project.id, "metadata linkId", 2)
    checks = project.client.get("/api/v1/diagnostics", headers=project.headers).json()["checks"]
    [check] = [c for c in checks if c["id"] == "foreign_ids"]
    assert check["status"] == "warn"
    assert "2 payment(s) carried a metadata linkId of another project" in check["detail"]
    report = project.client.get(
        "/api/v1/reports/attribution?groupBy=campaign", headers=project.headers
    ).text
    assert "b-camp" not in report and theirs.id not in report
