"""The demo's server: Bantico on a port, the Dodo emulator beside it in the same process, a
demo project with its history, and what to look at printed on the terminal."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.accounts.service import create_user, user_by_email
from bantico.app import create_app
from bantico.attribution.explain import METHODS
from bantico.attribution.models import Attribution
from bantico.config import Settings, get_settings
from bantico.db import make_engine, make_sessionmaker, migrate, session_scope
from bantico.demo import shop
from bantico.demo.history import DemoProject, generate_history
from bantico.demo.sales import add_products
from bantico.integrations.dodo.connect import connect
from bantico.links.models import Link
from bantico.payments.models import Payment
from bantico.projects import service as projects
from bantico.projects.models import Project
from bantico.terminal import console, fail
from bantico_emulators.dodo.cli import describe
from bantico_emulators.dodo.options import EmulatorOptions
from bantico_emulators.dodo.server import RunningEmulator, run_emulator
from bantico_emulators.dodo.state import LIVE_KEY, ONE_TIME_PRODUCT_ID, EmulatorState

DEMO_LOGIN = "demo@bantico.example"
DAYS = 60


def demo_settings(database_url: str, public_url: str, emulator: RunningEmulator) -> Settings:
    """The environment's settings, pointed at the demo's own database, this process's address
    (so that the emulator's webhooks reach it) and the emulator as Dodo's test and live hosts."""
    base = get_settings()
    return base.model_copy(
        update={
            "database_url": database_url,
            "public_url": public_url,
            "dodo_test_url": emulator.test_url,
            "dodo_live_url": emulator.live_url,
            # Only the emulator's keys get encrypted, and they are re-encrypted on every start.
            "secret_key": base.secret_key or secrets.token_urlsafe(32),
        }
    )


def local_url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def serving(app: Any, host: str, port: int) -> Iterator[threading.Thread]:
    """Serve `app` from a background thread; the emulator delivers webhooks to it while the
    history is generated. The socket is bound here, so a busy port fails at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets (see the emulator).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise fail(f"cannot listen on {host}:{port} ({error.strerror}); try --port") from None
    config = uvicorn.Config(app, log_level="warning", proxy_headers=False, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="bantico-demo", daemon=True
    )
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise fail("the server did not start")
            time.sleep(0.02)
        yield thread
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _demo_project(factory: sessionmaker[Session], fresh: bool) -> Project | None:
    with session_scope(factory) as session:
        if fresh:  # everything else of the project goes with it (ON DELETE CASCADE)
            session.execute(delete(Project).where(Project.name == shop.PROJECT_NAME))
            return None
        return (
            session.execute(
                select(Project)
                .where(Project.name == shop.PROJECT_NAME)
                .order_by(Project.created_at)
            )
            .scalars()
            .first()
        )


def _login(session: Session) -> str:
    """A dashboard account for the demo, with a new password on every start."""
    existing = user_by_email(session, DEMO_LOGIN)
    if existing is not None:
        session.delete(existing)
        session.flush()
    password = secrets.token_urlsafe(12)
    create_user(session, DEMO_LOGIN, password)
    return password


def _examples(session: Session, project_id: str) -> dict[str, str]:
    """A payment for each way of attributing, and a renewal, to explain."""
    found: dict[str, str] = {}
    rows = session.execute(
        select(Attribution.method, Payment.charge_type, Payment.provider_payment_id)
        .join(Payment, Payment.id == Attribution.payment_id)
        .where(Payment.project_id == project_id, Payment.mode == "live")
        .order_by(Payment.created_at)
    )
    for method, charge, payment_id in rows:
        found.setdefault("a renewal" if charge == "renewal" else METHODS[method], payment_id)
    return found


def _show(
    base: str,
    database_url: str,
    project: Project,
    secret: str,
    password: str,
    examples: dict[str, str],
) -> None:
    since = project.created_at.date() + timedelta(days=1)
    auth = '-H "Authorization: Bearer $BANTICO_KEY"'
    api = f"{base}/api/v1"
    console.print(f"\n[bold green]Bantico demo[/bold green] is running at [bold]{base}[/bold]")
    console.print(f"  dashboard  {base}/app/p/{project.id}  (log in as {DEMO_LOGIN} / {password})")
    console.print(f"  API docs   {base}/docs")
    console.print(f"  project    {project.name} ({project.id})")
    console.print(f"  token      {project.token}")
    console.print(f"  secret key {secret}")
    console.print(f"\nReports (by default the last 30 days; the history has {DAYS}):")
    console.print(f"  export BANTICO_KEY={secret}")
    for query in (
        f"reports/attribution?groupBy=campaign&from={since}",
        f"reports/attribution?groupBy=source&model=first_touch&from={since}",
        f"reports/attribution?groupBy=link&format=csv&from={since}",
        f"reports/timeseries?interval=week&from={since}",
        f"reports/funnel?from={since}",
        f"reports/attribution?groupBy=campaign&mode=test&from={since}",
    ):
        console.print(f"  curl -s {auth} '{api}/{query}'")
    console.print(
        f"  BANTICO_DATABASE_URL={database_url} .venv/bin/bantico report --by source "
        f"--from {since} --project {project.id}"
    )
    console.print("Payments, and why each was attributed as it was:")
    console.print(f"  curl -s {auth} '{api}/payments?limit=10'")
    for kind, payment_id in examples.items():
        console.print(f"  curl -s {auth} {api}/payments/{payment_id}  [dim]# {kind}[/dim]")


def _show_emulator(emulator: RunningEmulator, link_id: str | None) -> None:
    console.print(f"\n{describe(emulator.state, emulator.base_url)}")
    metadata = f',"metadata":{{"linkId":"{link_id}"}}' if link_id else ""
    body = f'{{"product_cart":[{{"product_id":"{ONE_TIME_PRODUCT_ID}"}}]{metadata}}}'
    console.print("  pay in a browser: open the checkout_url this answers, then Pay")
    console.print(
        f"  curl -s -X POST {emulator.live_url}/checkouts -H 'Authorization: Bearer {LIVE_KEY}' "
        f"-H 'content-type: application/json' -d '{body}'"
    )


def run_demo(
    host: str, port: int, database_url: str, *, fresh: bool, visitors: int, seed: int
) -> None:
    base = local_url(host, port)
    engine = make_engine(database_url)
    try:
        migrate(engine)
        factory = make_sessionmaker(engine)
        with EmulatorState(EmulatorOptions()) as state, run_emulator(state) as emulator:
            add_products(state)
            settings = demo_settings(database_url, base, emulator)
            project = _demo_project(factory, fresh)
            secret = ""
            if project is not None:
                console.print(f"Reusing the demo in {database_url} (--fresh makes a new one).")
                with session_scope(factory) as session:
                    project = session.merge(project)
                    # A new emulator and secret key every start: connect again, before the
                    # server (and its reconciler) starts.
                    connect(session, settings, project, LIVE_KEY)
                    secret = projects.create_secret_key(session, project)
            with serving(create_app(settings, engine=engine), host, port) as thread:
                if project is None:
                    project, secret = _generate(factory, state, base, visitors, seed)
                with session_scope(factory) as session:
                    password = _login(session)
                    examples = _examples(session, project.id)
                    link_id = session.execute(
                        select(Link.id).where(Link.project_id == project.id).limit(1)
                    ).scalar()
                _show(base, database_url, project, secret, password, examples)
                _show_emulator(emulator, link_id)
                console.print("\nCtrl-C stops the demo.")
                try:
                    while thread.is_alive():
                        thread.join(0.5)
                except KeyboardInterrupt:
                    console.print("stopping")
    finally:
        engine.dispose()


def _generate(
    factory: sessionmaker[Session], state: EmulatorState, base: str, visitors: int, seed: int
) -> tuple[Project, str]:
    with session_scope(factory) as session:
        created = projects.create_project(session, shop.PROJECT_NAME)
    project = created.project
    demo = DemoProject(project.id, project.token, created.secret_key)
    console.print(f"Making up {DAYS} days of history for [bold]{project.name}[/bold]:")
    with httpx.Client(base_url=base, timeout=60, trust_env=False) as http:
        history = generate_history(
            factory,
            http,
            state,
            demo,
            visitors=visitors,
            days=DAYS,
            seed=seed,
            workers=4,
            say=lambda step: console.print(f"  {step}"),
        )
    kinds = Counter(item.kind for item in history.plan.after_sales)
    console.print(
        f"  done in {history.seconds:.0f} s: {len(history.payments)} checkouts, "
        f"{kinds['renew']} renewals, {kinds['refund']} refunds, {kinds['dispute']} lost dispute"
    )
    with session_scope(factory) as session:
        found = session.get(Project, project.id)
        assert found is not None
        return found, created.secret_key
