from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, field_validator

from bantico.kit.schemas import ApiModel, Label, blank_to_none

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_destination(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            "destinationUrl must start with http:// or https:// "
            f"(got {parts.scheme or 'no'} scheme)"
        )
    if not parts.hostname:
        raise ValueError("destinationUrl needs a host, e.g. https://example.com/pricing")
    if len(url) > 2048:
        raise ValueError("destinationUrl is longer than 2048 characters")
    return url


def check_key(key: str | None) -> str | None:
    if key is not None and not KEY_PATTERN.match(key):
        raise ValueError(
            "key must be 1-64 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return key


class LinkCreate(ApiModel):
    destination_url: str
    campaign_id: Label
    source: Label
    medium: Label
    content: Label
    lead_id: Label
    key: Annotated[str | None, BeforeValidator(blank_to_none)] = None

    _destination = field_validator("destination_url")(check_destination)
    _key = field_validator("key")(check_key)


class LinkUpdate(ApiModel):
    """Fields to change; a field sent as null (or "") is cleared."""

    destination_url: str | None = None
    campaign_id: Label
    source: Label
    medium: Label
    content: Label
    lead_id: Label
    key: Annotated[str | None, BeforeValidator(blank_to_none)] = None

    @field_validator("destination_url")
    @classmethod
    def _destination(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("destinationUrl cannot be removed; archive the link instead")
        return check_destination(value)

    _key = field_validator("key")(check_key)


class Link(ApiModel):
    id: str
    key: str
    url: str
    destination_url: str
    campaign_id: str | None
    source: str | None
    medium: str | None
    content: str | None
    lead_id: str | None
    clicks: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class LinkList(ApiModel):
    items: list[Link]
    total: int  # the links matching the search, on every page
    next_offset: int | None  # pass as `offset` for the next page; null on the last one
