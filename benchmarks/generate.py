#!/usr/bin/env python
"""Synthetic data for the report benchmarks: one project with a year of traffic and payments.

Writes straight into the tables (not through the HTTP API), in batches: SQLAlchemy Core
executemany on SQLite, COPY through psycopg on PostgreSQL. The schema is built by the real
migrations (`bantico.db.make_engine` + `migrate`); the big tables' secondary indexes are dropped
during the load and rebuilt afterwards, which is much faster than maintaining them row by row.

The shape, for the default 5,000,000 events and 100,000 payments:

* 300 tracked links over 30 campaigns, 12 sources, 8 media, 20 contents and 40 leads, with a
  Zipf-like popularity;
* ~500,000 visitors arriving over the year (more towards its end), each with one to eight
  visits: through a tracked link (60%), UTM tags (16%), a referral (14%) or directly; later
  visits sometimes through another link;
* events: page_view (the large majority), link_clicked (human clicks joined by the loader,
  clicks the loader never saw, and bot clicks), pricing_view, signup_started,
  signup_completed and custom events, each carrying the visitor's context as the loader would;
* payments from signed-up visitors (first payments, monthly renewals, some one-off), about
  3% in test mode, 4% refunded (most in full), 1% zero-amount; ~15% unattributed; attributions and
  credits for last touch, first touch and linear, weights summing to 1 per payment and model.

    .venv/bin/python benchmarks/generate.py [--database-url sqlite:////tmp/bantico-bench.db]
        [--events 5000000] [--payments 100000] [--seed 42] [--end 2026-11-27T12:00:00+00:00]
        [--reset]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, Index, inspect, text  # noqa: E402

from bantico.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from bantico.models import Base  # noqa: E402
from bantico.reports.models import CONTEXT_COLUMNS  # noqa: E402
from bantico.reports.rollup import catch_up  # noqa: E402

PROJECT_ID = "prj_benchmark"
DAY = 86_400.0
WINDOW = 30 * DAY  # the project's attribution window
BIG_TABLES = ("events", "touches", "sessions", "visitors", "attribution_credits", "attributions")
Context = tuple[str | None, str | None, str | None, str | None, str | None, str | None]
Shares = dict[str, list[tuple[float, Context]]]  # weight and context per model
NO_CONTEXT: Context = (None, None, None, None, None, None)
PAGES = ("/", "/features", "/blog/launch", "/blog/attribution-101", "/docs", "/changelog")
CUSTOM = ("video_played", "docs_search", "cta_clicked", "newsletter_joined")
CURRENCIES = (("USD", 1.0, 0.70), ("EUR", 1.08, 0.15), ("GBP", 1.27, 0.08), ("INR", 0.012, 0.07))
PLANS = (900, 1900, 4900, 9900, 29900)
REFERRERS = ("news.ycombinator.com", "www.google.com", "duckduckgo.com", "github.com")
SOURCES: tuple[str, ...] = ("linkedin", "x", "reddit", "newsletter", "email", "hn")
SOURCES += ("producthunt", "youtube", "google", "facebook", "indiehackers", "podcast")
MEDIA = ("dm", "post", "email", "cpc", "social", "organic", "video", "comment")


class Catalog:
    """Links, campaigns, leads and the other contexts a visitor can arrive with."""

    def __init__(self, rng: random.Random, links: int = 300) -> None:
        self.campaigns = [f"camp-{n:02d}" for n in range(30)]
        self.leads = [f"lead_{n:03d}" for n in range(40)]
        sources, media = SOURCES, MEDIA
        contents = [f"variant-{n:02d}" for n in range(20)]
        self.links: list[tuple[str, str, Context]] = []
        for n in range(links):
            link_id = f"lnk_bench{n:05d}"
            context: Context = (
                link_id,
                rng.choice(self.campaigns) if rng.random() < 0.9 else None,
                rng.choice(sources),
                rng.choice(media),
                rng.choice(contents) if rng.random() < 0.6 else None,
                rng.choice(self.leads) if rng.random() < 0.3 else None,
            )
            self.links.append((link_id, f"k{n:05d}", context))
        self.link_weights = list(_zipf(len(self.links)))
        self.utm: list[Context] = [
            (
                None,
                rng.choice(self.campaigns),
                rng.choice(sources),
                rng.choice(media),
                rng.choice(contents) if rng.random() < 0.3 else None,
                None,
            )
            for _ in range(40)
        ]
        self.utm_weights = list(_zipf(len(self.utm)))
        self.referrals: list[Context] = [(None, None, r, "referral", None, None) for r in REFERRERS]

    def pick_link(self, rng: random.Random) -> tuple[str, str, Context]:
        return rng.choices(self.links, self.link_weights)[0]


def _zipf(n: int) -> Iterator[float]:
    return (1 / (rank + 1) ** 0.8 for rank in range(n))


class Journeys:
    """Visitors, their visits, touches and events, generated until the event budget is spent."""

    def __init__(self, rng: random.Random, catalog: Catalog, start: float, end: float) -> None:
        self.rng, self.catalog, self.start, self.end = rng, catalog, start, end
        # (at, name, visitor, session, click id, context, url, is bot)
        self.events: list[tuple[Any, ...]] = []
        self.visitors: list[tuple[str, float, float]] = []
        self.sessions: list[tuple[str, str, float, float, str, str | None]] = []
        self.touches: list[tuple[str, str, float, str, str | None, Context]] = []
        self.signups: list[tuple[str, float, str]] = []  # (visitor, at, session)
        self.paths: dict[str, list[tuple[float, str, Context]]] = {}
        self._ids = 0

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:07x}{self.rng.getrandbits(40):010x}"

    def generate(self, budget: int) -> None:
        clicks = 0
        # Reserve room for the clicks no loader ever joined (consent declined, a bounce: 6% of
        # joined clicks) and bot clicks (8%), which belong to no visitor.
        while len(self.events) + int(clicks * 0.14) < budget:
            clicks += self.visitor()
        del self.events[budget:]
        extra = budget - len(self.events)
        for n in range(extra):
            at = self.arrival()
            _, key, context = self.catalog.pick_link(self.rng)
            self.events.append(
                (
                    at,
                    "link_clicked",
                    None,
                    None,
                    self.new_id("clk_"),
                    context,
                    f"https://shop.example/?via={key}",
                    n < extra * 8 // 14,
                )
            )
        self.events.sort(key=lambda e: e[0])

    def arrival(self) -> float:
        return self.start + (self.end - self.start) * float(self.rng.random() ** 0.75)

    def visitor(self) -> int:
        rng, visitor = self.rng, self.new_id("v")
        at = first_seen = self.arrival()
        entry = rng.choices(("link", "utm", "referral", "direct"), (60, 16, 14, 10))[0]
        visits = min(1 + int(rng.expovariate(0.6)), 8)
        context, context_at, clicks, signed_up = NO_CONTEXT, -math.inf, 0, False
        path: list[tuple[float, str, Context]] = []
        for visit in range(visits):
            if visit:
                at += rng.expovariate(1 / 4) * DAY + 600
            if at >= self.end:
                break
            session = self.new_id("s")
            if at - context_at > WINDOW:
                context = NO_CONTEXT
            kind = (
                entry
                if visit == 0
                else rng.choices(("link", "utm", "referral", None), (20, 5, 5, 70))[0]
            )
            if kind == "link":
                _, key, new = self.catalog.pick_link(rng)
                click = self.new_id("clk_")
                self.events.append(
                    (
                        at,
                        "link_clicked",
                        visitor,
                        session,
                        click,
                        new,
                        f"https://shop.example/?via={key}",
                        False,
                    )
                )
                self.touches.append((visitor, session, at, "click", click, new))
                context, context_at, clicks = new, at, clicks + 1
                path.append((at, "click", new))
                at += rng.uniform(0.5, 3)
            elif kind == "utm":
                new = rng.choices(self.catalog.utm, self.catalog.utm_weights)[0]
                self.touches.append((visitor, session, at, "utm", None, new))
                context, context_at = new, at
                path.append((at, "utm", new))
            elif kind == "referral":
                new = rng.choice(self.catalog.referrals)
                self.touches.append((visitor, session, at, "referral", None, new))
                if context == NO_CONTEXT:  # a referral never displaces a link or campaign
                    context, context_at = new, at
                path.append((at, "referral", new))
            started = at
            at, signed_up = self.visit(visitor, session, at, context, signed_up)
            referrer = f"https://{new[2]}/" if kind == "referral" else None
            self.sessions.append((visitor, session, started, at, "https://shop.example/", referrer))
        if path:
            self.paths[visitor] = path
        self.visitors.append((visitor, first_seen, min(at, self.end)))
        return clicks

    def visit(
        self, visitor: str, session: str, at: float, context: Context, signed_up: bool
    ) -> tuple[float, bool]:
        rng, events = self.rng, self.events

        def event(name: str, url: str) -> None:
            if at < self.end:
                events.append((at, name, visitor, session, None, context, url, False))

        event("page_view", "https://shop.example/")
        pricing = rng.random() < 0.33
        pages = int(rng.expovariate(1 / 2.8))
        for page in range(pages + (1 if pricing else 0)):
            at += rng.uniform(5, 120)
            if pricing and page == pages:
                event("page_view", "https://shop.example/pricing")
                event("pricing_view", "https://shop.example/pricing")
            else:
                event("page_view", "https://shop.example" + rng.choice(PAGES))
        if rng.random() < 0.22:
            at += rng.uniform(5, 60)
            event(rng.choice(CUSTOM), "https://shop.example/")
        if pricing and not signed_up and rng.random() < 0.22:
            at += rng.uniform(20, 200)
            event("signup_started", "https://shop.example/signup")
            if rng.random() < 0.65:
                at += rng.uniform(20, 300)
                event("signup_completed", "https://shop.example/welcome")
                if at < self.end:
                    self.signups.append((visitor, at, session))
                    signed_up = True
        return at, signed_up


class Payments:
    """Payments with their attributions and credits, consistent with the visitors' journeys."""

    def __init__(self, rng: random.Random, journeys: Journeys, start: float, end: float) -> None:
        self.rng, self.journeys, self.start, self.end = rng, journeys, start, end
        self.payments: list[dict[str, Any]] = []
        self.attributions: list[dict[str, Any]] = []
        self.credits: list[tuple[int, str, float, Context]] = []
        self.refunds: list[dict[str, Any]] = []

    def generate(self, budget: int) -> None:
        rng = self.rng
        signups = list(self.journeys.signups)
        rng.shuffle(signups)
        customers = iter(signups)
        signup: tuple[str | None, float, str | None] | None
        while len(self.payments) < budget:
            # Some customers pay without Bantico ever seeing them (and so do all of them once
            # the signed-up visitors are used up); the visitors never reached never paid.
            signup = next(customers, None) if rng.random() >= 0.04 else None
            if signup is None:
                signup = (None, self.start + (self.end - self.start) * rng.random(), None)
            visitor, signed_up, session = signup
            self.customer(visitor, signed_up, session, budget)

    def customer(
        self, visitor: str | None, signed_up: float, session: str | None, budget: int
    ) -> None:
        rng = self.rng
        at = signed_up + rng.uniform(60, 2 * DAY)
        if at >= self.end:
            return
        mode = "test" if rng.random() < 0.03 else "live"
        currency = rng.choices(CURRENCIES, [c[2] for c in CURRENCIES])[0]
        amount = rng.choice(PLANS)
        if currency[0] == "INR":
            amount *= 80
        customer = f"cus_{rng.getrandbits(48):012x}"
        subscription = f"sub_{rng.getrandbits(48):012x}" if rng.random() < 0.7 else None
        shares = self.shares(visitor, at)
        method = (
            "none"
            if shares is None
            else rng.choices(("metadata", "session", "identify"), (80, 12, 8))[0]
        )
        renewal = False
        while at < self.end and len(self.payments) < budget:
            self.payment(
                len(self.payments) + 1,
                at,
                mode,
                currency,
                amount,
                customer,
                subscription,
                renewal,
                visitor,
                session,
                method,
                shares,
            )
            renewal = True
            if subscription is None or rng.random() < 0.12:
                break
            at += 30 * DAY + rng.uniform(-3600, 3600)

    def shares(self, visitor: str | None, at: float) -> Shares | None:
        """As `bantico.attribution.credit.shares`: the touches inside the window, the last one
        the checkout's context; ~3% of otherwise attributable payments lose their context."""
        if visitor is None or self.rng.random() < 0.03:
            return None
        touches = [t for t in self.journeys.paths.get(visitor, []) if at - WINDOW <= t[0] <= at]
        strong = [t for t in touches if t[1] != "referral"]
        path = [t[2] for t in (strong or touches)][-4:]
        if not path:
            return None
        linear: dict[Context, float] = {}
        for context in path:
            linear[context] = linear.get(context, 0.0) + 1 / len(path)
        return {
            "last_touch": [(1.0, path[-1])],
            "first_touch": [(1.0, path[0])],
            "linear": list((w, c) for c, w in linear.items()),
        }

    def payment(
        self,
        payment_id: int,
        at: float,
        mode: str,
        currency: tuple[str, float, float],
        amount: int,
        customer: str,
        subscription: str | None,
        renewal: bool,
        visitor: str | None,
        session: str | None,
        method: str,
        shares: Shares | None,
    ) -> None:
        rng = self.rng
        if rng.random() < 0.01:
            amount = 0
        settled = round(amount * currency[1] * 0.95)
        refunded = 0
        if amount and rng.random() < 0.04:
            refunded = amount if rng.random() < 0.6 else amount // 2
            self.refunds.append(
                {
                    "provider_refund_id": f"ref_{payment_id:08d}",
                    "mode": mode,
                    "provider_payment_id": f"pay_{payment_id:08d}",
                    "amount": refunded,
                    "currency": currency[0],
                    "is_partial": refunded < amount,
                    "created_at": at + rng.uniform(DAY, 20 * DAY),
                }
            )
        final = shares["last_touch"][0][1] if shares else NO_CONTEXT
        metadata: dict[str, Any] = {}
        if method == "metadata" and not renewal:
            metadata = {
                k: v
                for k, v in zip(
                    ("linkId", "campaignId", "source", "medium", "content", "leadId"),
                    final,
                    strict=True,
                )
                if v
            }
            metadata.update(visitorId=visitor, sessionId=session)
        self.payments.append(
            {
                "id": payment_id,
                "mode": mode,
                "provider_payment_id": f"pay_{payment_id:08d}",
                "total_amount": amount,
                "currency": currency[0],
                "settlement_amount": settled,
                "settlement_currency": "USD",
                "tax": amount // 11,
                "settlement_tax": settled // 11,
                "customer_id": customer,
                "customer_email": f"{customer}@example.com",
                "customer_name": customer.title(),
                "subscription_id": subscription,
                "checkout_session_id": None if renewal else f"cks_{payment_id:08d}",
                "charge_type": ("renewal" if renewal else "new") if subscription else None,
                "counts_as_revenue": amount > 0,
                "excluded_reason": None if amount else "zero amount",
                "refunded_amount": refunded,
                "refunded_settlement": round(settled * refunded / amount) if amount else 0,
                "metadata": metadata,
                "created_at": at,
                "received_via": "webhook",
                "raw": {"payment_id": f"pay_{payment_id:08d}", "status": "succeeded"},
            }
        )
        self.attributions.append(
            {
                "payment_id": payment_id,
                "method": "session" if renewal and shares else method,
                "confidence": {"metadata": 1.0, "session": 0.85, "identify": 0.7}.get(method, 0.0),
                **dict(zip(CONTEXT_COLUMNS, final, strict=True)),
                "visitor_id": visitor,
                "customer_email_key": f"{customer}@example.com",
                "metadata_link_id": metadata.get("linkId"),
                "metadata_lead_id": metadata.get("leadId"),
                "metadata_campaign_id": metadata.get("campaignId"),
                "warnings": [],
                "trace": [{"step": method, "outcome": "found" if shares else "none"}],
                "resolved_at": at + 1,
            }
        )
        for model in ("last_touch", "first_touch", "linear"):
            for weight, context in shares[model] if shares else [(1.0, NO_CONTEXT)]:
                self.credits.append((payment_id, model, weight, context))


# --- writing ------------------------------------------------------------------------------------


class Writer:
    """Batched inserts of plain tuples: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def stamp(self, at: float) -> Any:
        moment = datetime.fromtimestamp(at, UTC)
        # SQLAlchemy's SQLite DATETIME storage format (checked in `check_sqlite_format`).
        return (
            moment if self.postgres else moment.replace(tzinfo=None).isoformat(" ", "microseconds")
        )

    def json(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value)

    def write(
        self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]], batch: int = 50_000
    ) -> int:
        count = 0
        if self.postgres:
            with self.engine.connect() as connection:
                raw: Any = connection.connection.driver_connection
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                raw.commit()
            return count
        quote = self.engine.dialect.identifier_preparer.quote
        statement = (
            f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        pending: list[tuple[Any, ...]] = []
        with self.engine.connect() as connection:
            # A bulk load: a large page cache, and no fsync (a crash means generating again).
            connection.exec_driver_sql("PRAGMA cache_size = -1000000")
            connection.exec_driver_sql("PRAGMA synchronous = OFF")
            for row in rows:
                pending.append(row)
                if len(pending) >= batch:
                    connection.exec_driver_sql(statement, pending)
                    connection.commit()
                    count, pending = count + len(pending), []
            if pending:
                connection.exec_driver_sql(statement, pending)
                connection.commit()
                count += len(pending)
        return count


def check_sqlite_format(writer: Writer) -> None:
    """The hand-formatted timestamps must be exactly what the ORM would have stored."""
    column = Base.metadata.tables["events"].c.occurred_at
    process = column.type.dialect_impl(writer.engine.dialect).bind_processor(writer.engine.dialect)
    at = 1_790_000_000.123456
    assert process is not None
    assert process(datetime.fromtimestamp(at, UTC)) == writer.stamp(at), "timestamp format"


def secondary_indexes(engine: Engine, table: str) -> list[Any]:
    return [i for i in inspect(engine).get_indexes(table) if not i.get("unique")]


def without_indexes(engine: Engine, load: Callable[[], None]) -> None:
    """Run `load` with the big tables' secondary indexes dropped, then rebuild them."""
    dropped = {table: secondary_indexes(engine, table) for table in BIG_TABLES}
    with engine.begin() as connection:
        for indexes in dropped.values():
            for index in indexes:
                connection.execute(text(f"DROP INDEX {index['name']}"))
    load()
    for table, indexes in dropped.items():
        for index in indexes:
            started = time.monotonic()
            columns = [Base.metadata.tables[table].c[name] for name in index["column_names"]]
            with engine.begin() as connection:
                Index(index["name"], *columns).create(connection)
            log(f"index {index['name']}: {time.monotonic() - started:.1f} s")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(
    engine: Engine, catalog: Catalog, journeys: Journeys, payments: Payments, start: float
) -> None:
    w = Writer(engine)
    if not w.postgres:
        check_sqlite_format(w)
    s, j = w.stamp, w.json
    w.write(
        "projects",
        [
            "id",
            "name",
            "token",
            "pricing_path",
            "attribution_window_days",
            "honour_gpc",
            "created_at",
        ],
        [(PROJECT_ID, "Benchmark shop", "btk_benchmark", "/pricing", 30, True, s(start))],
    )
    w.write(
        "campaigns",
        ["project_id", "key", "name", "created_at"],
        [(PROJECT_ID, c, c.replace("-", " ").title(), s(start)) for c in catalog.campaigns],
    )
    w.write(
        "leads",
        ["project_id", "key", "name", "created_at"],
        [(PROJECT_ID, lead, f"Lead {lead[5:]}", s(start)) for lead in catalog.leads],
    )
    w.write(
        "links",
        [
            "id",
            "project_id",
            "key",
            "destination_url",
            *CONTEXT_COLUMNS[1:],
            "created_at",
            "updated_at",
        ],
        [
            (
                link_id,
                PROJECT_ID,
                key,
                f"https://shop.example/?via={key}",
                *ctx[1:],
                s(start),
                s(start),
            )
            for link_id, key, ctx in catalog.links
        ],
    )

    def big_tables() -> None:
        started = time.monotonic()
        n = w.write(
            "visitors",
            ["project_id", "id", "first_seen_at", "last_seen_at"],
            ((PROJECT_ID, v, s(first), s(last)) for v, first, last in journeys.visitors),
        )
        log(f"visitors: {n:,} ({time.monotonic() - started:.0f} s)")
        n = w.write(
            "sessions",
            [
                "project_id",
                "id",
                "visitor_id",
                "started_at",
                "last_seen_at",
                "landing_url",
                "referrer",
            ],
            (
                (PROJECT_ID, sid, v, s(a), s(b), url, ref)
                for v, sid, a, b, url, ref in journeys.sessions
            ),
        )
        log(f"sessions: {n:,} ({time.monotonic() - started:.0f} s)")
        n = w.write(
            "touches",
            [
                "project_id",
                "visitor_id",
                "session_id",
                "occurred_at",
                "kind",
                "click_id",
                *CONTEXT_COLUMNS,
            ],
            (
                (PROJECT_ID, v, sid, s(at), kind, click, *ctx)
                for v, sid, at, kind, click, ctx in sorted(journeys.touches, key=lambda t: t[2])
            ),
        )
        log(f"touches: {n:,} ({time.monotonic() - started:.0f} s)")
        false, true = (False, True) if w.postgres else (0, 1)
        n = w.write(
            "events",
            [
                "project_id",
                "name",
                "occurred_at",
                "received_at",
                "visitor_id",
                "session_id",
                "click_id",
                *CONTEXT_COLUMNS,
                "url",
                "is_bot",
            ],
            (
                (PROJECT_ID, name, stamp, stamp, v, sid, click, *ctx, url, true if bot else false)
                for at, name, v, sid, click, ctx, url, bot in journeys.events
                for stamp in (s(at),)
            ),
        )
        log(f"events: {n:,} ({time.monotonic() - started:.0f} s)")
        payment_columns = [c for c in payments.payments[0] if c not in ("created_at",)]
        n = w.write(
            "payments",
            [
                "project_id",
                "provider",
                "status",
                "is_update_payment_method",
                "disputed_amount",
                "received_at",
                "updated_at",
                "created_at",
                *payment_columns,
            ],
            (
                (
                    PROJECT_ID,
                    "dodo",
                    "succeeded",
                    false,
                    0,
                    s(p["created_at"] + 2),
                    s(p["created_at"] + 2),
                    s(p["created_at"]),
                    *(j(p[c]) if c in ("metadata", "raw") else p[c] for c in payment_columns),
                )
                for p in payments.payments
            ),
        )
        log(f"payments: {n:,} ({time.monotonic() - started:.0f} s)")
        attribution_columns = list(payments.attributions[0])
        w.write(
            "attributions",
            ["project_id", *attribution_columns],
            (
                (
                    PROJECT_ID,
                    *(
                        s(a[c])
                        if c == "resolved_at"
                        else j(a[c])
                        if c in ("warnings", "trace")
                        else a[c]
                        for c in attribution_columns
                    ),
                )
                for a in payments.attributions
            ),
        )
        n = w.write(
            "attribution_credits",
            ["project_id", "payment_id", "model", "weight", *CONTEXT_COLUMNS],
            (
                (PROJECT_ID, pid, model, weight, *ctx)
                for pid, model, weight, ctx in payments.credits
            ),
        )
        log(f"credits: {n:,} ({time.monotonic() - started:.0f} s)")
        w.write(
            "refunds",
            [
                "project_id",
                "provider",
                "status",
                "raw",
                "received_at",
                "provider_refund_id",
                "mode",
                "provider_payment_id",
                "amount",
                "currency",
                "is_partial",
                "created_at",
            ],
            (
                (
                    PROJECT_ID,
                    "dodo",
                    "succeeded",
                    j({"refund_id": r["provider_refund_id"]}),
                    s(r["created_at"]),
                    *(r[c] for c in list(r)[:-1]),
                    s(r["created_at"]),
                )
                for r in payments.refunds
            ),
        )

    without_indexes(engine, big_tables)
    roll_up(engine)
    if w.postgres:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('payments', 'id'), max(id)) FROM payments"
                )
            )
        # What autovacuum would soon do: statistics, and the visibility map that lets the
        # reports' index-only scans skip the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def roll_up(engine: Engine) -> None:
    """Fill the reports' rollups from the events, as the server's rollup worker would."""
    started = time.monotonic()
    factory = make_sessionmaker(engine)
    read = catch_up(factory, lag_seconds=0, batch=100_000, max_batches=1)
    if engine.dialect.name == "postgresql":
        # Statistics for the rollup tables, which autovacuum would gather soon: without them
        # PostgreSQL reads a visitor's rows by scanning the whole table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE visitor_days, traffic_days, funnel_clicks"))
    read += catch_up(factory, lag_seconds=0, batch=100_000)
    log(f"rollup: {read:,} events in {time.monotonic() - started:.0f} s")


def reset(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/bantico-bench.db")
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end", help="the data's last moment, ISO 8601 (default: now)")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the SQLite file / drop the PostgreSQL schema first",
    )
    args = parser.parse_args(argv)
    if args.database_url.startswith("sqlite:///") and Path(
        args.database_url.removeprefix("sqlite:///")
    ).resolve().is_relative_to(ROOT):
        raise SystemExit("keep generated databases out of the repository (use /tmp)")
    if args.reset:
        reset(args.database_url)
    end_moment = datetime.fromisoformat(args.end) if args.end else datetime.now(UTC)
    end = end_moment.timestamp()
    start = (end_moment - timedelta(days=365)).timestamp()

    started = time.monotonic()
    rng = random.Random(args.seed)
    catalog = Catalog(rng)
    journeys = Journeys(rng, catalog, start, end)
    journeys.generate(args.events)
    payments = Payments(rng, journeys, start, end)
    payments.generate(args.payments)
    log(
        f"generated {len(journeys.events):,} events, {len(journeys.visitors):,} visitors, "
        f"{len(payments.payments):,} payments in {time.monotonic() - started:.0f} s"
    )

    engine = make_engine(args.database_url)
    try:
        with engine.connect() as connection:
            if (
                inspect(connection).has_table("projects")
                and connection.execute(
                    text("SELECT 1 FROM projects WHERE id = :id"), {"id": PROJECT_ID}
                ).first()
            ):
                raise SystemExit("the benchmark project exists already; add --reset")
        migrate(engine)
        load(engine, catalog, journeys, payments, start)
    finally:
        engine.dispose()
    log(f"done in {time.monotonic() - started:.0f} s: {args.database_url}")


if __name__ == "__main__":
    main()
