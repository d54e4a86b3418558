from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from bantico.cli import app
from bantico.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str) -> Iterator[None]:
    monkeypatch.setenv("BANTICO_DATABASE_URL", database_url)
    monkeypatch.setenv("BANTICO_PUBLIC_URL", "https://go.example")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_project_and_links_from_the_terminal(cli_env: None) -> None:
    created = json.loads(run("project", "create", "Side project", "--json"))
    assert created["id"].startswith("prj_") and created["token"].startswith("btk_")
    assert created["secretKey"].startswith("bsk_")

    link = json.loads(
        run(
            "links",
            "create",
            "https://shop.example/pricing",
            "--campaign",
            "launch",
            "--source",
            "reddit",
            "--key",
            "rdt",
            "--project",
            created["id"],
            "--json",
        )
    )
    assert link["url"] == "https://go.example/l/rdt" and link["campaignId"] == "launch"
    listed = json.loads(run("links", "list", "--project", created["id"], "--json"))
    assert [item["id"] for item in listed] == [link["id"]]
    assert "rdt" in run("links", "list", "--project", created["id"])

    key = json.loads(run("project", "key", "--project", created["id"], "--json"))
    assert key["secretKey"].startswith("bsk_") and key["secretKey"] != created["secretKey"]


def test_cli_errors_are_plain(cli_env: None) -> None:
    run("project", "create", "P")
    bad = runner.invoke(app, ["links", "create", "mailto:a@b.c"])
    assert bad.exit_code == 2 and "http:// or https://" in bad.output
    missing = runner.invoke(app, ["links", "list", "--project", "prj_nope"])
    assert missing.exit_code == 1 and "no project prj_nope" in missing.output


def test_rollup_brings_the_reports_rollups_up_to_date(cli_env: None, engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, insert, select

    from bantico.reports.models import TrafficDay
    from bantico.tracking.models import Event

    project_id = json.loads(run("project", "create", "Shop", "--json"))["id"]
    # Received a minute ago: older than PostgreSQL's lag before the rollup reads them.
    at = datetime.now(UTC) - timedelta(minutes=1)
    with engine.begin() as connection:
        connection.execute(
            insert(Event),
            [
                {
                    "project_id": project_id,
                    "name": "page_view",
                    "visitor_id": f"v_{n}",
                    "occurred_at": at,
                    "received_at": at,
                    "source": "x",
                }
                for n in range(7)
            ],
        )
    assert json.loads(run("rollup", "--json"))["events"] == 7
    assert json.loads(run("rollup", "--json"))["events"] == 0
    assert "rolled up 0 events" in run("rollup")
    with engine.connect() as connection:
        visitors = connection.execute(
            select(func.sum(TrafficDay.visitors)).where(TrafficDay.dimension == "source")
        ).scalar()
    assert visitors == 7


@pytest.fixture
def no_public_url(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("BANTICO_PUBLIC_URL")
    monkeypatch.setenv("BANTICO_SECRET_KEY", "cli-test-secret-key")
    monkeypatch.setenv("BANTICO_DODO_SYNC_INTERVAL_SECONDS", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_short_urls_use_the_address_serve_really_has(
    no_public_url: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    run("project", "create", "P")
    first = run("links", "create", "https://shop.example/", "--key", "one")
    assert "http://127.0.0.1:8000/l/one" in first and "no server has run" in first
    assert "BANTICO_PUBLIC_URL" in first

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    assert "http://127.0.0.1:8123" in run("serve", "--port", "8123")
    made = json.loads(run("links", "create", "https://shop.example/", "--key", "two", "--json"))
    assert made["url"] == "http://127.0.0.1:8123/l/two"
    listed = run("links", "list")
    assert "http://127.0.0.1:8123/l/one" in listed and "where `bantico serve` last ran" in listed
    # Listening on every interface: shown as this machine reaches it.
    run("serve", "--host", "0.0.0.0", "--port", "9001")
    assert "http://127.0.0.1:9001/l/one" in run("links", "list")


def test_links_list_keeps_the_clicks_on_a_narrow_terminal(cli_env: None) -> None:
    run("project", "create", "P")
    long = "https://shop.example/" + "very-long-path/" * 8
    run("links", "create", long, "--key", "k1", "--campaign", "a-long-campaign-name")
    narrow = runner.invoke(app, ["links", "list"], terminal_width=80)
    assert narrow.exit_code == 0
    header = next(line for line in narrow.output.splitlines() if "short URL" in line)
    assert "clicks" in header and "https://go.example/l/k1" in narrow.output
    assert all(len(line) <= 80 for line in narrow.output.splitlines())


def test_an_empty_list_and_an_empty_report_say_so(cli_env: None) -> None:
    run("project", "create", "P")
    assert "No links yet" in run("links", "list")
    out = run("report", "--from", "yesterday")
    assert "No clicks, visitors or payments in this range yet." in out and "┃" not in out


def test_report_dates_accept_words_and_name_the_option_when_wrong(cli_env: None) -> None:
    from datetime import UTC, datetime, timedelta

    run("project", "create", "P")
    today = datetime.now(UTC).date()
    out = json.loads(run("report", "--from", "yesterday", "--to", "today", "--json"))
    assert (out["from"], out["to"]) == (
        f"{today - timedelta(days=1)}T00:00:00+00:00",
        f"{today}T00:00:00+00:00",
    )
    bad = runner.invoke(app, ["report", "--from", "last tuesday"])
    assert bad.exit_code == 2 and "--from 'last tuesday'" in bad.output
    assert "--since" not in bad.output
    bad = runner.invoke(app, ["dodo", "sync", "--since", "soon"])
    assert bad.exit_code == 2 and "--since 'soon'" in bad.output


def test_report_starts_with_the_headline_figures(cli_env: None, engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from bantico.db import make_sessionmaker, session_scope
    from bantico.integrations.dodo import payloads
    from bantico.payments import service
    from tests.integrations.dodo import support

    created = json.loads(run("project", "create", "P", "--json"))
    data = support.payment(
        "pay_cli", created_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat()
    )
    with session_scope(make_sessionmaker(engine)) as session:
        service.store_payment(session, created["id"], payloads.payment(data, "live"), via="webhook")
    out = runner.invoke(app, ["report", "--project", created["id"]], terminal_width=300).output
    assert "paying customers 1" in out and "net revenue" in out and "visitors 0" in out
    assert out.index("paying customers") < out.index("Revenue by campaign")
    summary = json.loads(run("report", "--project", created["id"], "--json"))["summary"]
    assert summary["figures"]["payingCustomers"]["value"] == 1
