"""Every payment provider keeps the one interface (bantico/integrations/provider.py): its
signatures, its published webhook examples as records of its own, events applied once, and its
API (through the official SDK, against the emulator) listed, read and connected. A provider
added to `PROVIDERS` without a case here fails `test_every_provider_has_a_case`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dodopayments import DodoPayments
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.db import make_sessionmaker
from bantico.integrations import provider as interface
from bantico.integrations.providers import PROVIDERS
from bantico.kit.errors import BanticoError, Unauthorized
from bantico.payments.models import Payment
from bantico.payments.service import DisputeIn, PaymentIn, RefundIn
from bantico_emulators.dodo import checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import ONE_TIME_PRODUCT_ID, TEST_KEY
from tests.conftest import Project
from tests.integrations.dodo import support as dodo_support

FIXTURES = Path(__file__).parent


@dataclass(frozen=True)
class Case:
    new_secret: Callable[[], str]
    sign: Callable[[str, bytes], dict[str, str]]  # the headers the provider sends
    examples: list[Path]  # webhook bodies as the provider publishes them
    settings: Callable[[Settings, RunningEmulator], Settings]  # pointed at the emulator
    credential: str
    sell: Callable[[RunningEmulator], str]  # a completed payment's id, sold as a merchant would


def _dodo_sale(emulator: RunningEmulator) -> str:
    with DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url) as sdk:
        created = sdk.checkout_sessions.create(
            product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
            customer={"email": "jane@example.com", "name": "Jane"},
            return_url="https://shop.example/thanks",
            metadata={"linkId": "lnk_conform", "source": "x"},
        )
    return checkouts.complete_checkout(emulator.state, created.session_id).payment_id


CASES = {
    "dodo": Case(
        new_secret=dodo_support.new_secret,
        sign=lambda secret, body: dodo_support.headers(secret, body),
        examples=sorted((FIXTURES / "dodo" / "fixtures").glob("*.json")),
        settings=lambda settings, emulator: settings.model_copy(
            update={"dodo_test_url": emulator.test_url, "dodo_live_url": emulator.live_url}
        ),
        credential=TEST_KEY,
        sell=_dodo_sale,
    ),
}


@pytest.fixture(params=sorted(PROVIDERS))
def name(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_every_provider_has_a_case_and_keeps_the_interface() -> None:
    assert sorted(CASES) == sorted(PROVIDERS)
    for key, provider in PROVIDERS.items():
        assert isinstance(provider, interface.PaymentProvider) and provider.name == key


def test_only_the_providers_signature_verifies(name: str) -> None:
    provider, case = PROVIDERS[name], CASES[name]
    secret, body = case.new_secret(), case.examples[0].read_bytes()
    signed = case.sign(secret, body)
    provider.verify(secret, body, signed)
    with pytest.raises(Unauthorized):
        provider.verify(secret, body + b" ", signed)  # the raw body, byte for byte
    with pytest.raises(Unauthorized):
        provider.verify(case.new_secret(), body, signed)
    with pytest.raises(Unauthorized):
        provider.verify(secret, body, {})


def test_published_examples_become_records_of_this_provider(name: str) -> None:
    provider, case = PROVIDERS[name], CASES[name]
    kinds: set[type] = set()
    for path in case.examples:
        try:
            event = provider.parse_event(path.read_bytes(), "test")
        except interface.Incomplete as missing:  # sparse: read by id, as the inbox does
            assert missing.fetch.partition(":")[2], path.name
            continue
        except BanticoError as refused:  # placeholders ("currency": "currency"): a clear 400
            assert refused.status_code == 400 and refused.message, path.name
            continue
        assert event.type == json.loads(path.read_bytes())["type"]
        for record in event.records:
            kinds.add(type(record))
            if not isinstance(record, interface.Renewal):
                assert (record.provider, record.mode) == (name, "test"), path.name
    # Payments, refunds, disputes and subscription events are all among the examples.
    assert kinds == {PaymentIn, RefundIn, DisputeIn, interface.Renewal}
    unknown = json.dumps({"type": "invoice.drafted", "data": {}}).encode()
    assert provider.parse_event(unknown, "test").records == ()


def test_an_event_is_applied_once(name: str, project: Project, session: Session) -> None:
    provider, case = PROVIDERS[name], CASES[name]
    paid = next(
        event
        for event in _complete(provider, case)
        if any(isinstance(r, PaymentIn) for r in event.records)
    )
    outcomes = [interface.apply(session, project.id, name, paid) for _ in range(2)]
    assert outcomes[0] == outcomes[1] and "stored" in outcomes[0]
    stored = select(func.count()).select_from(Payment).where(Payment.project_id == project.id)
    assert session.execute(stored).scalar_one() == 1


def _complete(provider: interface.PaymentProvider, case: Case) -> Iterator[interface.Event]:
    """The examples that parse without reading anything by id."""
    for path in case.examples:
        try:
            yield provider.parse_event(path.read_bytes(), "test")
        except interface.Incomplete:
            continue


def test_the_api_connects_registers_lists_and_reads(
    name: str, settings: Settings, emulator: RunningEmulator, engine: Any
) -> None:
    provider, case = PROVIDERS[name], CASES[name]
    settings = case.settings(settings, emulator)
    factory = make_sessionmaker(engine)
    assert provider.detect_mode(settings, case.credential, factory) == "test"
    paid = case.sell(emulator)
    client = provider.open(settings, case.credential, "test", factory)
    try:
        assert client.probe() == "accepted"
        assert client.register_webhook(None).state == "polling_only"
        url = "https://bantico.example/webhooks/conformance"
        registered = client.register_webhook(url)
        assert (registered.state, registered.url) == ("registered", url) and registered.secret
        assert client.keep_webhook(url, registered) is None  # nothing to repair
        listed = [provider.parse_object("payments", item, "test") for item in _all(client)]
        assert paid in [r.provider_payment_id for r in listed if isinstance(r, PaymentIn)]
        full = client.read("payments", paid)
        assert full is not None
        record = provider.parse_object("payments", full, "test")
        assert isinstance(record, PaymentIn) and record.provider_payment_id == paid
        assert record.payment_metadata["linkId"] == "lnk_conform"
        assert client.read("payments", "pay_no_such_payment_000") is None
    finally:
        client.close()


def _all(client: interface.ProviderClient) -> list[dict[str, Any]]:
    items, cursor = [], 0
    while True:
        page = client.page("payments", cursor, since=None, until=None)
        items += page
        if not page:
            return items
        cursor += 1
