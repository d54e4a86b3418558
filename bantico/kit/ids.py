"""Prefixed, URL-safe random identifiers (`lnk_…`, `clk_…`)."""

from __future__ import annotations

import re
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def random_string(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 16) -> str:
    return f"{prefix}_{random_string(length)}"


def is_client_id(value: str) -> bool:
    """Ids made by the loader in the browser: short, URL-safe, no surprises."""
    return bool(CLIENT_ID.match(value))
