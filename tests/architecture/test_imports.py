"""What importing a module loads: the tables alone must not pull in the web layer, the
dashboard's routes or the Dodo SDK (Alembic, the CLI and jobs import them); nothing but a
running `bantico demo` loads the emulators, which Bantico's wheel does not ship."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fastapi", "starlette", "dodopayments", "segno", "jinja2", "bantico.dashboard.routes")


def loaded_by(module: str) -> list[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_importing_the_models_loads_no_web_layer_no_routes_and_no_sdk() -> None:
    loaded = loaded_by("bantico.models")
    heavy = sorted(
        {
            name.split(".")[0] if not name.startswith("bantico") else name
            for name in loaded
            if name.startswith(HEAVY)
        }
    )
    assert heavy == []


def test_the_command_and_the_app_load_no_emulator() -> None:
    for module in ("bantico.cli", "bantico.app", "bantico.demo.command"):
        assert [name for name in loaded_by(module) if name.startswith("bantico_emulators")] == []
