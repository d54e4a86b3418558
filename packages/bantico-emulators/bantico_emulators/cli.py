"""The `bantico-emulators` command: run a provider's emulator on a port."""

from __future__ import annotations

import typer

from bantico_emulators.dodo.cli import serve as dodo

app = typer.Typer(
    help="Local emulators of payment providers, for tests and demos.", no_args_is_help=True
)
app.command("dodo")(dodo)


@app.callback()
def _start() -> None:
    """Local emulators of payment providers, for tests and demos."""
