"""Shared pieces of the JSON API's schemas: camelCase on the wire, strict about unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

# The attribution context a link, an event, a touch and a payment carry, in this order.
CONTEXT_FIELDS = ("link_id", "campaign_id", "source", "medium", "content", "lead_id")


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


def blank_to_none(value: object) -> object:
    """Empty strings mean absent (docs/product.md §2)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


Label = Annotated[
    Annotated[str, Field(max_length=200)] | None,
    BeforeValidator(blank_to_none),
    Field(default=None),
]
Url = Annotated[
    Annotated[str, Field(max_length=2048)] | None,
    BeforeValidator(blank_to_none),
    Field(default=None),
]
Email = Annotated[
    Annotated[str, Field(max_length=320)] | None,
    BeforeValidator(blank_to_none),
    Field(default=None),
]


def as_utc(value: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
