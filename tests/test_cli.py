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
