"""Every table, imported in one place for Alembic and the tests."""

from bantico.accounts.models import LoginFailure, LoginSession, SetupToken, User
from bantico.attribution.models import Attribution, Credit
from bantico.dashboard.models import DashboardJob
from bantico.db import Base
from bantico.ingest.cache_versions import CacheVersion
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.integrations.rate_limit import RateBucket
from bantico.kit.instance import InstanceFact
from bantico.kit.leases import Lease
from bantico.links.models import Campaign, Lead, Link
from bantico.payments.models import Dispute, Payment, PaymentSubscription, Refund
from bantico.projects.models import Project, SecretKey
from bantico.reports.models import RollupProgress, VisitorDay
from bantico.tracking.models import Event, ForeignId, Identity, Touch, Visitor, VisitSession

__all__ = [
    "Attribution",
    "Base",
    "CacheVersion",
    "Campaign",
    "Credit",
    "DashboardJob",
    "Dispute",
    "DodoIntegration",
    "Event",
    "ForeignId",
    "Identity",
    "InstanceFact",
    "Lead",
    "Lease",
    "Link",
    "LoginFailure",
    "LoginSession",
    "Payment",
    "PaymentSubscription",
    "Project",
    "RateBucket",
    "Refund",
    "RollupProgress",
    "SecretKey",
    "SetupToken",
    "Touch",
    "User",
    "VisitSession",
    "Visitor",
    "VisitorDay",
    "WebhookMessage",
]
