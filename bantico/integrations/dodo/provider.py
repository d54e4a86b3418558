"""Dodo Payments as a `PaymentProvider` (bantico/integrations/provider.py): an API key, whose
mode is the host that accepts it; Standard Webhooks signatures; page-numbered lists."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.integrations import provider
from bantico.integrations.dodo import connect, endpoint, payloads, webhooks
from bantico.integrations.dodo.client import KINDS, DodoClient
from bantico.integrations.provider import Event, Kind, Probe, Record, Registration


class DodoApi:
    """One Dodo API key, through the official SDK (`DodoClient`), as a `ProviderClient`."""

    def __init__(self, client: DodoClient) -> None:
        self.client = client

    def probe(self) -> Probe:
        return self.client.probe()

    def register_webhook(self, url: str | None) -> Registration:
        return endpoint.register(self.client, url)

    def keep_webhook(self, url: str | None, current: Registration) -> Registration | None:
        return endpoint.upkeep(self.client, url, current)

    def page(
        self, kind: Kind, cursor: int, *, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        return self.client.page(kind, cursor, since=since, until=until)

    def read(self, kind: Kind, object_id: str) -> dict[str, Any] | None:
        return self.client.read(kind, object_id)

    def close(self) -> None:
        self.client.close()


class Dodo:
    name = payloads.PROVIDER
    kinds: tuple[Kind, ...] = KINDS

    def detect_mode(
        self, settings: Settings, credential: str, factory: sessionmaker[Session]
    ) -> str:
        return connect.detect_mode(settings, credential, factory)

    def open(
        self,
        settings: Settings,
        credential: str,
        mode: str,
        factory: sessionmaker[Session] | None = None,
    ) -> DodoApi:
        return DodoApi(connect.make_client(settings, credential, mode, factory=factory))

    def webhook_url(self, settings: Settings, project_id: str) -> str | None:
        return endpoint.webhook_url(settings, project_id)

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str]) -> None:
        webhooks.verify(secret, body, headers)

    def parse_event(self, body: bytes, mode: str) -> Event:
        event_type, data = webhooks.parse_envelope(body)
        return webhooks.to_event(event_type, data, mode)

    def parse_object(self, kind: Kind, data: dict[str, Any], mode: str) -> Record:
        return payloads.parse(kind, data, mode)


DODO: provider.PaymentProvider = Dodo()
