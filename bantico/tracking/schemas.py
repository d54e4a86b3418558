from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator

from bantico.kit.errors import Invalid
from bantico.kit.ids import is_client_id
from bantico.kit.schemas import ApiModel, Email, Label, Url, blank_to_none

EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:$-]{1,100}$")
SERVER_ONLY_EVENTS = {"link_clicked", "payment_completed"}
MAX_PROPS_BYTES = 8 * 1024


def _client_id(value: str | None) -> str | None:
    if value is not None and not is_client_id(value):
        raise ValueError("must be 8-64 letters, digits, '-' or '_'")
    return value


ClientId = Annotated[
    str | None, BeforeValidator(blank_to_none), AfterValidator(_client_id), Field(default=None)
]


def _event_name(value: str) -> str:
    if not EVENT_NAME.match(value):
        raise ValueError("event name must be 1-100 letters, digits or _ . : $ -")
    if value in SERVER_ONLY_EVENTS:
        raise ValueError(f"{value} is recorded by Bantico itself and cannot be sent")
    return value


EventName = Annotated[str, AfterValidator(_event_name)]


def _props(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value, default=str)) > MAX_PROPS_BYTES:
        raise ValueError(f"props must be at most {MAX_PROPS_BYTES} bytes of JSON")
    return value


Props = Annotated[dict[str, Any] | None, AfterValidator(_props)]


class Context(ApiModel):
    """The attribution context a visitor carries."""

    link_id: Label
    campaign_id: Label
    source: Label
    medium: Label
    content: Label
    lead_id: Label

    def is_empty(self) -> bool:
        # The fields' values, as `model_dump()` lists them, without building the dictionary
        # (asked for every loader event).
        return not any(getattr(self, name) for name in type(self).model_fields)


class Utm(ApiModel):
    source: Label
    medium: Label
    campaign: Label
    content: Label
    term: Label


class UserTraits(ApiModel):
    """What `identify()` says about the visitor; extra traits are kept."""

    model_config = ConfigDict(extra="allow")

    id: Label
    email: Email
    name: Label

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    def require_some(self) -> UserTraits:
        if not (self.id or self.email):
            raise Invalid("identify needs at least an id or an email")
        return self


class CollectIn(ApiModel):
    """One event from the loader (`POST /api/collect`, authenticated by the public token)."""

    token: str = Field(max_length=64)
    name: str = Field(max_length=100)
    visitor_id: ClientId
    session_id: ClientId
    url: Url
    referrer: Url
    click_id: Label
    link_id: Label
    utm: Utm | None = None
    context: Context | None = None
    props: Props = None
    user: UserTraits | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return value if value == "identify" else _event_name(value)


class EventIn(ApiModel):
    """A server-side event (`POST /api/v1/events`)."""

    name: EventName
    visitor_id: ClientId
    session_id: ClientId
    user_id: Label
    occurred_at: datetime | None = None
    url: Url
    context: Context | None = None
    props: Props = None


class IdentifyIn(ApiModel):
    """Tie a visitor to a known user (`POST /api/v1/identify`)."""

    visitor_id: ClientId
    id: Label
    email: Email
    name: Label
    traits: Props = None


class CollectOut(ApiModel):
    ok: bool = True
    context: Context | None = None


class LoaderConfig(ApiModel):
    pricing_path: str
    honour_gpc: bool
    window_days: int


class Accepted(ApiModel):
    ok: bool = True
    id: int | None = None


def normalise_email(email: str | None) -> str | None:
    """Emails match case- and whitespace-insensitively."""
    return email.strip().lower() if email and email.strip() else None
