"""`bantico demo`: the server, an emulated Dodo Payments connected to it, and two months of
made-up history, so that a newcomer sees populated reports and explanations within a minute."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

DEMO_DATABASE = "sqlite:///./bantico-demo.db"
# The emulators are their own distribution (packages/bantico-emulators), not in Bantico's wheel;
# scripts/bootstrap installs them in a new .venv. Said with this environment's own Python.
NO_EMULATORS = (
    "`bantico demo` needs the emulators, which are not installed: in a checkout of Bantico, "
    "run {python} -m pip install -e packages/bantico-emulators"
)


def demo_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: Annotated[
        str, typer.Option(help="The demo's own database; never your ./bantico.db.")
    ] = DEMO_DATABASE,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Drop the demo project and generate a new history.")
    ] = False,
    visitors: Annotated[int, typer.Option(min=10, max=20_000, help="Visitors to make up.")] = 500,
    seed: Annotated[int, typer.Option(help="The same seed makes the same history.")] = 2026,
) -> None:
    """Start Bantico with an emulated Dodo Payments and 60 days of made-up history: tracked
    links, visits, signups, payments, renewals, refunds, a lost dispute. Stop with Ctrl-C."""
    from bantico.terminal import fail

    try:  # the server and the emulator: only when asked for
        from bantico.demo.run import run_demo
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "bantico_emulators":
            raise
        raise fail(NO_EMULATORS.format(python=sys.executable)) from None

    run_demo(host, port, database_url, fresh=fresh, visitors=visitors, seed=seed)
