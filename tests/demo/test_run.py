from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from typer.testing import CliRunner

from bantico.cli import app
from bantico.config import Settings
from bantico.demo.command import DEMO_DATABASE, NO_EMULATORS
from bantico.demo.run import demo_settings, local_url
from bantico_emulators.dodo.server import RunningEmulator


def test_the_demo_keeps_to_its_own_database_and_its_own_dodo() -> None:
    assert Settings.model_fields["database_url"].default != DEMO_DATABASE
    emulator = RunningEmulator(FastAPI(), "http://127.0.0.1:9999")
    settings = demo_settings(DEMO_DATABASE, "http://127.0.0.1:8000", emulator)
    assert settings.database_url == "sqlite:///./bantico-demo.db"
    assert settings.public_url == "http://127.0.0.1:8000"  # where the emulator's webhooks go
    assert (settings.dodo_test_url, settings.dodo_live_url) == (
        "http://127.0.0.1:9999/test",
        "http://127.0.0.1:9999/live",
    )
    assert settings.secret_key and len(settings.secret_key) >= 16


def test_local_url() -> None:
    assert local_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert local_url("192.168.1.5", 80) == "http://192.168.1.5:80"
    assert local_url("::1", 8000) == "http://[::1]:8000"


def test_the_command_is_registered() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "--fresh" in result.output and "--database-url" in result.output


def test_without_the_emulators_the_demo_says_how_to_install_them(tmp_path: Path) -> None:
    """As when only Bantico's wheel is installed: `bantico_emulators` cannot be imported."""
    code = (
        "import sys; sys.modules['bantico_emulators'] = None\n"
        "from bantico.cli import app\n"
        f"app(['demo', '--database-url', 'sqlite:///{tmp_path / 'demo.db'}'], prog_name='bantico')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"error: {NO_EMULATORS.format(python=sys.executable)}"]
    assert f"{sys.executable} -m pip install -e packages/bantico-emulators" in done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "demo.db").exists()
