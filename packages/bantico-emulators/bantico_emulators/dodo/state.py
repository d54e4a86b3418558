"""The emulator's whole state: keys, one ledger per (business, mode), options, faults, clock,
rate-limit counters, a request tally and webhook deliveries. One re-entrant lock guards the
records; take it to read or change them."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import TracebackType
from typing import Any, cast

from bantico_emulators.dodo.clock import Clock
from bantico_emulators.dodo.delivery import Dispatcher
from bantico_emulators.dodo.errors import not_found
from bantico_emulators.dodo.events import Event
from bantico_emulators.dodo.faults import Faults
from bantico_emulators.dodo.ids import new_id
from bantico_emulators.dodo.options import EmulatorOptions
from bantico_emulators.dodo.ratelimit import RateLimiter
from bantico_emulators.dodo.records import (
    MODES,
    ApiKey,
    CheckoutSession,
    Dispute,
    Interval,
    Ledger,
    Mode,
    Payment,
    Product,
    Refund,
    SigningSecret,
    Subscription,
    WebhookEndpoint,
    new_signing_secret,
)
from bantico_emulators.dodo.traffic import RequestLog

BUSINESS_ID = "bus_0EmuBusiness000000000"
TEST_KEY = "emu_test_rw_0000000000000000"
LIVE_KEY = "emu_live_rw_0000000000000000"
TEST_READ_ONLY_KEY = "emu_test_ro_0000000000000000"
LIVE_READ_ONLY_KEY = "emu_live_ro_0000000000000000"
INVALID_KEY = "emu_invalid_0000000000000000"  # never accepted, in either mode
ONE_TIME_PRODUCT_ID = "pdt_0EmuOneTime0000000000"
MONTHLY_PRODUCT_ID = "pdt_0EmuMonthly0000000000"


class EmulatorState:
    def __init__(self, options: EmulatorOptions | None = None, *, seed_keys: bool = True) -> None:
        self.options = options or EmulatorOptions()
        self.lock = threading.RLock()
        self.clock = Clock()
        self.faults = Faults()
        self.keys: dict[str, ApiKey] = {}
        self.ledgers: dict[tuple[str, Mode], Ledger] = {}
        self.deliveries = Dispatcher(self.clock, self.options)
        self.limiter = RateLimiter()  # applies `options.rate_limit`
        self.requests = RequestLog()  # every API request answered, by route and status
        if seed_keys:
            self.add_key(TEST_KEY, mode="test")
            self.add_key(LIVE_KEY, mode="live")
            self.add_key(TEST_READ_ONLY_KEY, mode="test", read_only=True)
            self.add_key(LIVE_READ_ONLY_KEY, mode="live", read_only=True)

    def __enter__(self) -> EmulatorState:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the delivery threads. Scheduled retries are dropped."""
        self.deliveries.close()

    def add_key(
        self, key: str, *, mode: Mode, read_only: bool = False, business_id: str = BUSINESS_ID
    ) -> ApiKey:
        """Accept `key` on `mode`'s host only. A new business id gets its own ledgers."""
        with self.lock:
            made = ApiKey(key=key, business_id=business_id, mode=mode, read_only=read_only)
            self.keys[key] = made
            self.ledger(business_id, mode)
            return made

    def revoke_key(self, key: str) -> None:
        with self.lock:
            self.keys.pop(key, None)

    def ledger(self, business_id: str = BUSINESS_ID, mode: Mode = "test") -> Ledger:
        with self.lock:
            ledger = self.ledgers.get((business_id, mode))
            if ledger is None:
                ledger = self.ledgers[(business_id, mode)] = Ledger(business_id, mode)
                self._seed_products(ledger)
            return ledger

    def add_product(
        self,
        name: str,
        price: int,
        *,
        currency: str = "USD",
        recurring: bool = False,
        interval: Interval = "Month",
        interval_count: int = 1,
        product_id: str | None = None,
        business_id: str = BUSINESS_ID,
        modes: tuple[Mode, ...] = MODES,
    ) -> Product:
        """Add a product to each of `modes` (same id in each, as the seeded ones)."""
        product_id = product_id or new_id("pdt")
        with self.lock:
            for mode in modes:
                product = Product(
                    product_id=product_id,
                    business_id=business_id,
                    name=name,
                    price=price,
                    currency=currency,
                    created_at=self.clock.now(),
                    recurring=recurring,
                    interval=interval,
                    interval_count=interval_count,
                )
                self.ledger(business_id, mode).products[product_id] = product
            return product

    def publish(self, *events: Event) -> None:
        """Queue each event for every endpoint in its ledger that wants it."""
        with self.lock:
            for event in events:
                ledger = self.ledger(event.business_id, event.mode)
                endpoints = [e for e in ledger.webhooks.values() if e.wants(event.type)]
                self.deliveries.publish(event, endpoints)

    def rotate_secret(self, endpoint_id: str, grace: timedelta | None = None) -> str:
        """New signing secret; the old ones keep signing for `grace` (Dodo: 24 h)."""
        with self.lock:
            _, endpoint = self.find_webhook(endpoint_id)
            expires = self.clock.now() + (self.options.secret_grace if grace is None else grace)
            for secret in endpoint.secrets:
                if secret.expires_at is None or secret.expires_at > expires:
                    secret.expires_at = expires
            endpoint.secrets.insert(0, SigningSecret(value=new_signing_secret()))
            return endpoint.secrets[0].value

    def find_payment(self, payment_id: str) -> tuple[Ledger, Payment]:
        return cast(tuple[Ledger, Payment], self._find("payments", payment_id, "Payment"))

    def find_refund(self, refund_id: str) -> tuple[Ledger, Refund]:
        return cast(tuple[Ledger, Refund], self._find("refunds", refund_id, "Refund"))

    def find_checkout(self, session_id: str) -> tuple[Ledger, CheckoutSession]:
        return cast(tuple[Ledger, CheckoutSession], self._find("checkouts", session_id, "Session"))

    def find_subscription(self, subscription_id: str) -> tuple[Ledger, Subscription]:
        found = self._find("subscriptions", subscription_id, "Subscription")
        return cast(tuple[Ledger, Subscription], found)

    def find_dispute(self, dispute_id: str) -> tuple[Ledger, Dispute]:
        return cast(tuple[Ledger, Dispute], self._find("disputes", dispute_id, "Dispute"))

    def find_webhook(self, endpoint_id: str) -> tuple[Ledger, WebhookEndpoint]:
        return cast(tuple[Ledger, WebhookEndpoint], self._find("webhooks", endpoint_id, "Webhook"))

    def _find(self, table: str, record_id: str, kind: str) -> tuple[Ledger, Any]:
        """Ids are unique across ledgers, so the control API can act on an id alone."""
        with self.lock:
            for ledger in self.ledgers.values():
                record = getattr(ledger, table).get(record_id)
                if record is not None:
                    return ledger, record
        raise not_found(kind, record_id)

    def _seed_products(self, ledger: Ledger) -> None:
        now = self.clock.now()
        ledger.products[ONE_TIME_PRODUCT_ID] = Product(
            product_id=ONE_TIME_PRODUCT_ID,
            business_id=ledger.business_id,
            name="Lifetime licence",
            price=4900,
            currency="USD",
            created_at=now,
        )
        ledger.products[MONTHLY_PRODUCT_ID] = Product(
            product_id=MONTHLY_PRODUCT_ID,
            business_id=ledger.business_id,
            name="Pro monthly",
            price=1900,
            currency="USD",
            created_at=now,
            recurring=True,
            interval="Month",
        )
