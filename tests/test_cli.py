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
