"""Migrations that change data, run on rows as an older Bantico stored them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, make_url, text

from bantico.db import alembic_config, make_engine

NOW = "2026-11-20 10:00:00+00:00"


@pytest.fixture
def fresh_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the same kind as the suite's, for running migrations step by step."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    url = make_url(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}_migrations"
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def upgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def insert(engine: Engine, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)


def payment(engine: Engine, payment_id: str, **values: Any) -> None:
    raw = values.pop("raw", {"payment_id": payment_id})
    insert(
        engine,
        "payments",
        project_id="prj_1",
        provider="dodo",
        mode="live",
        provider_payment_id=payment_id,
        status="succeeded",
        total_amount=4900,
        currency="USD",
        settlement_amount=4000,
        settlement_currency="USD",
        is_update_payment_method=False,
        counts_as_revenue=True,
        refunded_amount=0,
        disputed_amount=0,
        refunded_settlement=0,
        created_at=NOW,
        received_at=NOW,
        updated_at=NOW,
        received_via="webhook",
        raw=json.dumps(raw),
        **values,
    )


def test_0007_applies_the_revenue_rules_to_what_was_stored(fresh_engine: Engine) -> None:
    engine = fresh_engine
    upgrade(engine, "0006")
    insert(engine, "projects", id="prj_1", name="Acme", token="btk_1", pricing_path="/pricing",
           attribution_window_days=30, honour_gpc=True, created_at=NOW)  # fmt: skip
    payment(engine, "pay_accepted")
    payment(engine, "pay_full_refund")
    payment(engine, "pay_multi", raw={"subscription_ids": ["sub_a", "sub_b"]})
    payment(engine, "pay_sub", subscription_id="sub_c")
    insert(
        engine,
        "disputes",
        project_id="prj_1",
        provider="dodo",
        mode="live",
        provider_dispute_id="dsp_1",
        provider_payment_id="pay_accepted",
        status="dispute_accepted",
        amount=4900,
        currency="USD",
        lost=False,  # the old rule: only a lost dispute took money back
        created_at=NOW,
        updated_at=NOW,
        raw=json.dumps({"dispute_stage": "pre_arbitration"}),
    )
    insert(
        engine,
        "refunds",
        project_id="prj_1",
        provider="dodo",
        mode="live",
        provider_refund_id="ref_1",
        provider_payment_id="pay_full_refund",
        status="succeeded",
        amount=None,  # counted 0 before
        is_partial=False,
        created_at=NOW,
        received_at=NOW,
        raw=json.dumps({}),
    )

    upgrade(engine, "head")
    with engine.connect() as connection:
        money = dict(
            connection.execute(
                text(
                    "SELECT provider_payment_id, refunded_settlement FROM payments "
                    "ORDER BY provider_payment_id"
                )
            ).all()
        )
        dispute = connection.execute(text("SELECT subtracted, stage FROM disputes")).one()
        subscriptions = sorted(
            connection.execute(
                text(
                    "SELECT p.provider_payment_id, s.subscription_id FROM payment_subscriptions s "
                    "JOIN payments p ON p.id = s.payment_id"
                )
            ).all()
        )
    assert money == {"pay_accepted": 4000, "pay_full_refund": 4000, "pay_multi": 0, "pay_sub": 0}
    assert (bool(dispute[0]), dispute[1]) == (True, "pre_arbitration")
    assert [tuple(row) for row in subscriptions] == [
        ("pay_multi", "sub_a"),
        ("pay_multi", "sub_b"),
        ("pay_sub", "sub_c"),
    ]
