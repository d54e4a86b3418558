"""`python -m bantico.dodo_emulator`: a local Dodo Payments for demos."""

from __future__ import annotations

import argparse

import uvicorn

from bantico.dodo_emulator.app import create_emulator
from bantico.dodo_emulator.options import EmulatorOptions
from bantico.dodo_emulator.ratelimit import TIERS
from bantico.dodo_emulator.state import INVALID_KEY, EmulatorState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bantico.dodo_emulator",
        description="Emulate Dodo Payments: API (test and live), hosted checkout and webhooks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--public-url", help="base of checkout URLs (default: the request's host)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply webhook retry delays, e.g. 0.01 for quick demos",
    )
    parser.add_argument(
        "--old-fields", action="store_true", help="send the older Payment field set in webhooks"
    )
    parser.add_argument(
        "--renewal-metadata",
        action="store_true",
        help="copy the subscription's metadata onto renewal payments",
    )
    parser.add_argument(
        "--rate-limit",
        choices=("0", "1", "2", "off"),
        default="0",
        help="Dodo's rate-limit tier: 0 is 40/s and 240/min (the default), 1 is 100/1,000, "
        "2 is 500/5,000",
    )
    parser.add_argument(
        "--max-page-number",
        type=int,
        default=50,
        help="answer 422 to a page_number above this (Dodo's cap is not published)",
    )
    args = parser.parse_args(argv)
    base = (args.public_url or f"http://{args.host}:{args.port}").rstrip("/")
    options = EmulatorOptions(
        public_url=args.public_url,
        time_scale=args.time_scale,
        field_set="old" if args.old_fields else "new",
        renewal_copies_metadata=args.renewal_metadata,
        rate_limit=None if args.rate_limit == "off" else TIERS[int(args.rate_limit)],
        max_page_number=args.max_page_number,
    )
    with EmulatorState(options) as state:
        print(describe(state, base), flush=True)
        uvicorn.run(create_emulator(state), host=args.host, port=args.port, log_level="info")


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
            f"    {product.product_id}  {product.name}: {product.price} {product.currency}{every}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
