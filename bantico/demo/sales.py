"""The planned sales, renewals, refunds and disputes, made on the Dodo emulator with its clock
set to the moment each happens. Dodo's webhooks then bring them to Bantico as in production."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bantico.demo import shop
from bantico.demo.plan import AfterSale, Sale
from bantico.demo.visitors import Browser, DemoFailed
from bantico_emulators.dodo.billing import (
    lose_dispute,
    open_dispute,
    refund_payment,
    renew_subscription,
)
from bantico_emulators.dodo.checkouts import CartLine, complete_checkout, create_checkout
from bantico_emulators.dodo.state import EmulatorState

DELIVERY_TIMEOUT = 60.0


def add_products(state: EmulatorState) -> None:
    if shop.TEAM_PRODUCT_ID not in state.ledger(mode="live").products:
        state.add_product(
            "Team monthly", shop.TEAM_PRICE, recurring=True, product_id=shop.TEAM_PRODUCT_ID
        )


def set_clock(state: EmulatorState, moment: datetime | None) -> None:
    """Emulated time reads `moment` from now on (None: real time again)."""
    state.clock.advance((moment or datetime.now(UTC)) - state.clock.now())


class Till:
    """Rings up the plan at the emulated Dodo, one item at a time, waiting for each item's
    webhooks to be delivered so that Bantico sees them in order (a renewal after the first
    payment it inherits from, as with real days between them)."""

    def __init__(
        self, state: EmulatorState, browsers: dict[str, Browser], link_ids: dict[str, str]
    ) -> None:
        self.state, self.browsers, self.link_ids = state, browsers, link_ids
        self.payments: dict[str, str] = {}
        self.customers: dict[str, str] = {}
        self.subscriptions: dict[str, str] = {}
        self.disputes: dict[str, str] = {}

    def ring_up(self, items: list[Sale | AfterSale]) -> None:
        try:
            for item in items:
                set_clock(self.state, item.at)
                if isinstance(item, Sale):
                    self._sell(item)
                else:
                    self._after(item)
                if not self.state.deliveries.wait_idle(DELIVERY_TIMEOUT):
                    raise DemoFailed("Dodo's webhooks did not reach Bantico in time")
        finally:
            set_clock(self.state, None)

    def _metadata(self, sale: Sale) -> dict[str, Any] | None:
        if sale.checkout == "test":
            # The founder's own test purchase through the first link.
            first = self.link_ids[shop.LINKS[0].name]
            return {"linkId": first, "campaignId": "", "source": "", "medium": ""}
        browser = self.browsers.get(sale.visitor.id) if sale.visitor else None
        if browser is None:
            return None
        if sale.checkout == "context":
            return browser.checkout_context(sale.at)
        if sale.checkout == "ids":
            context = browser.checkout_context(sale.at)
            return {"visitorId": context["visitorId"], "sessionId": context["sessionId"]}
        return None

    def _sell(self, sale: Sale) -> None:
        ledger = self.state.ledger(mode="test" if sale.mode == "test" else "live")
        customer = self.customers.get(sale.repeat_of) if sale.repeat_of else None
        session = create_checkout(
            self.state,
            ledger,
            [CartLine(sale.product_id)],
            customer_id=customer,
            email=None if customer else sale.email,
            name=None if customer else sale.name,
            return_url=f"{shop.SITE}/thanks",
            metadata=self._metadata(sale),
        )
        payment = complete_checkout(
            self.state,
            session.session_id,
            amount=sale.amount,
            currency=sale.currency,
            settlement_amount=sale.settlement,
            settlement_currency="USD",
        )
        self.payments[sale.ref] = payment.payment_id
        self.customers[sale.ref] = payment.customer_id
        if payment.subscription_ids:
            self.subscriptions[sale.ref] = payment.subscription_ids[0]

    def _after(self, item: AfterSale) -> None:
        if item.kind in ("renew", "renew_declined"):
            declined = item.kind == "renew_declined"
            subscription = self.subscriptions[item.sale]
            # A retry after a declined renewal is Dodo's second attempt at the same period.
            retry = 1 if self.state.find_subscription(subscription)[1].status == "on_hold" else 0
            renew_subscription(self.state, subscription, succeed=not declined, retry_attempt=retry)
        elif item.kind == "refund":
            reason = "Customer asked for a refund" if item.amount is None else "Partial refund"
            refund_payment(self.state, self.payments[item.sale], item.amount, reason=reason)
        elif item.kind == "dispute":
            dispute = open_dispute(self.state, self.payments[item.sale])
            self.disputes[item.sale] = dispute.dispute_id
        else:
            lose_dispute(self.state, self.disputes[item.sale])
