"""The `bantico` command: run the server and manage projects and links from a terminal."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from bantico.accounts import setup as first_run
from bantico.accounts.service import has_users
from bantico.config import ensure_secret_key, get_settings
from bantico.dashboard.snippets import loader as loader_snippet
from bantico.demo.command import demo_command
from bantico.integrations.dodo.commands import dodo_app
from bantico.kit import instance
from bantico.links import schemas as link_schemas
from bantico.links import service as link_service
from bantico.projects import service as project_service
from bantico.terminal import (
    JsonFlag,
    ProjectOpt,
    console,
    database,
    database_factory,
    fail,
    parse_when,
    pick_project,
)
from bantico.wiring import connect_hooks

app = typer.Typer(
    help="Bantico: self-hostable attribution for tracked links and Dodo Payments.",
    no_args_is_help=True,
)
project_app = typer.Typer(help="Create and inspect projects.", no_args_is_help=True)
links_app = typer.Typer(help="Create and list tracked links.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(links_app, name="links")
app.add_typer(dodo_app, name="dodo")
app.command("demo")(demo_command)


@app.callback()
def _start() -> None:
    """Bantico: self-hostable attribution for tracked links and Dodo Payments."""
    connect_hooks()  # every command may store what attribution and reports react to


DEFAULT_PORT = 8000


def _listening_url(host: str, port: int) -> str:
    """The address `serve` answers on, as this machine reaches it."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def _short_link_base(session: Session) -> tuple[str, str | None]:
    """Where short links point, and a note when that is a guess: BANTICO_PUBLIC_URL, else the
    address `bantico serve` last listened on with this database."""
    configured = get_settings().public_url
    if configured:
        return configured, None
    recorded = instance.recall(session, instance.SERVE_ADDRESS)
    if recorded:
        return recorded, (
            f"short URLs use {recorded}, where `bantico serve` last ran; set "
            "BANTICO_PUBLIC_URL to the address your visitors reach"
        )
    fallback = _listening_url("127.0.0.1", DEFAULT_PORT)
    return fallback, (
        f"no server has run on this database yet: short URLs assume {fallback}; set "
        "BANTICO_PUBLIC_URL to the address your visitors reach"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port and the database (PostgreSQL for more "
            "than one, in production).",
        ),
    ] = 1,
) -> None:
    """Start the server. Applies migrations and creates a first project on an empty database."""
    import uvicorn

    base = get_settings().public_url or _listening_url(host, port)
    if ensure_secret_key(get_settings()):
        console.print(
            f"[dim]made a secret key in {get_settings().secret_key_file} "
            "(or set BANTICO_SECRET_KEY); keep it with the database[/dim]"
        )
    with database() as session:
        project = project_service.first_project(session)
        if project is None:
            created = project_service.create_project(session, "My project")
            project, secret = created.project, created.secret_key
        else:
            secret = None
        # Dashboard first run: a one-time link to create the admin account (bantico/accounts/).
        setup_token = None if has_users(session) else first_run.issue_token(session)
        instance.remember(session, instance.SERVE_ADDRESS, _listening_url(host, port))
    console.print(f"[bold green]Bantico[/bold green] is running at [bold]{base}[/bold]")
    if setup_token:
        console.print("  set up the dashboard (the link works once, for 24 hours):")
        console.print(f"  [bold]{base}/setup?token={setup_token}[/bold]", soft_wrap=True)
    else:
        console.print(f"  dashboard  {base}/app")
    console.print(f"  project    {project.name} ({project.id})")
    console.print(f"  token      {project.token}")
    if secret:
        console.print(f"  secret key {secret}  [dim](shown once; keep it safe)[/dim]")
    else:
        console.print(
            "  secret key [dim]shown when the project was created; "
            "`bantico project key` makes a new one[/dim]"
        )
    # The same snippet as the README and the Install page.
    console.print(
        "  install    " + loader_snippet(project.token, base).replace("\n", ""), markup=False
    )
    if workers > 1:
        console.print(f"  workers    {workers} processes")
    # At log level warning uvicorn's access lines are never shown, but it still formats each
    # one's client address and path and asks the logger; without the access log it does not.
    uvicorn.run(
        "bantico.app:serving_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        # Forwarded headers are believed only from BANTICO_TRUSTED_PROXIES (in create_app);
        # uvicorn's own default would believe any local process.
        proxy_headers=False,
        log_level="warning",
        access_log=False,
    )


@project_app.command("create")
def project_create(name: str, as_json: JsonFlag = False) -> None:
    """Create a project and print its id, public token and a secret key."""
    with database() as session:
        created = project_service.create_project(session, name)
    out = {
        "id": created.project.id,
        "name": created.project.name,
        "token": created.project.token,
        "secretKey": created.secret_key,
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    for label, value in out.items():
        console.print(f"{label:>10}  {value}")


@project_app.command("key")
def project_key(project: ProjectOpt = None, as_json: JsonFlag = False) -> None:
    """Create another secret key for a project."""
    with database() as session:
        chosen = pick_project(session, project)
        secret = project_service.create_secret_key(session, chosen)
    typer.echo(json.dumps({"project": chosen.id, "secretKey": secret}) if as_json else secret)


@links_app.command("create")
def links_create(
    destination_url: str,
    campaign: Annotated[str | None, typer.Option(help="Campaign id.")] = None,
    source: Annotated[str | None, typer.Option(help="Source, e.g. linkedin.")] = None,
    medium: Annotated[str | None, typer.Option(help="Medium, e.g. dm.")] = None,
    content: Annotated[str | None, typer.Option(help="Content, e.g. hero-cta.")] = None,
    lead: Annotated[str | None, typer.Option(help="Lead id.")] = None,
    key: Annotated[str | None, typer.Option(help="Custom short key.")] = None,
    project: ProjectOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a tracked link and print its short URL."""
    try:
        data = link_schemas.LinkCreate(
            destination_url=destination_url,
            campaign_id=campaign,
            source=source,
            medium=medium,
            content=content,
            lead_id=lead,
            key=key,
        )
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    from bantico.links.routes import to_schema

    with database() as session:
        link = link_service.create_link(session, pick_project(session, project).id, data)
        base, note = _short_link_base(session)
        out = to_schema(link, base, 0)
    if as_json:
        typer.echo(out.model_dump_json(by_alias=True))
    else:
        console.print(f"{out.url}  [dim]→ {out.destination_url}  ({out.id})[/dim]")
        if note:
            console.print(f"[dim]{note}[/dim]")


@links_app.command("list")
def links_list(
    project: ProjectOpt = None,
    archived: Annotated[bool, typer.Option(help="Include archived links.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List tracked links with their click counts."""
    from bantico.links.routes import to_schema

    with database() as session:
        links = link_service.list_links(
            session, pick_project(session, project).id, include_archived=archived
        )
        counts = link_service.click_counts(session, (link.id for link in links))
        base, note = _short_link_base(session)
        items = [to_schema(link, base, counts.get(link.id, 0)) for link in links]
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json", by_alias=True) for item in items]))
        return
    if not items:
        console.print("No links yet: `bantico links create URL` makes one.")
        return
    # The short URL and the clicks never shrink; the rest gives way on a narrow terminal.
    table = Table()
    table.add_column(
        "short URL", no_wrap=True, min_width=max((len(i.url) for i in items), default=9)
    )
    table.add_column("clicks", justify="right", no_wrap=True, min_width=6)
    table.add_column("destination", overflow="ellipsis", max_width=40)
    for name in ("campaign", "source", "medium"):
        table.add_column(name, overflow="ellipsis", max_width=16)
    table.add_column("id", overflow="ellipsis")
    for item in items:
        table.add_row(
            item.url,
            str(item.clicks),
            item.destination_url,
            item.campaign_id or "",
            item.source or "",
            item.medium or "",
            item.id,
        )
    console.print(table)
    if note:
        console.print(f"[dim]{note}[/dim]")


@app.command()
def report(
    by: Annotated[str, typer.Option(help="link, campaign, source, medium, content or lead.")] = (
        "campaign"
    ),
    model: Annotated[str, typer.Option(help="last_touch, first_touch or linear.")] = "last_touch",
    mode: Annotated[str, typer.Option(help="live or test.")] = "live",
    since: Annotated[
        str | None, typer.Option("--from", help="Start: 2026-11-01, yesterday, or 30d.")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="End (exclusive), as --from.")] = None,
    project: ProjectOpt = None,
    as_json: JsonFlag = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Print the attribution report: which links, campaigns and channels made money."""
    from bantico.reports import present
    from bantico.reports.attribution import attribution_report
    from bantico.reports.filters import COLUMNS, make_filters
    from bantico.reports.summary import summary

    if by not in COLUMNS:
        raise fail(f"--by must be one of {', '.join(COLUMNS)}", 2)
    if mode not in ("live", "test"):
        raise fail("--mode must be live or test", 2)
    with database() as session:
        filters = make_filters(
            pick_project(session, project).id,
            mode=mode,
            model=model,
            since=parse_when(since, "--from"),
            until=parse_when(until, "--to"),
        )
        data = present.attribution_out(session, attribution_report(session, filters, by))
        data["summary"] = summary(session, filters)
    if as_json:
        typer.echo(json.dumps(present.jsonable(data)))
        return
    if as_csv:
        typer.echo(present.attribution_csv(data), nl=False)
        return
    title = (
        f"Revenue by {by} · {filters.model} · {mode} · "
        f"{filters.since:%Y-%m-%d} to {filters.until:%Y-%m-%d}"
    )
    if not data["rows"]:
        console.print(f"{title}\n[dim]No clicks, visitors or payments in this range yet.[/dim]")
        return
    console.print(_headline(data["summary"]))
    table = Table(title=title)
    table.add_column(by, overflow="fold", max_width=40)
    for name in ("clicks", "visitors", "signups", "payments", "gross", "refunded", "net", "conv."):
        table.add_column(name, justify="right", no_wrap=True)
    for row in [*data["rows"], *data["totals"]]:
        rate = row["conversionRate"]
        table.add_row(
            row["label"],
            str(row["clicks"]),
            str(row["uniqueVisitors"] or ""),
            str(row["signups"]),
            f"{row['payments']:g}",
            row["gross"]["formatted"],
            row["refunded"]["formatted"],
            row["net"]["formatted"],
            f"{rate:.1%}" if rate is not None else "",
        )
    console.print(table)
    if data["note"]:
        console.print(f"[dim]{data['note']}[/dim]")


def _headline(data: dict[str, Any]) -> str:
    """The summary in one line: each figure with its change against the previous period."""
    from bantico.reports.present import headline

    parts = []
    for tile in headline(data):
        arrow = {"up": "▲", "down": "▼", "flat": "■"}.get(tile["direction"] or "", "")
        change = f" [dim]{arrow}{tile['change']}[/dim]" if tile["change"] else ""
        parts.append(f"{tile['label'].lower()} [bold]{tile['value']}[/bold]{change}")
    return " · ".join(parts)


@app.command()
def rollup(as_json: JsonFlag = False) -> None:
    """Bring the reports' rollups up to date now, e.g. after an upgrade of a large database
    (each server process also does it every few seconds; reports are exact either way)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from sqlalchemy import func, select

    from bantico.db import session_scope
    from bantico.reports.rollup import BATCH_EVENTS, catch_up, watermark
    from bantico.tracking.models import Event

    with database_factory() as factory:
        with session_scope(factory) as session:
            waiting = session.execute(
                select(func.count()).where(Event.id > watermark(session))
            ).scalar_one()
        total = 0
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as progress:
            task = progress.add_task("rolling up events", total=waiting)
            while True:
                read = catch_up(factory, max_batches=1)
                total += read
                progress.advance(task, read)
                if read < BATCH_EVENTS:
                    break
        with session_scope(factory) as session:
            last = watermark(session)
    if as_json:
        typer.echo(json.dumps({"events": total, "lastEventId": last}))
        return
    console.print(f"rolled up {total:,} events; the rollups now hold every event up to id {last}")
