"""Every table, imported in one place for Alembic and the tests."""

from bantico.attribution.models import Attribution, Credit
from bantico.db import Base
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.leases import Lease
from bantico.links.models import Campaign, Lead, Link
from bantico.payments.models import Dispute, Payment, Refund
from bantico.projects.models import Project, SecretKey
from bantico.tracking.models import Event, Identity, Touch, Visitor, VisitSession

__all__ = [
    "Attribution",
    "Base",
    "Campaign",
    "Credit",
    "Dispute",
    "DodoIntegration",
    "Event",
    "Identity",
    "Lead",
    "Lease",
    "Link",
    "Payment",
    "Project",
    "Refund",
    "SecretKey",
    "Touch",
    "VisitSession",
    "Visitor",
    "WebhookMessage",
]
