"""`bantico dodo …`: connect, sync with a progress bar, status, replay and disconnect."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from bantico.config import ensure_secret_key, get_settings
from bantico.db import session_scope
from bantico.integrations.dodo import connect as service
from bantico.integrations.dodo import webhooks
from bantico.integrations.dodo.scheduler import new_holder, run_pass
from bantico.integrations.dodo.sync import SyncReport
from bantico.kit.moments import moment, plural
from bantico.terminal import (
    JsonFlag,
    ProjectOpt,
    console,
    database_factory,
    fail,
    parse_when,
    pick_project,
)

dodo_app = typer.Typer(
    help="Connect Dodo Payments and bring its payments in.", no_args_is_help=True
)


# What `status` counts, in words.
COUNTED: dict[str, tuple[str, str]] = {
    "payments": ("payment", "payments"),
    "refunds": ("refund", "refunds"),
    "disputes": ("dispute", "disputes"),
    "webhookMessages": ("webhook message", "webhook messages"),
    "webhooksNotHandled": ("webhook not handled", "webhooks not handled"),
}


def parse_since(value: str | None) -> datetime | None:
    return parse_when(value, "--since")


def _passes(factory: Any, project_id: str, since: datetime | None, follow: bool) -> SyncReport:
    """Passes until nothing is left (or one, without `follow`), with a progress bar: payments
    read in full of those found, and the time left at the configured rate."""
    settings = get_settings()
    holder = new_holder("cli")
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    total = SyncReport(since=since, until=datetime.now(UTC))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("syncing from Dodo…", total=None)

        def show(_stage: str = "", _count: int = 0) -> None:
            with session_scope(factory) as session:
                state = service.status(session, settings, project_id)["sync"]["backfill"]
            bar.update(
                task,
                description=f"backfill {state['words']}",
                completed=state["done"],
                total=state["total"] or None,
            )

        while True:
            report = run_pass(
                factory,
                settings,
                project_id,
                holder,
                wait=3600.0,
                on_wait=show,
                progress=show,
                since=since,
            )
            if report is None:
                raise fail("another process kept this project's sync for an hour; try later")
            _add(total, report)
            since = None
            show()
            if not (follow and report.more) or report.errors:
                break
    return total


def _add(total: SyncReport, report: SyncReport) -> None:
    for name in ("pages", "payments_seen", "payments_stored", "refunds_seen", "disputes_seen"):
        setattr(total, name, getattr(total, name) + getattr(report, name))
    for name in ("details_read", "rechecked", "webhooks_completed", "requests", "throttled"):
        setattr(total, name, getattr(total, name) + getattr(report, name))
    total.errors, total.more = report.errors, report.more


@dodo_app.command("connect")
def connect(
    api_key: Annotated[
        str,
        typer.Option(
            prompt="Dodo API key", hide_input=True, help="The API key from Dodo's dashboard."
        ),
    ],
    project: ProjectOpt = None,
    backfill: Annotated[bool, typer.Option(help="Backfill history now.")] = True,
) -> None:
    """Connect Dodo Payments with an API key, register the webhook where possible, and
    backfill the last 90 days (BANTICO_DODO_BACKFILL_DAYS)."""
    settings = get_settings()
    ensure_secret_key(settings)
    with database_factory() as factory:
        with session_scope(factory) as session:
            chosen = pick_project(session, project)
            integration = service.connect(session, settings, chosen, api_key)
            project_id, mode = chosen.id, integration.mode
            state, reason = integration.webhook_state, integration.webhook_reason
        console.print(f"[green]connected[/green] in [bold]{mode}[/bold] mode")
        if state == "registered":
            console.print("webhooks: registered")
        else:
            console.print(f"webhooks: polling only — {reason}")
        if backfill:
            report = _passes(factory, project_id, None, follow=True)
            console.print(f"stored {report.payments_stored} payments from {report.pages} pages")
            _print_errors(report)


@dodo_app.command("sync")
def sync(
    since: Annotated[str | None, typer.Option(help="2026-01-31, an ISO time, or 30d.")] = None,
    project: ProjectOpt = None,
    as_json: JsonFlag = False,
    follow: Annotated[
        bool, typer.Option(help="Go on until the backfill is complete, not just one pass.")
    ] = True,
) -> None:
    """Reconcile now, and finish the history backfill; safe to repeat (each payment is
    stored once). Waits while the server's own pass holds the project."""
    with database_factory() as factory:
        with session_scope(factory) as session:
            project_id = pick_project(session, project).id
        if as_json:
            report = run_pass(
                factory,
                get_settings(),
                project_id,
                new_holder("cli"),
                wait=3600.0,
                since=parse_since(since),
            )
            typer.echo(json.dumps(report.as_dict() if report else None, default=str))
            return
        report = _passes(factory, project_id, parse_since(since), follow)
    console.print(
        f"seen {report.payments_seen} payments, stored {report.payments_stored}, "
        f"read {report.details_read} in full; {report.refunds_seen} refunds, "
        f"{report.disputes_seen} disputes; {report.requests} requests to Dodo"
        + (f", {report.throttled} throttled" if report.throttled else "")
    )
    _print_errors(report)


def _print_errors(report: SyncReport) -> None:
    for step, message in report.errors.items():
        console.print(f"[red]{step}[/red]: {message} (tried again on the next pass)")


@dodo_app.command("status")
def status(project: ProjectOpt = None, as_json: JsonFlag = False) -> None:
    """Show the connection: mode, webhook state, last webhook, last sync, counts."""
    with database_factory() as factory, session_scope(factory) as session:
        result = service.status(session, get_settings(), pick_project(session, project).id)
    if as_json:
        typer.echo(json.dumps(result, default=str))
        return
    if not result["connected"]:
        console.print("Dodo Payments is not connected: `bantico dodo connect`")
        return
    hook, synced = result["webhook"], result["sync"]
    console.print(f"mode        {result['mode']} (key …{result['keyLast4']})")
    console.print(
        f"webhooks    {hook['state']}" + (f" — {hook['reason']}" if hook["reason"] else "")
    )
    console.print(f"last webhook {moment(hook['lastReceivedAt'])}")
    console.print(f"last sync   {moment(synced['lastSyncAt'])}")
    console.print(f"backfill    {synced['backfill']['words']}")
    for step, message in synced["errors"].items():
        console.print(f"[red]error[/red]       {step}: {message}")
    rate = synced["rate"]
    console.print(
        f"rate        {rate['perMinute']} requests a minute, bursts of {rate['burst']}"
        + (f"; {rate['throttled']} answered 429 so far" if rate.get("throttled") else "")
    )
    counts = result["counts"]
    console.print("stored      " + ", ".join(plural(v, *COUNTED[k]) for k, v in counts.items()))


@dodo_app.command("replay")
def replay(
    webhook_id: Annotated[str | None, typer.Option(help="Replay this webhook-id only.")] = None,
    project: ProjectOpt = None,
) -> None:
    """Run stored webhook events through the handlers again (unhandled ones by default)."""
    with database_factory() as factory, session_scope(factory) as session:
        results = webhooks.replay(session, pick_project(session, project).id, webhook_id=webhook_id)
    for result in results:
        console.print(json.dumps(result, default=str))
    console.print(f"replayed {len(results)} event(s)")


@dodo_app.command("inbox")
def inbox(
    project: ProjectOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="Handled deliveries too.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Webhook deliveries not handled: rejected (with the reason) or waiting for Dodo."""
    with database_factory() as factory, session_scope(factory) as session:
        items = webhooks.inbox(
            session, pick_project(session, project).id, unhandled_only=not show_all
        )
    if as_json:
        typer.echo(json.dumps(items, default=str))
        return
    if not items:
        console.print("every webhook delivery was handled")
        return
    for item in items:
        console.print(
            f"{item['receivedAt']:%Y-%m-%d %H:%M}  {item['state']:<8} {item['type']:<24} "
            f"{item['webhookId']}  {item['reason'] or ''}",
            highlight=False,
        )
    console.print("`bantico dodo replay` runs them through the handlers again")


@dodo_app.command("disconnect")
def disconnect(project: ProjectOpt = None) -> None:
    """Disconnect Dodo Payments (stored payments are kept)."""
    with database_factory() as factory, session_scope(factory) as session:
        result = service.disconnect(session, get_settings(), pick_project(session, project).id)
    console.print("disconnected" + (f" — {result['note']}" if result["note"] else ""))
