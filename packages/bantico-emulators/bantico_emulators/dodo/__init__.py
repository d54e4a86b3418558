"""A Dodo Payments emulator: the API Bantico and a merchant's checkout use, a hosted checkout
page, and webhooks signed and retried as Dodo sends them.

In-process::

    with run_emulator() as emu:
        client = DodoPayments(bearer_token=TEST_KEY, base_url=emu.test_url)
        session = client.checkout_sessions.create(product_cart=[...], metadata={...})
        payment = complete_checkout(emu.state, session.session_id)
        refund_payment(emu.state, payment.payment_id, 500)
        emu.state.deliveries.wait_idle()

Dodo's Tier-0 rate limits apply by default (`EmulatorOptions(rate_limit=TIER_2)` or `None`
to change them); `emu.state.requests` counts every API request answered.

Standalone: ``bantico-emulators dodo --port 8900`` (or ``python -m bantico_emulators.dodo``).
"""

from bantico_emulators.dodo.app import create_emulator
from bantico_emulators.dodo.billing import (
    create_payments,
    escalate_dispute,
    lose_dispute,
    open_dispute,
    refund_payment,
    renew_subscription,
    resolve_dispute,
    settle_payment,
    settle_refund,
)
from bantico_emulators.dodo.checkouts import complete_checkout, create_checkout, fail_checkout
from bantico_emulators.dodo.delivery import Attempt, Message
from bantico_emulators.dodo.faults import Fault
from bantico_emulators.dodo.options import DODO_RETRY_SCHEDULE, EmulatorOptions
from bantico_emulators.dodo.ratelimit import TIER_0, TIER_1, TIER_2, RateLimit
from bantico_emulators.dodo.server import RunningEmulator, run_emulator
from bantico_emulators.dodo.state import (
    BUSINESS_ID,
    INVALID_KEY,
    LIVE_KEY,
    LIVE_READ_ONLY_KEY,
    MONTHLY_PRODUCT_ID,
    ONE_TIME_PRODUCT_ID,
    TEST_KEY,
    TEST_READ_ONLY_KEY,
    EmulatorState,
)

__all__ = [
    "BUSINESS_ID",
    "DODO_RETRY_SCHEDULE",
    "INVALID_KEY",
    "LIVE_KEY",
    "LIVE_READ_ONLY_KEY",
    "MONTHLY_PRODUCT_ID",
    "ONE_TIME_PRODUCT_ID",
    "TEST_KEY",
    "TEST_READ_ONLY_KEY",
    "TIER_0",
    "TIER_1",
    "TIER_2",
    "Attempt",
    "EmulatorOptions",
    "EmulatorState",
    "Fault",
    "Message",
    "RateLimit",
    "RunningEmulator",
    "complete_checkout",
    "create_checkout",
    "create_emulator",
    "create_payments",
    "escalate_dispute",
    "fail_checkout",
    "lose_dispute",
    "open_dispute",
    "refund_payment",
    "renew_subscription",
    "resolve_dispute",
    "run_emulator",
    "settle_payment",
    "settle_refund",
]
