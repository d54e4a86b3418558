"""Behaviour switches, for the places where Dodo's behaviour is undocumented or slow to wait for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bantico_emulators.dodo.ratelimit import TIER_0, RateLimit
from bantico_emulators.dodo.records import FieldSet

# Posts one attempt and returns the status code: lets a test deliver into an app in the same
# process (e.g. through a TestClient) instead of over a socket.
Sender = Callable[[str, str, dict[str, str]], int]

# Svix's schedule as Dodo documents it: after the first attempt, retry immediately, then after
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (dodo-docs webhooks.mdx, Sep 2025).
DODO_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(slots=True, kw_only=True)
class EmulatorOptions:
    # "new" sends the SDK 1.123 Payment fields; "old" omits the fields older payloads lack.
    field_set: FieldSet = "new"
    # Whether renewal payments copy the subscription's metadata is not documented (docs/dodo.md §6);
    # the pessimistic default makes consumers exercise their fallback chain.
    renewal_copies_metadata: bool = False
    retry_schedule: tuple[float, ...] = DODO_RETRY_SCHEDULE
    time_scale: float = 1.0  # multiplies every retry delay; 0.001 runs the schedule in ~27 s·10⁻³
    delivery_timeout: float = 15.0  # Dodo's timeout, connect and read together
    max_webhook_endpoints: int | None = 5  # "up to 5 webhook endpoints" (Sep 2025 docs)
    # Assumption: the SDK says page_number is "Capped to bound OFFSET-based deep pagination"
    # without the number; 50 pages (5,000 rows at page_size 100) is a guess. None: no cap.
    max_page_number: int | None = 50
    # Dodo's Tier 0 unless a test or demo asks for another tier; None turns the limits off.
    rate_limit: RateLimit | None = TIER_0
    public_url: str | None = None  # base of `checkout_url`; by default the request's own host
    secret_grace: timedelta = timedelta(hours=24)  # old secret still signs after a rotation
    sender: Sender | None = None  # instead of an HTTP POST; exceptions count as failures
