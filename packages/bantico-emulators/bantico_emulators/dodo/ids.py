"""Dodo-shaped identifiers and timestamps.

Ids look like Dodo's (`pay_` + 21 base62 characters). They come from a non-cryptographic
generator on purpose: the emulator mints tens of thousands of them for backfill tests and
nothing here is a secret (signing secrets use `secrets`, see `records.new_signing_secret`).
"""

from __future__ import annotations

import os
import random
import string
from datetime import UTC, datetime

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_random = random.Random(os.urandom(16))


def new_id(prefix: str, length: int = 21) -> str:
    return f"{prefix}_{''.join(_random.choices(BASE62, k=length))}"


def message_id() -> str:
    # Svix message ids are 27-character KSUIDs, e.g. `msg_3H9MzzHVbSUwcrGphkKn687qiIZ`.
    return new_id("msg", 27)


def as_utc(moment: datetime) -> datetime:
    """Query filters may arrive without a zone; Dodo's clock is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 with microseconds and `Z`, as in real deliveries (`…T08:51:51.437789Z`)."""
    if moment is None:
        return None
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
