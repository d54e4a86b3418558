"""A seeded plan of the demo's past: each visitor's steps and each sale, renewal, refund and
dispute, at the moment it happens. Pure: no database, no network, the same plan for a seed."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from bantico.demo import shop
from bantico_emulators.dodo.clock import add_interval
from bantico_emulators.dodo.state import MONTHLY_PRODUCT_ID, ONE_TIME_PRODUCT_ID

# "bounce" is a click whose visitor left before the page, and the loader, loaded.
StepKind = Literal["unfurl", "click", "bounce", "land", "page", "track", "identify"]
# How a checkout ties its payment to the visitor: which rung of the attribution cascade it
# exercises (docs/product.md §1, step 7), or none at all.
Checkout = Literal[
    "context",  # bantico.context() in the metadata, as the docs show
    "ids",  # only visitorId and sessionId in the metadata
    "email",  # no metadata (a static payment link); the email matches identify()
    "other_email",  # no metadata, and paid with a work address nobody identified
    "late_identify",  # no metadata; identify() comes only after the payment
    "walk_in",  # never visited with the loader (word of mouth): unattributed
    "repeat",  # a second purchase by an existing Dodo customer, no metadata
    "test",  # the founder trying the checkout in test mode
]
# Dealt out in turn to buyers who arrived with something to attribute to; the rarer kinds come
# early in the cycle so that a small history has each of them.
CHECKOUTS: tuple[Checkout, ...] = (
    "context", "email", "ids", "late_identify", "context", "other_email",
    "context", "context", "context", "context", "context", "context",
)  # fmt: skip
AfterSaleKind = Literal["renew", "renew_declined", "refund", "dispute", "dispute_lost"]
BASE36 = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    kind: StepKind
    path: str = "/"
    referrer: str | None = None
    utm: dict[str, str] | None = None
    name: str | None = None  # of a tracked event
    user: dict[str, str] | None = None  # identify()
    link: str | None = None  # the channel whose link a click follows (default: the visitor's)


@dataclass(slots=True)
class Visitor:
    id: str
    channel: shop.Channel
    user_agent: str
    email: str
    name: str
    steps: list[Step] = field(default_factory=list)
    engaged: bool = False
    signed_up: bool = False

    @property
    def landed(self) -> bool:
        return any(s.kind in ("click", "land") for s in self.steps)


@dataclass(frozen=True, slots=True)
class Sale:
    ref: str
    at: datetime
    product_id: str
    checkout: Checkout
    email: str
    name: str
    amount: int  # charged, in `currency`
    currency: str = "USD"
    visitor: Visitor | None = None
    mode: str = "live"
    repeat_of: str | None = None  # the sale whose Dodo customer buys again

    @property
    def settlement(self) -> int:
        return shop.PRICES[self.product_id]


@dataclass(frozen=True, slots=True)
class AfterSale:
    at: datetime
    kind: AfterSaleKind
    sale: str
    amount: int | None = None  # a partial refund


@dataclass(slots=True)
class Plan:
    start: datetime
    end: datetime
    visitors: list[Visitor]
    sales: list[Sale]
    after_sales: list[AfterSale]
    late_identifies: list[tuple[Visitor, Step]]

    def ledger(self, mode: str) -> list[Sale | AfterSale]:
        """What happens at Dodo in `mode`, in order."""
        sales = [s for s in self.sales if s.mode == mode]
        after = self.after_sales if mode == "live" else []
        return sorted([*sales, *after], key=lambda item: item.at)


def seconds(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=rng.uniform(low, high))


class Planner:
    def __init__(self, *, visitors: int, days: int, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.journeys = random.Random(f"returns-{seed}")
        self.count = visitors
        self.end = now - timedelta(minutes=10)
        self.start = self.end - timedelta(days=days)
        self.last = self.end - timedelta(minutes=5)  # leaves room for what a moment takes
        self.emails: set[str] = set()
        self.sales: list[Sale] = []

    def plan(self) -> Plan:
        visitors = [self._visitor() for _ in range(self.count)]
        late: list[tuple[Visitor, Step]] = []
        number = 0
        for buyer in self._buyers(visitors):
            if buyer.channel.traceable:
                self._buy(buyer, CHECKOUTS[number % len(CHECKOUTS)], late)
                number += 1
            else:  # nothing to find by email or visitor id: only the full context shows that
                self._buy(buyer, "context", late)
        self._ensure_subscription()
        for _ in range(max(2, self.count // 80)):
            self._walk_in()
        self._repeats()
        self._tests()
        self.sales.sort(key=lambda s: s.at)
        return Plan(self.start, self.end, visitors, self.sales, self._after_sales(), late)

    # Visitors.

    def _person(self, domains: tuple[str, ...] = shop.HOME_DOMAINS) -> tuple[str, str]:
        first, last = self.rng.choice(shop.FIRST_NAMES), self.rng.choice(shop.LAST_NAMES)
        domain, number = self.rng.choice(domains), 1
        email = f"{first}.{last}@{domain}".lower()
        while email in self.emails:
            number += 1
            email = f"{first}.{last}{number}@{domain}".lower()
        self.emails.add(email)
        return email, f"{first} {last}"

    def _visitor(self) -> Visitor:
        rng = self.rng
        channel = rng.choices(shop.CHANNELS, [c.share for c in shop.CHANNELS])[0]
        low, high = channel.window
        span = self.end - self.start - timedelta(hours=3)
        at = self.start + span * (low + (high - low) * rng.random() ** channel.burst)
        email, name = self._person()
        visitor = Visitor(
            id="".join(rng.choices(BASE36, k=20)),
            channel=channel,
            user_agent=rng.choice(shop.BROWSERS),
            email=email,
            name=name,
        )
        steps = visitor.steps
        if channel.labels:
            if rng.random() < channel.unfurls:  # the link was pasted somewhere first
                steps.append(Step(at - seconds(rng, 30, 7200), "unfurl"))
            if rng.random() < 0.07:
                steps.append(Step(at, "bounce", referrer=channel.referrer))
                return visitor
            steps.append(Step(at, "click", referrer=channel.referrer))
        else:
            utm = channel.utm or None
            steps.append(Step(at, "land", channel.path, channel.referrer, utm))
        visitor.engaged = rng.random() < min(0.9, 0.2 + 0.2 * channel.quality)
        for _ in range(rng.choice((0, 1, 1, 2))):
            steps.append(Step(steps[-1].at + seconds(rng, 20, 150), "page", rng.choice(shop.PAGES)))
        if visitor.engaged:
            self._pricing(visitor)
        chance = 0.4 if visitor.engaged else 0.12
        while rng.random() < chance:
            back = steps[-1].at + timedelta(days=rng.uniform(0.5, 12))
            if back > self.end - timedelta(hours=2):
                break
            referrer = "https://www.google.com/" if rng.random() < 0.3 else None
            steps.append(Step(back, "land", rng.choice(("/", "/features")), referrer))
            self._maybe_another_link(visitor, 0.3)
            if visitor.engaged and rng.random() < 0.6:
                self._pricing(visitor)
            chance /= 2
        if visitor.engaged and rng.random() < min(0.8, 0.25 * channel.quality):
            self._sign_up(visitor)
        return visitor

    def _maybe_another_link(self, visitor: Visitor, chance: float, *, later: bool = False) -> None:
        """Come back through another campaign's link instead (a post first, a newsletter
        later): the last touch then differs from the first, as in real journeys, and the
        attribution models disagree. Drawn from a second generator, so that the rest of the
        plan stays what the seed made it."""
        if not visitor.channel.traceable or self.journeys.random() >= chance:
            return
        other = self.journeys.choice([c for c in shop.LINKS if c is not visitor.channel])
        if later:  # a visit of its own, days after the last one
            at = visitor.steps[-1].at + timedelta(days=self.journeys.uniform(1, 6))
            if at < self.end - timedelta(hours=1):
                visitor.steps.append(Step(at, "click", referrer=other.referrer, link=other.name))
            return
        back = visitor.steps[-1]  # instead of the return visit just planned
        visitor.steps[-1] = Step(back.at, "click", referrer=other.referrer, link=other.name)

    def _pricing(self, visitor: Visitor) -> None:
        at = visitor.steps[-1].at + seconds(self.rng, 20, 180)
        visitor.steps.append(Step(at, "page", "/pricing"))

    def _sign_up(self, visitor: Visitor) -> None:
        at = visitor.steps[-1].at + seconds(self.rng, 30, 240)
        done = at + seconds(self.rng, 40, 200)
        visitor.steps += [
            Step(at, "page", "/signup"),
            Step(at + timedelta(seconds=3), "track", "/signup", name="signup_started"),
            Step(done, "track", "/signup", name="signup_completed"),
        ]
        visitor.steps.append(self._identify(visitor, done + timedelta(seconds=2)))
        visitor.signed_up = True

    def _identify(self, visitor: Visitor, at: datetime) -> Step:
        user = {"id": f"user_{visitor.id[:8]}", "email": visitor.email, "name": visitor.name}
        return Step(at, "identify", "/app", user=user)

    # Sales.

    def _buyers(self, visitors: list[Visitor]) -> list[Visitor]:
        """Visitors from better channels, who signed up, buy more often; the count is fixed so
        that even a small history has every kind of sale."""
        landed = [v for v in visitors if v.landed]
        wanted = min(len(landed), max(8, round(self.count * 0.13)))

        def weight(v: Visitor) -> float:
            return v.channel.quality * (3 if v.signed_up else 1) * (1 if v.engaged else 0.2)

        keyed = sorted(landed, key=lambda v: self.rng.random() ** (1 / weight(v)), reverse=True)
        buyers = keyed[:wanted]
        # Someone from a link or campaign must have subscribed more than a month ago, or no
        # renewal inherits anything: the first buyer gets the full context (and a subscription
        # in `_ensure_subscription`).
        early = [
            v
            for v in keyed
            if v.channel.traceable and v.steps[0].at < self.end - timedelta(days=45)
        ]
        if early:
            if early[0] in buyers:
                buyers.remove(early[0])
            else:
                buyers.pop()
            buyers.insert(0, early[0])
        return buyers

    def _buy(self, visitor: Visitor, checkout: Checkout, late: list[tuple[Visitor, Step]]) -> None:
        rng, steps = self.rng, visitor.steps
        if checkout == "late_identify":
            visitor.steps = steps = [s for s in steps if s.kind != "identify"]
        elif not any(s.kind == "identify" for s in steps):
            self._sign_up(visitor)
        if rng.random() < 0.3:  # thinks it over, comes back to buy
            back = steps[-1].at + timedelta(days=rng.uniform(1, 8))
            if back < self.end - timedelta(hours=1):
                steps.append(Step(back, "land", "/pricing"))
        self._maybe_another_link(visitor, 0.45, later=True)
        if steps[-1].path != "/pricing":
            self._pricing(visitor)
        at = min(steps[-1].at + seconds(rng, 60, 900), self.last)
        if visitor.channel.labels and visitor.channel.labels[4]:  # a lead: buys for the team
            product = shop.TEAM_PRODUCT_ID if rng.random() < 0.6 else ONE_TIME_PRODUCT_ID
        else:
            product = rng.choices(
                (MONTHLY_PRODUCT_ID, ONE_TIME_PRODUCT_ID, shop.TEAM_PRODUCT_ID), (9, 9, 2)
            )[0]
        email = visitor.email
        if checkout == "other_email":
            email, _ = self._person(shop.WORK_DOMAINS)
        self._sale(at, product, checkout, email, visitor.name, visitor=visitor)
        if checkout == "late_identify":
            later = at + timedelta(days=rng.uniform(1, 3))
            late.append((visitor, self._identify(visitor, min(later, at + (self.end - at) / 2))))

    def _sale(
        self,
        at: datetime,
        product: str,
        checkout: Checkout,
        email: str,
        name: str,
        *,
        visitor: Visitor | None = None,
        repeat_of: str | None = None,
    ) -> None:
        currency, amount = "USD", shop.PRICES[product]
        if product not in shop.RECURRING and self.rng.random() < 0.18:
            currency, rate = self.rng.choice(shop.FOREIGN)
            amount = round(amount * rate)
        sale = Sale(
            ref=f"sale{len(self.sales) + 1}",
            at=at,
            product_id=product,
            checkout=checkout,
            email=email,
            name=name,
            amount=amount,
            currency=currency,
            visitor=visitor,
            repeat_of=repeat_of,
        )
        self.sales.append(sale)

    def _ensure_subscription(self) -> None:
        """The earliest sale with the full context becomes a subscription if none old enough to
        renew is one, so that a renewal shows how it inherits its first payment's credit."""
        old = [
            s
            for s in self.sales
            if s.checkout == "context" and s.at < self.end - timedelta(days=32)
        ]
        if old and not any(s.product_id in shop.RECURRING for s in old):
            first = min(old, key=lambda s: s.at)
            price = shop.PRICES[MONTHLY_PRODUCT_ID]
            swapped = replace(first, product_id=MONTHLY_PRODUCT_ID, currency="USD", amount=price)
            self.sales[self.sales.index(first)] = swapped

    def _walk_in(self) -> None:
        at = self.start + (self.end - self.start) * self.rng.uniform(0.05, 1)
        email, name = self._person()
        product = self.rng.choice((MONTHLY_PRODUCT_ID, ONE_TIME_PRODUCT_ID))
        self._sale(at, product, "walk_in", email, name)

    def _repeats(self) -> None:
        candidates = [
            s
            for s in self.sales
            if s.checkout in ("context", "ids", "email")
            and s.product_id not in shop.RECURRING
            and s.at < self.end - timedelta(days=6)
        ]
        for first in self.rng.sample(candidates, min(len(candidates), 1 + self.count // 250)):
            at = min(first.at + timedelta(days=self.rng.uniform(5, 20)), self.last)
            self._sale(
                at, shop.TEAM_PRODUCT_ID, "repeat", first.email, first.name, repeat_of=first.ref
            )

    def _tests(self) -> None:
        """Before going live the founder paid twice in test mode: kept apart from live revenue."""
        for hours, product in ((3, ONE_TIME_PRODUCT_ID), (5, MONTHLY_PRODUCT_ID)):
            at = self.start + timedelta(hours=hours)
            price = shop.PRICES[product]
            self.sales.append(
                Sale(
                    f"test{hours}",
                    at,
                    product,
                    "test",
                    shop.FOUNDER_EMAIL,
                    "Demo Founder",
                    price,
                    mode="test",
                )
            )

    # After the sale.

    def _after_sales(self) -> list[AfterSale]:
        rng, end = self.rng, self.last
        live = [s for s in self.sales if s.mode == "live"]
        after: list[AfterSale] = []
        subscriptions = [s for s in live if s.product_id in shop.RECURRING]
        declined = next((s for s in subscriptions[1:] if add_interval(s.at, "Month") < end), None)
        for sale in subscriptions:
            billing = add_interval(sale.at, "Month")
            while billing + timedelta(minutes=5) < end:
                at = billing + timedelta(minutes=5)
                if sale is declined:  # the card fails once; Dodo retries a day later
                    after.append(AfterSale(at, "renew_declined", sale.ref))
                    at += timedelta(days=1)
                    declined = None
                if at < end:
                    after.append(AfterSale(at, "renew", sale.ref))
                billing = add_interval(billing, "Month")
        refundable = [s for s in live if s.checkout != "repeat" and s.at < end - timedelta(days=3)]
        disputable = [s for s in refundable if s.at < end - timedelta(days=20)]
        if disputable:
            sale = rng.choice(disputable)
            opened = sale.at + timedelta(days=rng.uniform(3, 7))
            lost = min(opened + timedelta(days=rng.uniform(8, 12)), self.last)
            after += [
                AfterSale(opened, "dispute", sale.ref),
                AfterSale(lost, "dispute_lost", sale.ref),
            ]
            refundable.remove(sale)
        each = max(1, round(len(live) * 0.03))
        chosen = rng.sample(refundable, min(len(refundable), 2 * each))
        for number, sale in enumerate(chosen):
            at = min(sale.at + timedelta(days=rng.uniform(1, 6)), self.last)
            part = None if number < each else round(sale.amount * rng.choice((0.2, 0.3, 0.5)))
            after.append(AfterSale(at, "refund", sale.ref, part))
        return after


def make_plan(*, visitors: int, days: int, seed: int, now: datetime) -> Plan:
    """The demo's past, ending a few minutes before `now`."""
    if visitors < 10:
        raise ValueError("a demo needs at least 10 visitors")
    if days < 7:
        raise ValueError("a demo needs at least 7 days of history")
    return Planner(visitors=visitors, days=days, seed=seed, now=now).plan()
