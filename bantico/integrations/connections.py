"""What a project's connections to payment providers say about the project as a whole."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.integrations.dodo.models import DodoIntegration


def default_mode(session: Session, project_id: str) -> str:
    """The mode pages, reports and checks show first: the connected provider's (test or
    live), else live."""
    integration = session.get(DodoIntegration, project_id)
    return integration.mode if integration is not None else "live"
