#!/usr/bin/env python
"""Dodo ingestion: verified webhook deliveries per second, and a 10,000-payment backfill.

1. Webhooks. Starts Bantico under uvicorn (a subprocess on 127.0.0.1, as `bantico serve` runs
   it) on a fresh database, with a project and a Dodo integration whose webhook secret is known.
   Every `payment.succeeded` delivery is distinct (its own `webhook-id`, payment and customer,
   attribution metadata naming one of five real links) and signed beforehand exactly as Dodo
   (Svix) signs it. `--concurrency` keep-alive connections send them as fast as the server
   answers; the client writes prepared bytes and reads the status line, so it costs the server's
   CPUs little. One more connection, the probe, sends its own deliveries one at a time and reads
   the database the instant each 2xx arrives: the payment, its attribution and the handled inbox
   row must already be committed. Afterwards the database must hold exactly one payment and one
   handled inbox row per delivery. Then every delivery is sent again (a Svix retry: same
   `webhook-id` and body, fresh signature) and the counts must not move.
2. Backfill. The Dodo emulator runs in this process (a thread), holding `--payments` payments
   over 80 days, with refunds (3% in full, 2% in part) and disputes (1%, ending lost, won,
   accepted, expired or cancelled), no webhooks, behind Dodo's documented rate limit
   (`--emulator-tier`, default Tier 0: 40 a second, 240 a minute) and its page cap. Bantico
   connects through the `connect` service with the emulator's test key and no public URL
   (polling only), its budget at `--rate-per-minute`/`--burst` (default 240/40), then runs
   passes as the server's reconciler does (`run_pass`: the lease, one pass within the
   scheduler's time budget) until none is left, printing a line per pass. Printed: the requests
   Dodo answered (and how many 429s), requests per payment, the wall time against the
   allowance's minimum for those requests (requests ÷ rate) and for the fewest Dodo's API
   allows (one full read per payment plus every list page once), passes and failed passes.
   Checked: every payment, refund and dispute stored once, every payment read in full, what
   refunds and disputes took back of each payment equal to the revenue rules applied to the
   emulator's ledger, and one more pass storing nothing in a handful of requests. At 240 a
   minute, 10,000 payments take about 45 minutes; a smoke run:
   `--skip-webhooks --payments 600 --rate-per-minute 2400 --emulator-tier 2`.

Loopback only; every run is bounded, and the server and emulator are stopped at the end. Not a
pytest test: run it by hand.

    .venv/bin/python benchmarks/bench_dodo.py [--deliveries 4000] [--concurrency 16]
        [--payments 10000] [--rate-per-minute 240] [--burst 40] [--emulator-tier 0]
        [--api-latency-ms 0] [--skip-webhooks] [--skip-backfill] [--json]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_dodo]

A PostgreSQL database has its `public` schema dropped and recreated before each part, so the
script only accepts databases whose name starts with `bench_dodo`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from uvicorn_server import free_port, start_uvicorn, stop_server  # noqa: E402  (benchmarks/)

SECRET_KEY = "bench-dodo-secret-key-not-for-production"
BUSINESS = "bus_0NidpUR3LLwbZ99t97YEe"
SIGNATURE_TOLERANCE = timedelta(minutes=5)  # Standard Webhooks (docs/dodo.md §2)
LINKS = [  # (campaign, source, medium, content, lead)
    ("spring26", "linkedin", "dm", "hero", "lead_1"),
    ("spring26", "newsletter", "email", "cta", None),
    ("launch", "twitter", "social", None, None),
    ("launch", "producthunt", "referral", "banner", None),
    ("partners", "acme", "affiliate", None, "lead_7"),
]


# --- the database ---------------------------------------------------------------------------------


def reset_database(url: str) -> None:
    """A fresh, migrated schema. PostgreSQL: only a `bench_dodo*` database is ever touched."""
    from sqlalchemy import text

    from bantico.db import make_engine, migrate

    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            name = engine.url.database or ""
            if not name.startswith("bench_dodo"):
                raise SystemExit(f"refusing to reset database {name!r}: use one named bench_dodo…")
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        migrate(engine)
    finally:
        engine.dispose()


@dataclass
class Fixture:
    project_id: str
    link_ids: list[str]
    secret: str  # the webhook signing secret, `whsec_…`


def prepare_project(url: str, *, with_webhook_secret: bool) -> Fixture:
    """A project and five tracked links through the real services; optionally the Dodo
    integration row with a webhook secret, as `connect` leaves it after registering."""
    from bantico.db import make_engine, make_sessionmaker, session_scope
    from bantico.integrations.dodo.models import DodoIntegration
    from bantico.kit.crypto import encrypt
    from bantico.links.schemas import LinkCreate
    from bantico.links.service import create_link
    from bantico.projects.service import create_project

    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            project = create_project(session, "Benchmark").project
            links = [
                create_link(
                    session,
                    project.id,
                    LinkCreate(
                        destination_url="https://shop.example/pricing",
                        campaign_id=campaign,
                        source=source,
                        medium=medium,
                        content=content,
                        lead_id=lead,
                    ),
                )
                for campaign, source, medium, content, lead in LINKS
            ]
            if with_webhook_secret:
                session.add(
                    DodoIntegration(
                        project_id=project.id,
                        mode="test",
                        api_key_encrypted=encrypt(SECRET_KEY, "k_bench"),
                        key_hint="ench",
                        webhook_state="registered",
                        webhook_endpoint_id="ep_bench",
                        webhook_url="https://bantico.example/webhooks/dodo/" + project.id,
                        webhook_secret_encrypted=encrypt(SECRET_KEY, secret),
                    )
                )
            return Fixture(project.id, [link.id for link in links], secret)
    finally:
        engine.dispose()


def metadata_for(fixture: Fixture, i: int) -> dict[str, str]:
    """What a checkout passes on from `bantico.context()` (docs/product.md §1, step 5)."""
    campaign, source, medium, content, lead = LINKS[i % len(LINKS)]
    tags = {
        "linkId": fixture.link_ids[i % len(LINKS)],
        "campaignId": campaign,
        "source": source,
        "medium": medium,
        "content": content or "",
        "leadId": lead or "",
        "visitorId": f"v_bench{i:07d}",
        "sessionId": f"s_bench{i:07d}",
    }
    return tags


@dataclass
class Stored:
    payments: int
    attributions: int
    inbox: int
    handled: int
    deliveries: int  # the sum of the inbox rows' delivery counters

    def __str__(self) -> str:
        return (
            f"{self.payments} payments, {self.attributions} attributions, {self.inbox} inbox "
            f"rows ({self.handled} handled, {self.deliveries} deliveries counted)"
        )


def count_stored(url: str, project_id: str) -> Stored:
    from sqlalchemy import func, select

    from bantico.attribution.models import Attribution
    from bantico.db import make_engine
    from bantico.integrations.dodo.models import WebhookMessage
    from bantico.payments.models import Payment

    def count(model: Any, *where: Any) -> int:
        query = select(func.count()).select_from(model).where(model.project_id == project_id)
        return int(connection.execute(query.where(*where)).scalar_one())

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inbox_deliveries = connection.execute(
                select(func.coalesce(func.sum(WebhookMessage.deliveries), 0)).where(
                    WebhookMessage.project_id == project_id
                )
            ).scalar_one()
            return Stored(
                payments=count(Payment, Payment.settlement_amount.is_not(None)),
                attributions=count(Attribution, Attribution.link_id.is_not(None)),
                inbox=count(WebhookMessage),
                handled=count(WebhookMessage, WebhookMessage.handled_at.is_not(None)),
                deliveries=int(inbox_deliveries),
            )
    finally:
        engine.dispose()


# --- the server process ---------------------------------------------------------------------------


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """uvicorn as `bantico serve` runs it (log level warning, proxy headers), one process group."""
    env = {
        **os.environ,
        "BANTICO_DATABASE_URL": url,
        "BANTICO_SECRET_KEY": SECRET_KEY,
        # No background reconciliation competing for the CPU (and no network) during runs.
        "BANTICO_DODO_SYNC_INTERVAL_SECONDS": "0",
        "PYTHONPATH": str(ROOT),
    }
    return start_uvicorn("bantico.app:create_app", port, log, env, [])


def process_cpu(pid: int) -> float:
    """User + system CPU seconds used so far by one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- deliveries -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    webhook_id: str
    payment_id: str
    body: bytes
    request: bytes = b""


def make_deliveries(fixture: Fixture, count: int, start: int) -> list[Delivery]:
    """`payment.succeeded` envelopes as Dodo sends them (docs/dodo.md §2), one per payment."""
    now = datetime.now(UTC)
    made = []
    for i in range(start, start + count):
        payment_id = f"pay_bench{os.urandom(6).hex()}{i:07d}"
        created = now - timedelta(seconds=count - i + start)
        data = {
            "payload_type": "Payment",
            "payment_id": payment_id,
            "business_id": BUSINESS,
            "brand_id": BUSINESS,
            "status": "succeeded",
            "total_amount": 4900,
            "currency": "USD",
            "tax": 0,
            "settlement_amount": 4612,
            "settlement_currency": "USD",
            "settlement_tax": 0,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "updated_at": None,
            "customer": {
                "customer_id": f"cus_bench{i // 2:07d}",  # most customers pay twice
                "email": f"buyer{i // 2}@example.com",
                "name": f"Buyer {i // 2}",
                "phone_number": None,
                "metadata": {},
            },
            "metadata": metadata_for(fixture, i),
            "billing": {
                "country": "US",
                "state": "CA",
                "city": "San Francisco",
                "street": "1 Market St",
                "zipcode": "94105",
            },
            "product_cart": [{"product_id": "pdt_0NkBmcZQJLSicxFMHlNHX", "quantity": 1}],
            "checkout_session_id": f"cks_bench{i:07d}",
            "payment_link": "https://test.checkout.dodopayments.com/cbq",
            "payment_method": "card",
            "payment_method_type": "card",
            "card_last_four": "4242",
            "card_network": "visa",
            "card_type": "credit",
            "card_issuing_country": "US",
            "subscription_id": None,
            "subscription_ids": [],
            "is_multi_subscription": False,
            "charge_type": None,
            "service_periods": [],
            "retry_attempt": 0,
            "includes_usage": False,
            "is_update_payment_method": False,
            "payment_provider": "dodo",
            "digital_products_delivered": False,
            "discounts": [],
            "invoice_id": f"inv_bench{i:07d}",
            "refunds": [],
            "refund_status": None,
            "disputes": [],
            "error_code": None,
            "error_message": None,
        }
        body = json.dumps(
            {
                "business_id": BUSINESS,
                "type": "payment.succeeded",
                "timestamp": created.isoformat().replace("+00:00", "Z"),
                "data": data,
            }
        ).encode()
        made.append(Delivery(f"msg_bench{os.urandom(8).hex()}{i:07d}", payment_id, body))
    return made


def sign(deliveries: list[Delivery], secret: str, port: int, project_id: str) -> float:
    """Sign every delivery now, as one Svix attempt; returns the signing time."""
    from standardwebhooks.webhooks import Webhook

    webhook = Webhook(secret)
    at = datetime.now(UTC)
    head = (
        f"POST /webhooks/dodo/{project_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nUser-Agent: Svix-Webhooks/rolling\r\n"
        "Accept: */*\r\n"
    )
    for delivery in deliveries:
        signature = webhook.sign(delivery.webhook_id, at, delivery.body.decode())
        delivery.request = (
            f"{head}webhook-id: {delivery.webhook_id}\r\n"
            f"webhook-timestamp: {int(at.timestamp())}\r\nwebhook-signature: {signature}\r\n"
            f"Content-Length: {len(delivery.body)}\r\n\r\n"
        ).encode() + delivery.body
    return at.timestamp()


class Connection:
    """One keep-alive HTTP/1.1 connection sending prepared requests: next to no client CPU."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if match is None:
            raise RuntimeError(f"response without Content-Length: {head!r}")
        body = await self.reader.readexactly(int(match.group(1)))
        if re.search(rb"(?i)\r\nconnection: *close", head):
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


@dataclass
class Run:
    label: str
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    bodies: dict[str, int] = field(default_factory=dict)  # the answer's "status" field
    elapsed: float = 0.0
    server_cpu: float = 0.0
    probes: int = 0
    probe_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0

    def record(self, status: int, body: bytes, seconds: float) -> None:
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(seconds)
        try:
            said = str(json.loads(body).get("status", "?"))
        except ValueError:
            said = "?"
        self.bodies[said] = self.bodies.get(said, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "ok_2xx": self.ok,
            "statuses": self.statuses,
            "answers": self.bodies,
            "seconds": round(self.elapsed, 3),
            "deliveries_per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p95_ms": round(self.percentile(95) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "server_cpu_ms_per_delivery": round(self.server_cpu * 1000 / max(self.sent, 1), 2),
            "probes": self.probes,
            "probe_failures": self.probe_failures[:5],
        }


class Probe:
    """Reads, from its own database connection, what a 2xx promises is already committed."""

    def __init__(self, url: str, project_id: str) -> None:
        from bantico.db import make_engine

        self.engine = make_engine(url)
        self.project_id = project_id

    def committed(self, delivery: Delivery) -> str | None:
        from sqlalchemy import select

        from bantico.attribution.models import Attribution
        from bantico.integrations.dodo.models import WebhookMessage
        from bantico.payments.models import Payment

        with self.engine.connect() as connection:
            payment = connection.execute(
                select(Payment.id).where(
                    Payment.project_id == self.project_id,
                    Payment.provider_payment_id == delivery.payment_id,
                )
            ).scalar_one_or_none()
            attribution = (
                payment is not None
                and connection.execute(
                    select(Attribution.payment_id).where(Attribution.payment_id == payment)
                ).scalar_one_or_none()
                is not None
            )
            handled = connection.execute(
                select(WebhookMessage.handled_at).where(
                    WebhookMessage.project_id == self.project_id,
                    WebhookMessage.webhook_id == delivery.webhook_id,
                )
            ).scalar_one_or_none()
        if payment is None or not attribution or handled is None:
            return (
                f"{delivery.webhook_id}: 2xx before commit (payment {payment is not None}, "
                f"attribution {attribution}, handled {handled is not None})"
            )
        return None

    def close(self) -> None:
        self.engine.dispose()


async def fire(
    run: Run,
    deliveries: list[Delivery],
    port: int,
    concurrency: int,
    probe: Probe | None = None,
    probe_deliveries: list[Delivery] | None = None,
) -> None:
    """Send every delivery once over `concurrency` connections; the probe runs alongside."""
    queue = iter(deliveries)
    done = asyncio.Event()

    async def worker() -> None:
        connection = Connection(port)
        try:
            for delivery in queue:
                began = time.perf_counter()
                status, body = await connection.send(delivery.request)
                run.record(status, body, time.perf_counter() - began)
        finally:
            await connection.close()

    async def prober() -> None:
        assert probe is not None and probe_deliveries is not None
        connection = Connection(port)
        try:
            for delivery in probe_deliveries:
                if done.is_set():
                    return
                began = time.perf_counter()
                status, body = await connection.send(delivery.request)
                run.record(status, body, time.perf_counter() - began)
                run.probes += 1
                if 200 <= status < 300:
                    failure = await asyncio.to_thread(probe.committed, delivery)
                    if failure:
                        run.probe_failures.append(failure)
        finally:
            await connection.close()

    probing = asyncio.create_task(prober()) if probe is not None else None
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - began
    done.set()
    if probing is not None:
        await probing


def timed(run: Run, server_pid: int, go: Callable[[], Any]) -> None:
    cpu = process_cpu(server_pid)
    asyncio.run(go())
    run.server_cpu = process_cpu(server_pid) - cpu


def print_run(run: Run) -> None:
    codes = ", ".join(f"{n} x {status}" for status, n in sorted(run.statuses.items()))
    cpu = run.server_cpu * 1000 / max(run.sent, 1)
    print(
        f"  {run.label:<22}{run.rate:>7.0f}/s  p50 {run.percentile(50) * 1000:6.1f} ms  "
        f"p95 {run.percentile(95) * 1000:6.1f} ms  {cpu:5.1f} ms server CPU each  "
        f"sent {run.sent}  [{codes}]",
        flush=True,
    )


def bench_webhooks(url: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    reset_database(url)
    fixture = prepare_project(url, with_webhook_secret=True)
    warm = make_deliveries(fixture, args.warmup, 0)
    main = make_deliveries(fixture, args.deliveries, args.warmup)
    probes = make_deliveries(fixture, args.deliveries, args.warmup + args.deliveries)
    port = free_port()
    server = start_server(url, port, scratch / "uvicorn.log")
    probe = Probe(url, fixture.project_id)
    checks: list[tuple[str, bool]] = []
    try:
        warming = Run("warm-up")
        sign(warm, fixture.secret, port, fixture.project_id)
        asyncio.run(fire(warming, warm, port, args.concurrency))

        first = Run("distinct deliveries")
        signed_at = sign(main + probes, fixture.secret, port, fixture.project_id)
        timed(first, server.pid, lambda: fire(first, main, port, args.concurrency, probe, probes))
        fresh = time.time() - signed_at < SIGNATURE_TOLERANCE.total_seconds()
        print_run(first)
        sent = warm + main + probes[: first.probes]
        answered = warming.ok + first.ok
        after_first = count_stored(url, fixture.project_id)
        print(f"    stored: {after_first}", flush=True)
        checks += [
            (
                f"every distinct delivery answered 2xx ({first.ok}/{first.sent}; any other answer "
                "rolled back, for Dodo to retry)",
                first.ok == first.sent == len(sent) - len(warm),
            ),
            (
                f"probe: payment, attribution and handled inbox row committed before each 2xx "
                f"({first.probes - len(first.probe_failures)}/{first.probes} seen at once)",
                first.probes > 0 and not first.probe_failures,
            ),
            (
                f"one payment, attribution and handled inbox row per 2xx and none for any other "
                f"answer ({after_first.payments}/{after_first.attributions}/{after_first.handled} "
                f"for {answered} 2xx)",
                after_first.payments
                == after_first.attributions
                == after_first.inbox
                == after_first.handled
                == answered,
            ),
            ("all signatures still inside the 5-minute tolerance when sent", fresh),
        ]

        # Every delivery again, as Svix retries it: same webhook-id and body, signed anew.
        again = Run("duplicates (retries)")
        sign(sent, fixture.secret, port, fixture.project_id)
        timed(again, server.pid, lambda: fire(again, sent, port, args.concurrency))
        print_run(again)
        after_again = count_stored(url, fixture.project_id)
        print(f"    stored: {after_again}", flush=True)
        duplicates, handled = again.bodies.get("duplicate", 0), again.bodies.get("handled", 0)
        checks += [
            (
                f'every retry answered 2xx: {duplicates} "duplicate", {handled} "handled" '
                f"(= the {len(sent) - answered} first answered otherwise)",
                again.ok == again.sent == len(sent)
                and duplicates == answered
                and handled == len(sent) - answered,
            ),
            (
                f"after the retries exactly one payment and handled inbox row per delivery "
                f"({after_again.payments}/{after_again.handled} for {len(sent)}), each counting "
                "both deliveries",
                after_again.payments
                == after_again.attributions
                == after_again.inbox
                == after_again.handled
                == len(sent)
                and after_again.deliveries == after_first.deliveries + again.sent,
            ),
        ]
    finally:
        probe.close()
        stop_server(server)
        server_log = (scratch / "uvicorn.log").read_text(errors="replace").splitlines()
        errors = [line for line in server_log if re.match(r"^[\w.]+(Error|Exception)\b", line)]
        if errors:
            print(f"    server log: {len(errors)} exception(s), the last: {errors[-1][:200]}")
    return {
        "distinct": first.as_dict(),
        "duplicates": again.as_dict(),
        "stored": after_again.__dict__,
        "checks": checks,
    }


# --- backfill -------------------------------------------------------------------------------------

# Every payment's aftermath, by its position in the history (docs/dodo.md §7 for what each does):
# every 33rd payment is refunded in full (3%), every 50th in half (2%; a full refund wins where
# both fall) and every 100th disputed for its whole amount (1%; each is also half refunded, so
# what is taken back is capped at the payment). The history is cut into stretches of equal
# length, and the disputes of each stretch end in one of these final statuses.
REFUND_EVERY, PARTIAL_REFUND_EVERY, DISPUTE_EVERY = 33, 50, 100
DISPUTE_ENDINGS = (
    "dispute_lost",
    "dispute_won",
    "dispute_accepted",
    "dispute_expired",
    "dispute_cancelled",
)
# What a decided dispute means for revenue (docs/dodo.md §7, independent of payments/rules.py so
# the check below is not the code it checks): these take the disputed amount out; won and
# cancelled (and open or challenged) do not.
SUBTRACTING = frozenset({"dispute_lost", "dispute_accepted", "dispute_expired"})
HISTORY_DAYS = 80
MAX_FAILED_IN_A_ROW = 3


@contextmanager
def emulator_with_history(count: int, fixture: Fixture, args: argparse.Namespace) -> Iterator[Any]:
    """`count` payments over `HISTORY_DAYS` days with their refunds and disputes, no webhooks,
    behind Dodo's documented rate limit for `--emulator-tier` and the default page cap."""
    from bantico_emulators.dodo import EmulatorOptions, EmulatorState, run_emulator
    from bantico_emulators.dodo.billing import create_payments
    from bantico_emulators.dodo.ratelimit import TIERS

    options = EmulatorOptions(rate_limit=TIERS[args.emulator_tier])
    with EmulatorState(options) as state, run_emulator(state) as running:
        end = datetime.now(UTC) - timedelta(minutes=1)
        start = end - timedelta(days=HISTORY_DAYS)
        stretch = (end - start) / len(DISPUTE_ENDINGS)
        made = 0
        for number, ending in enumerate(DISPUTE_ENDINGS):
            size = count // len(DISPUTE_ENDINGS) + (number < count % len(DISPUTE_ENDINGS))
            if size == 0:
                continue
            create_payments(
                state,
                size,
                start=start + stretch * number,
                end=start + stretch * (number + 1) - timedelta(seconds=1),
                metadata=lambda i, made=made: metadata_for(fixture, made + i),
                refund_every=REFUND_EVERY,
                partial_refund_every=PARTIAL_REFUND_EVERY,
                dispute_every=DISPUTE_EVERY,
                dispute_status=ending,
            )
            made += size
        if args.api_latency_ms > 0:  # every API answer waits, as if Dodo were further away
            state.faults.inject(None, count=10**9, delay=args.api_latency_ms / 1000)
        state.requests.reset()
        yield running


def expected_taken(ledger: Any) -> dict[str, tuple[int, int]]:
    """Per payment, what refunds and what disputes must take back of it, from the emulator's
    ledger: succeeded refunds, then subtracting disputes up to what the refunds left."""
    taken: dict[str, tuple[int, int]] = {}
    for payment in ledger.payments.values():
        refunded = sum(
            ledger.refunds[r].amount
            for r in payment.refund_ids
            if ledger.refunds[r].status == "succeeded"
        )
        disputed = sum(
            ledger.disputes[d].amount
            for d in payment.dispute_ids
            if ledger.disputes[d].status in SUBTRACTING
        )
        total = min(payment.total_amount, refunded + disputed)
        taken[payment.payment_id] = (refunded, total - min(total, refunded))
    return taken


class WarningCounter(logging.Handler):
    """Counts Bantico's warnings and errors by message (e.g. `rate_limit.local`)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        name = f"{record.name}: {record.getMessage()}"
        self.counts[name] = self.counts.get(name, 0) + 1


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def bench_backfill(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bantico.config import Settings
    from bantico.db import make_engine, make_sessionmaker, session_scope
    from bantico.integrations.dodo.client import PAGE_SIZE
    from bantico.integrations.dodo.connect import connect, status
    from bantico.integrations.dodo.scheduler import PASS_BUDGET, new_holder, run_pass
    from bantico.payments.models import Dispute, Payment, Refund
    from bantico.projects.models import Project
    from bantico_emulators.dodo import TEST_KEY

    reset_database(url)
    fixture = prepare_project(url, with_webhook_secret=False)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    warnings = WarningCounter()
    logging.getLogger("bantico").addHandler(warnings)
    rate = args.rate_per_minute
    try:
        with emulator_with_history(args.payments, fixture, args) as emulator:
            state = emulator.state
            ledger = state.ledger()
            made = (len(ledger.payments), len(ledger.refunds), len(ledger.disputes))
            # The fewest requests Dodo's API allows: every page of each list once (a hundred
            # objects a page, Dodo's largest) and one full read per payment, since its list
            # items lack the settlement (docs/dodo.md §4).
            fewest = made[0] + sum(math.ceil(n / PAGE_SIZE) for n in made)
            settings = Settings(
                database_url=url,
                secret_key=SECRET_KEY,
                public_url=None,
                dodo_test_url=emulator.test_url,
                dodo_live_url=emulator.live_url,
                dodo_sync_interval_seconds=0,
                dodo_backfill_days=90,
                dodo_rate_per_minute=rate,
                dodo_rate_burst=args.burst,
            )
            began = time.perf_counter()
            with session_scope(factory) as session:
                project = session.get(Project, fixture.project_id)
                assert project is not None
                connected = connect(session, settings, project, TEST_KEY)
                mode, webhook_state = connected.mode, connected.webhook_state
            at_connect = state.requests.snapshot()["by_route"]  # probing the key's mode
            print(
                f"  connected in {mode} mode ({webhook_state}); the emulator holds {made[0]} "
                f"payments, {made[1]} refunds and {made[2]} disputes over {HISTORY_DAYS} days "
                f"(Dodo's limit: tier {args.emulator_tier}); Bantico's budget {rate} a minute "
                f"in bursts of {args.burst}; passes of {PASS_BUDGET:g} s; at least {fewest} "
                f"requests, {minutes(fewest / rate * 60)}",
                flush=True,
            )
            holder = new_holder("bench")
            give_up = began + max(600.0, 5 * fewest / rate * 60)
            cpu_before = time.process_time()
            passes: list[dict[str, Any]] = []
            failed = in_a_row = 0
            gave_up: str | None = None
            totals = {"requests": 0, "throttled": 0, "waitedSeconds": 0.0, "detailsRead": 0}
            while True:
                number = len(passes) + 1
                started = time.perf_counter()
                problem: str | None = None
                report = None
                try:  # as the reconciler runs it: a lease, one pass within the time budget
                    report = run_pass(
                        factory, settings, fixture.project_id, holder, check_endpoint=number == 1
                    )
                except Exception as error:
                    problem = f"raised {type(error).__name__}: {error}"
                if report is None and problem is None:
                    problem = "another holder kept the lease"
                if report is not None:
                    if report.errors:
                        problem = f"errors {report.errors}"
                    for name in totals:
                        totals[name] += report.as_dict()[name]
                failed += problem is not None
                in_a_row = in_a_row + 1 if problem else 0
                with session_scope(factory) as session:
                    backfill = status(session, settings, fixture.project_id)["sync"]["backfill"]
                took = time.perf_counter() - started
                passes.append(
                    {
                        "seconds": round(took, 1),
                        "requests": report.requests if report else None,
                        "detailsRead": report.details_read if report else None,
                        "pages": report.pages if report else None,
                        "problem": problem,
                    }
                )
                print(
                    f"  pass {number:>3} at {time.perf_counter() - began:>6.0f} s ({took:>4.0f} s,"
                    f" {report.requests if report else '-':>4} requests; Dodo answered "
                    f"{state.requests.total} so far, {state.requests.too_many} with 429): "
                    f"{backfill['phase']} {backfill['done']}/{backfill['total']}, eta "
                    f"{backfill['etaSeconds']} s" + (f"  FAILED: {problem}" if problem else ""),
                    flush=True,
                )
                if report is not None and not report.more:
                    break
                if in_a_row >= MAX_FAILED_IN_A_ROW or time.perf_counter() > give_up:
                    gave_up = f"gave up after pass {number}"
                    print(f"  {gave_up}", flush=True)
                    break
            seconds = time.perf_counter() - began
            cpu = time.process_time() - cpu_before
            requests, refused = state.requests.total, state.requests.too_many
            routes = state.requests.snapshot()["by_route"]
            state.requests.reset()
            again = run_pass(factory, settings, fixture.project_id, holder)
            again_requests = state.requests.total
            with session_scope(factory) as session:
                stored = {
                    p.provider_payment_id: (p.refunded_amount, p.disputed_amount)
                    for p in session.execute(select(Payment)).scalars()
                }
                rows = session.execute(select(func.count()).select_from(Payment)).scalar_one()
                partial = session.execute(
                    select(func.count())
                    .select_from(Payment)
                    .where(Payment.details_pending | Payment.settlement_amount.is_(None))
                ).scalar_one()
                refunds = session.execute(select(func.count()).select_from(Refund)).scalar_one()
                disputes = session.execute(select(func.count()).select_from(Dispute)).scalar_one()
            taken = expected_taken(ledger)
    finally:
        logging.getLogger("bantico").removeHandler(warnings)
        engine.dispose()
    minimum = requests / rate * 60
    theoretical = fewest / rate * 60
    connecting = sum(at_connect.values())
    listed = {
        k: routes.get(f"GET /{k}", 0) - at_connect.get(f"GET /{k}", 0)
        for k in ("payments", "refunds", "disputes")
    }
    reads = routes.get("GET /payments/{id}", 0)
    wrong = [(k, stored.get(k), v) for k, v in taken.items() if stored.get(k) != v]
    result = {
        "payments": made[0],
        "refunds": made[1],
        "disputes": made[2],
        "rate_per_minute": rate,
        "burst": args.burst,
        "emulator_tier": args.emulator_tier,
        "passes": len(passes),
        "failed_passes": failed,
        "gave_up": gave_up,
        "seconds": round(seconds, 1),
        "requests": requests,
        "requests_429": refused,
        "requests_per_payment": round(requests / made[0], 4),
        "by_route": routes,
        "connect_requests": connecting,
        "list_pages": listed,
        "payment_reads": reads,
        "minimum_seconds": round(minimum, 1),
        "wall_over_minimum": round(seconds / minimum, 3),
        "fewest_requests": fewest,
        "fewest_per_payment": round(fewest / made[0], 4),
        "theoretical_minimum_seconds": round(theoretical, 1),
        "wall_over_theoretical": round(seconds / theoretical, 3),
        "cpu_seconds": round(cpu, 1),
        "bantico": {k: round(v, 1) for k, v in totals.items()},
        "longest_pass_seconds": max(p["seconds"] for p in passes),
        "pass_log": passes,
        "warnings": warnings.counts,
        "next_pass": {
            "requests": again_requests,
            "stored": again.payments_stored if again else None,
            "errors": again.errors if again else None,
        },
    }
    print(
        f"  Dodo answered {requests} requests ({refused} with 429) for {made[0]} payments: "
        f"{requests / made[0]:.4f} a payment (at least {fewest / made[0]:.4f}); list pages "
        f"{listed['payments']} of payments, {listed['refunds']} of refunds, "
        f"{listed['disputes']} of disputes; {reads} payments read in full; {connecting} to "
        f"connect; {requests - sum(listed.values()) - reads - connecting} other\n"
        f"  {seconds:.0f} s against {minimum:.0f} s for these requests at {rate} a minute "
        f"(x{seconds / minimum:.3f}) and {theoretical:.0f} s for the fewest (x"
        f"{seconds / theoretical:.3f}); {len(passes)} passes, {failed} failed; {cpu:.0f} s of "
        f"CPU in this process\n"
        f"  Bantico counted {totals['requests']} requests, {totals['throttled']} throttled, "
        f"{totals['waitedSeconds']:.0f} s waited for its budget (summed over its threads)"
        + "".join(f"\n  logged {n}x {name}" for name, n in warnings.counts.items()),
        flush=True,
    )
    checks = [
        (f"the backfill finished with no failed pass ({failed} of {len(passes)})", failed == 0),
        (f"Dodo answered no 429 ({refused})", refused == 0),
        (
            f"every payment stored once and read in full ({rows} rows, {len(stored)} distinct, "
            f"{made[0]} made, {partial} still partial)",
            rows == len(stored) == made[0] and set(stored) == set(taken) and partial == 0,
        ),
        (
            f"every refund and dispute stored once ({refunds}/{made[1]}, {disputes}/{made[2]})",
            (refunds, disputes) == made[1:],
        ),
        (
            "refunded and disputed amounts match the revenue rules on the emulator's ledger, "
            f"payment by payment ({len(wrong)} differ{': ' + str(wrong[:3]) if wrong else ''})",
            not wrong,
        ),
        (
            f"one more pass stored nothing new, without errors, in {again_requests} requests",
            again is not None
            and again.payments_stored == 0
            and not again.errors
            and again_requests <= 10,
        ),
    ]
    return {"run": result, "checks": checks}


# --- main -----------------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def print_table(out: dict[str, Any]) -> None:
    if "webhooks" in out:
        print(
            f"\n{'webhooks (' + out['database'] + ')':<28}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'CPU ms':>9}{'2xx':>13}"
        )
        for name in ("distinct", "duplicates"):
            run = out["webhooks"][name]
            print(
                f"{name:<28}{run['deliveries_per_s']:>8.0f}{run['p50_ms']:>9.1f}"
                f"{run['p95_ms']:>9.1f}{run['server_cpu_ms_per_delivery']:>9.1f}"
                f"{str(run['ok_2xx']) + '/' + str(run['sent']):>13}"
            )
    if "backfill" in out:
        run = out["backfill"]["run"]
        print(
            f"\nbackfill ({out['database']}): {run['payments']} payments, {run['refunds']} "
            f"refunds, {run['disputes']} disputes at {run['rate_per_minute']} requests a minute\n"
            f"  requests {run['requests']}: {run['requests_per_payment']} a payment (the fewest "
            f"possible: {run['fewest_per_payment']}); {run['requests_429']} answered 429\n"
            f"  {run['seconds']} s against a minimum of {run['minimum_seconds']} s "
            f"(x{run['wall_over_minimum']}) for these requests, "
            f"{run['theoretical_minimum_seconds']} s (x{run['wall_over_theoretical']}) for the "
            "fewest\n"
            f"  {run['passes']} passes, {run['failed_passes']} failed; the longest took "
            f"{run['longest_pass_seconds']} s"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--deliveries",
        type=int,
        default=4000,
        help="distinct webhook deliveries in the measured run",
    )
    parser.add_argument("--warmup", type=int, default=200, help="deliveries before measuring")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--payments", type=int, default=10_000, help="payments to backfill")
    parser.add_argument(
        "--rate-per-minute", type=int, default=240, help="Bantico's budget (Dodo's Tier 0: 240)"
    )
    parser.add_argument("--burst", type=int, default=40, help="Bantico's burst (Tier 0: 40)")
    parser.add_argument(
        "--emulator-tier",
        type=int,
        choices=(0, 1, 2),
        default=0,
        help="Dodo's documented limit the emulator enforces (0: 40/s and 240/min)",
    )
    parser.add_argument(
        "--api-latency-ms",
        type=float,
        default=0.0,
        help="delay every emulator API answer by this much (Dodo's round trip)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: fresh SQLite files in a temporary directory; a PostgreSQL "
        "database (named bench_dodo…) has its public schema recreated",
    )
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if not 1 <= args.deliveries <= 20_000 or not 0 <= args.warmup <= 2000:
        parser.error(
            "--deliveries must be 1..20000 (signatures expire after 5 minutes), --warmup 0..2000"
        )
    if not 1 <= args.concurrency <= 256 or not 1 <= args.payments <= 100_000:
        parser.error("--concurrency must be 1..256, --payments 1..100000")
    if not 0 <= args.api_latency_ms <= 1000:
        parser.error("--api-latency-ms must be 0..1000")
    return args


def main() -> int:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bantico-bench-dodo-"))
    sqlite = args.database_url is None
    shown = (
        re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", args.database_url)
        if not sqlite
        else f"SQLite (WAL) in {scratch}"
    )
    print(f"{machine()}\ndatabase {shown}\n", flush=True)
    out: dict[str, Any] = {"machine": machine(), "database": "sqlite" if sqlite else "postgresql"}
    checks: list[tuple[str, bool]] = []
    try:
        if not args.skip_webhooks:
            print(
                f"webhooks: {args.deliveries} distinct payment.succeeded deliveries over "
                f"{args.concurrency} connections (+1 probe), after {args.warmup} warm-up",
                flush=True,
            )
            url = args.database_url or f"sqlite:///{scratch / 'webhooks.db'}"
            out["webhooks"] = bench_webhooks(url, args, scratch)
            checks += out["webhooks"].pop("checks")
        if not args.skip_backfill:
            latency = f", {args.api_latency_ms:g} ms per API call" if args.api_latency_ms else ""
            print(
                f"\nbackfill: {args.payments} payments from the emulator (in-process thread"
                f"{latency})",
                flush=True,
            )
            url = args.database_url or f"sqlite:///{scratch / 'backfill.db'}"
            out["backfill"] = bench_backfill(url, args)
            checks += out["backfill"].pop("checks")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    print_table(out)
    print("\nchecks")
    for label, passed in checks:
        print(f"  [{'ok' if passed else 'FAIL'}] {label}")
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
