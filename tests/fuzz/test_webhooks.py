"""Property tests of `POST /webhooks/dodo/{projectId}` with payloads signed exactly as Dodo signs
them (Standard Webhooks, the project's webhook secret): every payload Dodo publishes
(tests/integrations/dodo/fixtures) and complete ones, mutated — amounts, currencies, statuses,
ids, times, metadata and event types replaced by anything, fields dropped, `data` of the wrong
type, raw NaN / Infinity / 1e400 / unpaired-surrogate literals, bodies cut short. Properties:
never a 5xx; a signed delivery is answered 200 or 202, or 400 when malformed; and every signed
delivery is kept in the inbox, a 400 as rejected with its reason. A delivery with a wrong
signature is 401 and writes nothing. Each request within the request budget."""

from __future__ import annotations

import base64
import copy
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.integrations.dodo.models import WebhookMessage
from tests.fuzz.budget import within_budget
from tests.fuzz.conftest import PAYMENT_ID, Seed, dispute_data
from tests.fuzz.shapes import (
    ANY_TEXT,
    CLEAN_VALUES,
    JSON_VALUES,
    LONG_TEXT,
    RARELY,
    RAW,
    encoded,
    fuzz_settings,
)
from tests.integrations.dodo import support

SIGNED_EXAMPLES = 120
FORGED_EXAMPLES = 20
FIXTURES = Path(__file__).parent.parent / "integrations" / "dodo" / "fixtures"
WRONG_SECRETS = ["whsec_" + base64.b64encode(bytes(range(24))).decode(), "whsec_AAAA"]


def _envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(support.envelope(event_type, data))
    return envelope


PUBLISHED = [json.loads(path.read_text()) for path in sorted(FIXTURES.glob("*.json"))]
COMPLETE = [
    _envelope("payment.succeeded", support.payment("pay_0FuzzOther000000000")),
    _envelope("refund.succeeded", support.refund(payment_id=PAYMENT_ID, is_partial=True)),
    _envelope("dispute.opened", dispute_data()),
]
EVENT_TYPES = [*sorted({envelope["type"] for envelope in PUBLISHED}), "payment.x", "refund.", ""]
ANY_TYPE = st.one_of(st.sampled_from(EVENT_TYPES), ANY_TEXT, CLEAN_VALUES)

AMOUNTS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -100000, 2**63 - 1, 2**63, 1e30, 4900.0, 49.5, True, "4900", "49.00"]),
    st.sampled_from(["NaN", "Infinity", "-1", "1e30", "12.345", "amount", ""]),
    st.floats(),
    st.just(RAW),
)
CURRENCIES = st.one_of(
    st.sampled_from(["USD", "usd", "EUR", "JPY", "BHD", "XXX", "DOLLARS", "", "US"]),
    ANY_TEXT,
)
STATUSES = st.one_of(
    st.sampled_from(["succeeded", "failed", "processing", "cancelled", "pending"]),
    st.sampled_from(["dispute_opened", "dispute_won", "dispute_lost", "active", ""]),
    ANY_TEXT,
)
IDS = st.one_of(st.sampled_from([PAYMENT_ID, "pay_unknown", "ref_1", "dp_1", ""]), ANY_TEXT)
TIMES = st.one_of(
    st.sampled_from(["2026-11-20T10:15:30Z", "0001-01-01T00:00:00", "9999-12-31T23:59:59Z"]),
    st.sampled_from(["2026-13-45T00:00:00Z", "yesterday", "2026-11-20T10:15:30+25:00"]),
    ANY_TEXT,
)
# Field names and what may replace each; any other value may replace any field.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "total_amount": AMOUNTS,
    "settlement_amount": AMOUNTS,
    "tax": AMOUNTS,
    "settlement_tax": AMOUNTS,
    "amount": AMOUNTS,
    "currency": CURRENCIES,
    "settlement_currency": CURRENCIES,
    "status": STATUSES,
    "dispute_status": STATUSES,
    "dispute_stage": STATUSES,
    "payment_id": IDS,
    "refund_id": IDS,
    "dispute_id": IDS,
    "subscription_id": IDS,
    "subscription_ids": st.lists(IDS, max_size=3),
    "created_at": TIMES,
    "is_partial": CLEAN_VALUES,
    "metadata": st.one_of(CLEAN_VALUES, st.dictionaries(st.sampled_from(["linkId"]), IDS)),
    "customer": st.one_of(
        CLEAN_VALUES,
        st.fixed_dictionaries({"email": st.one_of(st.emails(), ANY_TEXT, LONG_TEXT)}),
    ),
}


READ = st.sampled_from(sorted(FIELDS))
USUALLY = st.sampled_from([True, True, True, False])
ANY_DATA = st.one_of(CLEAN_VALUES, JSON_VALUES)  # in place of the `data` object
ACTIONS = st.sampled_from(["typed", "typed", "typed", "clean", "anything", "drop", "raw"])
BASES = st.sampled_from(PUBLISHED + COMPLETE * 20)  # complete ones reach the storage


@st.composite
def _retext(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Give one text field of `data` (or of its customer) any text: unpaired surrogates,
    right-to-left marks, quotes…"""
    customer = data.get("customer")
    holders = [data, customer] if isinstance(customer, dict) else [data]
    fields = [(h, name) for h in holders for name, value in h.items() if isinstance(value, str)]
    if fields:
        holder, name = draw(st.sampled_from(fields))
        holder[name] = draw(ANY_TEXT)


@st.composite
def _mutate(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Replace or drop one field of `data`, mostly one that Bantico reads."""
    name = draw(READ) if draw(USUALLY) else draw(st.sampled_from(sorted({*FIELDS, *data})))
    action = draw(ACTIONS)
    if action == "drop":
        data.pop(name, None)
    elif action == "raw":
        data[name] = RAW
    elif action == "typed" and name in FIELDS:
        data[name] = draw(FIELDS[name])
    elif action == "anything":  # NUL characters and unpaired surrogates included
        data[name] = draw(JSON_VALUES)
    else:
        data[name] = draw(CLEAN_VALUES)


@st.composite
def signed_payloads(draw: st.DrawFn) -> bytes:
    """A published or complete payload, with one of its texts and up to three other fields
    changed (or `data` replaced), as raw bytes."""
    envelope = copy.deepcopy(draw(BASES))
    if draw(RARELY):
        envelope["type"] = draw(ANY_TYPE)
    data = envelope.get("data")
    if isinstance(data, dict) and not draw(RARELY):
        draw(_retext(data))
        for _ in range(draw(st.integers(0, 3))):
            draw(_mutate(data))
    else:
        envelope["data"] = draw(ANY_DATA)
    body: bytes = draw(encoded(envelope))
    return body


def _message(session: Session, project_id: str, webhook_id: str) -> WebhookMessage | None:
    session.rollback()  # a fresh transaction, that sees the request's commit
    return session.execute(
        select(WebhookMessage).where(
            WebhookMessage.project_id == project_id, WebhookMessage.webhook_id == webhook_id
        )
    ).scalar_one_or_none()


def _post(seeded: Seed, body: bytes, headers: dict[str, str]) -> Any:
    project = seeded.project
    return within_budget(
        "POST /webhooks/dodo/{id}",
        lambda: project.client.post(f"/webhooks/dodo/{project.id}", content=body, headers=headers),
    )


def _message_ids() -> Iterator[str]:
    return (f"msg_fuzz{number}" for number in itertools.count())


def test_signed_deliveries_are_answered_and_kept(seeded: Seed, session: Session) -> None:
    message_ids = _message_ids()

    @fuzz_settings(SIGNED_EXAMPLES)
    @given(body=signed_payloads())
    def deliver(body: bytes) -> None:
        note(f"body: {body!r}")
        webhook_id = next(message_ids)
        headers = support.headers(seeded.webhook_secret, body, webhook_id)
        response = _post(seeded, body, headers)
        assert response.status_code in (200, 202, 400), response.text
        message = _message(session, seeded.project.id, webhook_id)
        assert message is not None, f"{response.status_code} but not kept in the inbox"
        if response.status_code == 400:
            assert response.json()["error"]["message"]
            assert message.handled_at is None and message.last_error, "not kept as rejected"

    deliver()


def test_forged_deliveries_are_refused_without_a_write(seeded: Seed, session: Session) -> None:
    stored = session.scalar(select(func.count()).select_from(WebhookMessage))
    message_ids = _message_ids()

    @fuzz_settings(FORGED_EXAMPLES)
    @given(body=signed_payloads(), secret=st.sampled_from(WRONG_SECRETS))
    def deliver(body: bytes, secret: str) -> None:
        headers = support.headers(secret, body, next(message_ids))
        response = _post(seeded, body, headers)
        assert response.status_code == 401, response.text

    deliver()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WebhookMessage)) == stored
