"""Every table, imported in one place for Alembic and the tests."""

from bantico.db import Base
from bantico.links.models import Campaign, Lead, Link
from bantico.projects.models import Project, SecretKey
from bantico.tracking.models import Event, Identity, Touch, Visitor, VisitSession

__all__ = [
    "Base",
    "Campaign",
    "Event",
    "Identity",
    "Lead",
    "Link",
    "Project",
    "SecretKey",
    "Touch",
    "VisitSession",
    "Visitor",
]
