"""`bantico-emulators dodo` (or `python -m bantico_emulators.dodo`): a local Dodo Payments."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
import uvicorn

from bantico_emulators.dodo.app import create_emulator
from bantico_emulators.dodo.options import EmulatorOptions
from bantico_emulators.dodo.ratelimit import TIERS
from bantico_emulators.dodo.state import INVALID_KEY, EmulatorState


class Tier(StrEnum):
    ZERO = "0"
    ONE = "1"
    TWO = "2"
    OFF = "off"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8900,
    public_url: Annotated[
        str | None, typer.Option(help="Base of checkout URLs (default: the request's host).")
    ] = None,
    time_scale: Annotated[
        float, typer.Option(help="Multiply webhook retry delays, e.g. 0.01 for quick demos.")
    ] = 1.0,
    old_fields: Annotated[
        bool, typer.Option("--old-fields", help="Send the older Payment field set in webhooks.")
    ] = False,
    renewal_metadata: Annotated[
        bool,
        typer.Option(
            "--renewal-metadata", help="Copy the subscription's metadata onto renewal payments."
        ),
    ] = False,
    rate_limit: Annotated[
        Tier,
        typer.Option(
            help="Dodo's rate-limit tier: 0 is 40/s and 240/min (the default), 1 is 100/1,000, "
            "2 is 500/5,000."
        ),
    ] = Tier.ZERO,
    max_page_number: Annotated[
        int,
        typer.Option(help="Answer 422 to a page_number above this (Dodo's cap is not published)."),
    ] = 50,
) -> None:
    """Emulate Dodo Payments: API (test and live), hosted checkout and webhooks."""
    base = (public_url or f"http://{host}:{port}").rstrip("/")
    options = EmulatorOptions(
        public_url=public_url,
        time_scale=time_scale,
        field_set="old" if old_fields else "new",
        renewal_copies_metadata=renewal_metadata,
        rate_limit=None if rate_limit is Tier.OFF else TIERS[int(rate_limit.value)],
        max_page_number=max_page_number,
    )
    with EmulatorState(options) as state:
        print(describe(state, base), flush=True)
        uvicorn.run(create_emulator(state), host=host, port=port, log_level="info")


# ISO 4217 currencies without a minor unit (Dodo's prices are in the smallest unit).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF"})


def price_words(amount: int, currency: str) -> str:
    """`4900` USD as `49.00 USD`: Dodo's prices are integers in the smallest unit."""
    if currency.upper() in ZERO_DECIMAL:
        return f"{amount:,} {currency}"
    return f"{amount / 100:,.2f} {currency}"


def describe(state: EmulatorState, base: str) -> str:
    lines = [
        "Dodo Payments emulator",
        f"  test base URL  {base}/test   (DodoPayments(base_url=...), like test.dodopayments.com)",
        f"  live base URL  {base}/live",
        f"  control API    {base}/_emulator   (docs at {base}/docs)",
        "  keys:",
    ]
    for key in state.keys.values():
        kind = "read-only" if key.read_only else "read-write"
        lines.append(f"    {key.mode} {kind:<10}  {key.key}")
    lines.append(f"    invalid (401)    {INVALID_KEY}")
    rule = state.options.rate_limit
    limits = f"{rule.per_second}/s, {rule.per_minute}/min per mode" if rule else "off"
    lines.append(f"  rate limits      {limits}   (counts at {base}/_emulator/requests)")
    lines.append("  products (both modes):")
    for product in state.ledger().products.values():
        every = f" / {product.interval.lower()}" if product.recurring else ""
        lines.append(
            f"    {product.product_id}  {product.name}: "
            f"{price_words(product.price, product.currency)}{every}"
        )
    return "\n".join(lines)
