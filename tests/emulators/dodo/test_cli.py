"""`bantico-emulators dodo` and `python -m bantico_emulators.dodo`: the options reach the
emulator, whose keys and URLs are printed before it serves."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from bantico_emulators.cli import app
from bantico_emulators.dodo import TIER_2, cli
from bantico_emulators.dodo.state import TEST_KEY

runner = CliRunner()


def test_the_command_passes_its_options_and_prints_the_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}

    def run(app: Any, *, host: str, port: int, log_level: str) -> None:
        state = app.state.emulator
        served.update(host=host, port=port, options=state.options)

    monkeypatch.setattr(cli.uvicorn, "run", run)
    result = runner.invoke(
        app, ["dodo", "--port", "8911", "--rate-limit", "2", "--old-fields", "--time-scale", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8911)
    options = served["options"]
    assert (options.rate_limit, options.field_set, options.time_scale) == (TIER_2, "old", 0.5)
    assert "http://127.0.0.1:8911/test" in result.output and TEST_KEY in result.output
    # Prices in major units, not the API's cents labelled as dollars.
    assert "49.00 USD" in result.output and "4900 USD" not in result.output

    result = runner.invoke(app, ["dodo", "--rate-limit", "off"])
    assert result.exit_code == 0, result.output
    assert served["options"].rate_limit is None and "rate limits      off" in result.output
    assert runner.invoke(app, ["dodo", "--rate-limit", "3"]).exit_code == 2


@pytest.mark.parametrize("module", ["bantico_emulators", "bantico_emulators.dodo"])
def test_python_dash_m(module: str) -> None:
    args = ["--help"] if module.endswith("dodo") else ["dodo", "--help"]
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--rate-limit" in done.stdout and "--public-url" in done.stdout


def test_prices_are_shown_in_major_units() -> None:
    assert cli.price_words(4900, "USD") == "49.00 USD"
    assert cli.price_words(123456, "EUR") == "1,234.56 EUR"
    assert cli.price_words(5000, "JPY") == "5,000 JPY"
