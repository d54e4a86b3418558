from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bantico.demo import shop
from bantico.demo.plan import Plan, make_plan
from bantico_emulators.dodo.clock import add_interval

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def plan(visitors: int = 30, seed: int = 7) -> Plan:
    return make_plan(visitors=visitors, days=60, seed=seed, now=NOW)


def test_a_seed_makes_the_same_history() -> None:
    first, again, other = plan(), plan(), plan(seed=8)
    assert [v.steps for v in first.visitors] == [v.steps for v in again.visitors]
    assert first.sales == again.sales and first.after_sales == again.after_sales
    assert [v.id for v in first.visitors] != [v.id for v in other.visitors]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_small_history_has_every_kind_of_sale(seed: int) -> None:
    made = plan(seed=seed)
    checkouts = Counter(s.checkout for s in made.sales)
    kinds = ("context", "email", "ids", "late_identify", "walk_in", "repeat", "test")
    assert all(checkouts[kind] for kind in kinds), checkouts
    assert checkouts["test"] == 2 and all(s.mode == "test" for s in made.sales[:2])
    after = Counter(a.kind for a in made.after_sales)
    assert after["renew"] and after["dispute"] == after["dispute_lost"] == 1
    renewed = {a.sale for a in made.after_sales if a.kind == "renew"}
    assert any(s.checkout == "context" for s in made.sales if s.ref in renewed)
    refunds = [a for a in made.after_sales if a.kind == "refund"]
    assert {a.amount is None for a in refunds} == {True, False}  # full and partial
    assert len(made.late_identifies) == checkouts["late_identify"]


def test_every_moment_is_in_the_past_and_in_order() -> None:
    made = plan(visitors=200)
    assert made.end <= NOW and made.end - made.start == timedelta(days=60)
    for visitor in made.visitors:
        moments = [s.at for s in visitor.steps if s.kind != "unfurl"]
        assert moments == sorted(moments) and made.start <= moments[0] and moments[-1] < made.end
    sales = {s.ref: s for s in made.sales}
    for sale in made.sales:
        assert made.start <= sale.at <= made.end
        if sale.visitor is not None:  # they paid after looking at the pricing page
            assert sale.visitor.steps[-1].at < sale.at
            assert sale.visitor.steps[-1].path == "/pricing"
    for item in made.after_sales:
        assert sales[item.sale].at < item.at <= made.end
    for visitor, step in made.late_identifies:
        paid = next(s for s in made.sales if s.visitor is visitor)
        assert paid.at < step.at <= made.end and step.kind == "identify"
        assert all(s.kind != "identify" for s in visitor.steps)


def test_renewals_come_a_month_apart() -> None:
    made = plan(visitors=200)
    sales = {s.ref: s for s in made.sales}
    renewals = [a for a in made.after_sales if a.kind == "renew"]
    assert renewals
    for renewal in renewals:
        sale = sales[renewal.sale]
        assert sale.product_id in shop.RECURRING
        billing = add_interval(sale.at, "Month")
        while billing + timedelta(days=2) < renewal.at:
            billing = add_interval(billing, "Month")
        assert timedelta(0) < renewal.at - billing <= timedelta(days=1, minutes=5)


def test_visitors_come_through_every_channel() -> None:
    made = plan(visitors=500, seed=2026)
    channels = Counter(v.channel.name for v in made.visitors)
    assert set(channels) == {c.name for c in shop.CHANNELS}
    assert len(shop.LINKS) >= 8 and len({c.labels[0] for c in shop.LINKS if c.labels}) == 5
    payments = len(made.sales) + sum(a.kind == "renew" for a in made.after_sales)
    assert 60 <= payments <= 150


def test_a_tiny_history_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 10 visitors"):
        make_plan(visitors=3, days=60, seed=1, now=NOW)


def test_some_buyers_come_back_through_another_campaigns_link() -> None:
    """So that first touch, last touch and linear give different answers, as real journeys do."""
    plan = make_plan(visitors=300, days=60, seed=5, now=NOW)
    switched = [
        sale.visitor
        for sale in plan.sales
        if sale.visitor is not None
        and any(
            s.kind == "click" and s.link not in (None, sale.visitor.channel.name)
            for s in sale.visitor.steps
        )
    ]
    assert len(switched) >= 3
