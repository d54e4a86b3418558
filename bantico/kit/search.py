"""Searching text columns for what a person typed: anywhere in the value, in any case, and
with `%` and `_` meaning themselves (never SQL wildcards)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

MAX_QUERY = 200  # characters of a search kept; longer ones are cut


def like_pattern(text: str) -> str:
    """`text` anywhere, as a LIKE pattern with `\\` as the escape: `%` and `_` typed by the
    founder are themselves, not wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive: `column` contains `text` (no wildcards)."""
    return func.lower(column).like(like_pattern(text.lower()), escape="\\")
