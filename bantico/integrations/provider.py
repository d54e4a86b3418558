"""What a payment provider is to Bantico: one small interface that the Dodo integration
implements today and Stripe and Polar implement next.

A provider turns its own world into Bantico's provider-neutral records (`PaymentIn`,
`RefundIn`, `DisputeIn` from `bantico.payments.service`, and `Renewal`), and Bantico does the
rest the same way for all of them: store once, attribute, explain, report.

- **Connect**: `open` a client for a credential; `probe` it (a definite refusal rejects the
  credential, anything else leaves it unverified) and `detect_mode` tells test from live.
- **Webhooks**: the client's `register_webhook` creates or repairs Bantico's endpoint on the
  merchant's account and returns its signing secret; `verify` checks a delivery's signature
  on the raw body; `parse_event` turns a verified body into an `Event` of records.
- **Backfill and reconciliation**: the client's `page` lists one page of payments, refunds or
  disputes created in a time range, and `read` reads one object in full (a sparse webhook is
  completed this way). Every call of one credential shares one rate budget, across processes.

`apply` stores an event's records; it is the same code for every provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.payments import service as payments
from bantico.payments.models import Payment
from bantico.payments.service import DisputeIn, PaymentIn, RefundIn

Kind = Literal["payments", "refunds", "disputes"]
Probe = Literal["accepted", "rejected", "unverified"]


@dataclass(frozen=True)
class Renewal:
    """A subscription event naming the payment that carries its money: the money is stored
    from that payment, which must be known (or read)."""

    subscription_id: str | None
    provider_payment_id: str | None


Record = PaymentIn | RefundIn | DisputeIn | Renewal


@dataclass(frozen=True)
class Event:
    """One verified webhook delivery in Bantico's terms. `records` is empty for an event type
    Bantico does not use (acknowledged and kept)."""

    type: str
    records: tuple[Record, ...]


class Incomplete(Exception):
    """A payload names an object but lacks what Bantico needs: acknowledge the delivery and
    read the object by id (`ProviderClient.read`)."""

    def __init__(self, kind: str, object_id: str, missing: list[str]) -> None:
        super().__init__(f"{kind} {object_id} arrived without {', '.join(missing)}")
        self.kind, self.object_id, self.missing = kind, object_id, missing

    @property
    def fetch(self) -> str:
        return f"{self.kind}:{self.object_id}"


@dataclass(frozen=True)
class Registration:
    """What the integration records about its webhook endpoint on the merchant's account."""

    state: str  # "registered" or "polling_only"
    reason: str | None = None  # why it polls, in words for the founder
    endpoint_id: str | None = None
    url: str | None = None
    secret: str | None = None  # only when it changed


class ProviderClient(Protocol):
    """One credential's view of the provider's API; every call spends from the credential's
    rate budget, shared by every process through the database."""

    def probe(self) -> Probe:
        """A cheap authenticated read: only a definite refusal rejects the credential."""
        ...

    def register_webhook(self, url: str | None) -> Registration:
        """Create Bantico's endpoint at `url` (or bring the one there up to date) for every
        event that creates or moves money, and read its secret. Never raises for a refusal:
        the registration says why it polls instead."""
        ...

    def keep_webhook(self, url: str | None, current: Registration) -> Registration | None:
        """Repair the endpoint (deleted, moved, missing events): the new registration, or
        None when nothing changed."""
        ...

    def page(
        self, kind: Kind, cursor: int, *, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        """One page of the objects of `kind` created in [since, until], as the API gives
        them (`PaymentProvider.parse_object` makes records of them)."""
        ...

    def read(self, kind: Kind, object_id: str) -> dict[str, Any] | None:
        """One object in full, or None when the provider has no such object."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment provider Bantico attributes payments from."""

    name: str  # stored in every record's `provider` column
    kinds: tuple[Kind, ...]  # what its lists can backfill

    def detect_mode(
        self, settings: Settings, credential: str, factory: sessionmaker[Session]
    ) -> str:
        """ "test" or "live", from the credential; raises a 4xx error saying what to fix."""
        ...

    def open(
        self,
        settings: Settings,
        credential: str,
        mode: str,
        factory: sessionmaker[Session] | None = None,
    ) -> ProviderClient:
        """A client for the credential; with `factory`, within its shared rate budget."""
        ...

    def webhook_url(self, settings: Settings, project_id: str) -> str | None:
        """Where the provider should deliver the project's events (None without a public
        URL: payments then arrive by polling)."""
        ...

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise `Unauthorized` unless the raw body is signed with `secret`."""
        ...

    def parse_event(self, body: bytes, mode: str) -> Event:
        """A verified body as records; raises a 400 error for one Bantico cannot read and
        `Incomplete` for one that names an object without what Bantico needs."""
        ...

    def parse_object(self, kind: Kind, data: dict[str, Any], mode: str) -> Record:
        """An object of the API (a list item or a full read) as its record."""
        ...


def apply(session: Session, project_id: str, provider: str, event: Event) -> str:
    """Store `event`'s records, idempotently; returns what happened, in words. Raises
    `Incomplete` when an object must be read in full first."""
    outcomes = [_store(session, project_id, provider, event.type, r) for r in event.records]
    return "; ".join(outcomes) or "acknowledged; Bantico does not use this event type"


def _store(
    session: Session, project_id: str, provider: str, event_type: str, record: Record
) -> str:
    if isinstance(record, PaymentIn):
        payment = payments.store_payment(session, project_id, record, via="webhook")
        return f"payment {payment.provider_payment_id} stored ({payment.status})"
    if isinstance(record, RefundIn):
        refund = payments.store_refund(session, project_id, record)
        if refund.amount is None and refund.is_partial and refund.status == "succeeded":
            # A partial refund without its amount: kept, and read by id for the amount.
            raise Incomplete("refund", refund.provider_refund_id, ["amount"])
        return f"refund {refund.provider_refund_id} of {refund.provider_payment_id} stored"
    if isinstance(record, DisputeIn):
        dispute = payments.store_dispute(session, project_id, record)
        return f"dispute {dispute.provider_dispute_id} is {dispute.status}"
    if record.provider_payment_id is None:
        return f"{event_type} acknowledged; the money moves with its payment events"
    known = session.execute(
        select(Payment.id).where(
            Payment.project_id == project_id,
            Payment.provider == provider,
            Payment.provider_payment_id == record.provider_payment_id,
        )
    ).scalar_one_or_none()
    if known is None:
        raise Incomplete("payment", record.provider_payment_id, ["its payment event"])
    return f"{event_type}: payment {record.provider_payment_id} already stored"
